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
-- A table named sentiment_models in the database hides the registry: the
-- INSERT goes into it, and every function that uses a model says so.
DELETE FROM sentiment_models WHERE name = 'd';
CREATE TABLE sentiment_models(name, path);
INSERT INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-bert');
SELECT sentiment('a fine film', 'd');
SELECT sentiment_score('a fine film');
SELECT count(*) FROM sentiment_scan('SELECT 1, ''fine''');
SELECT count(*) FROM sentiment_tokens('fine');
DROP TABLE sentiment_models;
SELECT sentiment('a fine film', 'd');
-- In an attached database, and as a temporary view: the same.
ATTACH ':memory:' AS other;
CREATE TABLE other.sentiment_models(name, path);
SELECT sentiment_score('a fine film');
DETACH other;
CREATE TEMP VIEW sentiment_models AS SELECT 'd' AS name;
SELECT sentiment_score('a fine film') > 0 AS ok;
-- sentiment_register() cannot be hidden; a connection that uses it is not checked.
SELECT sentiment_register('d', '$SHARED/golden/models/tiny-bert') AS path;
SELECT sentiment('a fine film', 'd') IS NOT NULL AS ok, sentiment_score('a fine film') > 0 AS ok2;
SELECT sentiment_register('d', '$SHARED/golden/models/tiny-distilbert') = '$SHARED/golden/models/tiny-distilbert' AS replaced;
SELECT sentiment_unregister('d') AS dropped, sentiment_unregister('d') AS again;
SELECT sentiment('a fine film', 'd');
SELECT sentiment_register('x', NULL);
SELECT sentiment_register('x', '/nonexistent');
SELECT sentiment_register('x', '$SHARED/golden/models/tiny-distilbert', 'f16');
SELECT sentiment_register('d8', '$SHARED/golden/models/tiny-distilbert', 'int8') IS NOT NULL AS ok;
SELECT sentiment('a fine film', 'd8') IS NOT NULL AS ok;
DROP VIEW sentiment_models;
SELECT name, precision FROM sentiment_models;
