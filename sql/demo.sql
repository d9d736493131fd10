-- sql/demo.sql — a tour of the extension on the embedded default model.
--
--   make demo            (= sqlite3 :memory: < sql/demo.sql)
--
-- Set SENTIMENT_MODEL=/path/to/model/folder to run it on another model.
.load ./sentiment
.mode box
.headers on

CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT);
INSERT INTO reviews(text) VALUES
  ('A masterpiece. The acting, the score, the photography: I loved every minute of it.'),
  ('Two hours of my life I will never get back. Dull, predictable and badly acted.'),
  ('The first half drags, but the ending more than makes up for it.'),
  ('I wanted to like this film, but it is a mess.'),
  ('An absolute joy from start to finish; the whole family laughed.'),
  ('Worst. Movie. Ever.');

-- The label, the probability of "positive", and every label's probability.
SELECT id, text, sentiment(text) AS label, round(sentiment_score(text), 3) AS score
FROM reviews;

SELECT id, sentiment_scores(text) AS scores, sentiment_logits(text) AS logits
FROM reviews WHERE id <= 2;

-- What the model sees: WordPiece tokens with their byte offsets in the text.
SELECT pos, id, token, start, end FROM sentiment_tokens('Unwatchable, yet strangely charming!');

-- The models this connection knows, and the library version.
SELECT name, path, model_type, labels, n_layers, dim, max_length, loaded
FROM sentiment_models;
SELECT sentiment_version() AS version;
