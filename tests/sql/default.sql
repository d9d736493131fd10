-- needs: default
-- The embedded default model: loaded by the first call, labels negative/positive.
.load ./sentiment
.headers on
.nullvalue NULL
SELECT name, path, model_type, labels, max_length, loaded FROM sentiment_models;
SELECT sentiment('An absolute joy from start to finish.') IN ('negative', 'positive') AS label_ok,
       sentiment_score('An absolute joy from start to finish.') BETWEEN 0 AND 1 AS score_ok,
       json_array_length(sentiment_logits('Dull.')) AS n_logits;
SELECT sentiment('Dull.') = sentiment('Dull.', 'default') AS same;
SELECT name, loaded, loads FROM sentiment_models;
SELECT count(*) > 2 AS has_tokens FROM sentiment_tokens('An absolute joy.');
-- The embedded bytes are the files: the same logits as models/default read as a folder.
INSERT INTO sentiment_models(name, path) VALUES ('file', 'models/default');
SELECT count(*) AS texts, sum(sentiment_logits(t) = sentiment_logits(t, 'file')) AS same_logits
FROM (SELECT 'Dull.' AS t UNION ALL SELECT 'A masterpiece. I loved every minute of it.'
      UNION ALL SELECT '' UNION ALL SELECT replace(hex(zeroblob(400)), '00', 'so so '));
-- A trained sentiment model, not noise: two reviews nobody could misread.
SELECT sentiment('A masterpiece. I loved every minute of it.') AS clear_positive,
       sentiment('Worst movie ever. Terrible acting and a boring, stupid plot.') AS clear_negative;
