-- needs: shared
-- sentiment_tokens: rows, byte offsets, specials, truncation, use in joins.
.load ./sentiment
.headers on
.nullvalue NULL
INSERT INTO sentiment_models(name, path) VALUES ('m', '$SHARED/golden/models/tiny-bert');
SELECT pos, id, token, start, end FROM sentiment_tokens('I loved this movie!', 'm');
-- Offsets are bytes of the UTF-8 input: "Naïve café" has 2-byte letters.
SELECT pos, id, token, start, end FROM sentiment_tokens('Naïve café', 'm');
SELECT pos, token, start, end, CAST(substr(CAST('Don’t waste…' AS BLOB), start + 1, end - start) AS TEXT) AS piece
FROM sentiment_tokens('Don’t waste…', 'm');
-- Special tokens typed in the text are matched (as HuggingFace does).
SELECT group_concat(id, ' ') AS ids FROM sentiment_tokens('hello [SEP] world', 'm');
-- The hidden columns give the arguments back.
SELECT DISTINCT text, model FROM sentiment_tokens('hi', 'm');
-- In a join: one row per token per review.
CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT);
INSERT INTO reviews(text) VALUES ('Great!'), ('Not great.'), (NULL), ('');
SELECT r.id, count(t.pos) AS n_tokens FROM reviews r LEFT JOIN sentiment_tokens(r.text, 'm') t
GROUP BY r.id ORDER BY r.id;
SELECT r.id, group_concat(t.token, ' ') AS tokens FROM reviews r, sentiment_tokens(r.text, 'm') t
GROUP BY r.id ORDER BY r.id;
