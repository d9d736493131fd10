-- needs: shared
-- Function flags in use: deterministic (indexes, generated columns) and
-- innocuous (usable by the schema even with trusted_schema=OFF); the registry
-- is direct-only.
.load ./sentiment
.headers on
PRAGMA trusted_schema = OFF;
INSERT INTO sentiment_models(name, path) VALUES ('m', '$SHARED/golden/models/tiny-bert');
CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT,
  label TEXT GENERATED ALWAYS AS (sentiment(text, 'm')) VIRTUAL);
INSERT INTO reviews(text) VALUES ('I loved this movie!'), ('Worst. Movie. Ever.'),
  ('10/10 would watch again!!!'), ('$5.99 (cheap)');
CREATE INDEX reviews_sentiment ON reviews(sentiment(text, 'm'));
CREATE INDEX reviews_pos ON reviews(id) WHERE sentiment_score(text, 'm') > 0.5;
CREATE VIEW scored AS SELECT id, sentiment_scores(text, 'm') AS scores FROM reviews;
CREATE VIEW tokens AS SELECT r.id, t.token FROM reviews r, sentiment_tokens(r.text, 'm') t;
CREATE VIEW why AS SELECT r.id, e.word FROM reviews r, sentiment_explain(r.text, 'm') e;
CREATE INDEX reviews_highlight ON reviews(sentiment_highlight(text, 'm', 'html'));
SELECT id, label, label = sentiment(text, 'm') AS same FROM reviews ORDER BY id;
-- The planner uses the expression index.
EXPLAIN QUERY PLAN SELECT id FROM reviews WHERE sentiment(text, 'm') = 'negative';
SELECT id FROM reviews WHERE sentiment(text, 'm') = 'negative' ORDER BY id;
SELECT count(*) AS n_scored FROM scored;
SELECT count(*) AS n_tokens FROM tokens;
SELECT count(*) AS n_words FROM why;
PRAGMA integrity_check;
-- sentiment_models: not from a view or a trigger.
CREATE VIEW models AS SELECT name FROM sentiment_models;
SELECT * FROM models;
