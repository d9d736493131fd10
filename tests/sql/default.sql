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
