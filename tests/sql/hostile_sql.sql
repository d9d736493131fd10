-- needs: shared
-- SQL that once crashed, hung or answered wrongly (docs/reliability.md, "Hostile SQL").
.load ./sentiment
.headers on
.nullvalue NULL
INSERT INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-distilbert');
-- A query that runs itself through sentiment_scan: an error, not a stack overflow.
SELECT key, label FROM sentiment_scan(replace('SELECT key, label FROM sentiment_scan(replace(@, char(64), quote(@)))', char(64), quote('SELECT key, label FROM sentiment_scan(replace(@, char(64), quote(@)))')));
-- INSERT OR IGNORE keeps a name as it is; plain INSERT of a name there is an error.
INSERT OR IGNORE INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-bert');
SELECT name, model_type FROM sentiment_models WHERE name = 'd';
INSERT INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-bert');
-- A NULL model: no rows (as sentiment(text, NULL) is NULL).
SELECT count(*) AS n FROM sentiment_scan('SELECT 1, ''fine''', NULL);
SELECT count(*) AS n FROM sentiment_scan('SELECT 1, ''fine''', 'd');
-- sentiment_progress: the setting, and what it accepts.
SELECT sentiment_progress('yes') AS on_, sentiment_progress('OFF') AS off_;
SELECT sentiment_progress(2);
