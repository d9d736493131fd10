-- needs: shared
-- What goes in: NULL, numbers, blobs, empty, whitespace, NUL bytes, huge texts.
.load ./sentiment
.headers on
.nullvalue NULL
INSERT INTO sentiment_models(name, path) VALUES ('m', '$SHARED/golden/models/tiny-distilbert');
SELECT sentiment(NULL, 'm') AS a, sentiment_score(NULL, 'm') AS b,
       sentiment_scores(NULL, 'm') AS c, sentiment_logits(NULL, 'm') AS d;
-- Numbers are scored as their text; a blob as the text of its bytes.
SELECT sentiment_logits(42, 'm') = sentiment_logits('42', 'm') AS int_as_text,
       sentiment_logits(2.5, 'm') = sentiment_logits('2.5', 'm') AS real_as_text,
       sentiment_logits(x'68656c6c6f', 'm') = sentiment_logits('hello', 'm') AS blob_as_text;
SELECT group_concat(token, ' ') AS tokens_of_42 FROM sentiment_tokens(42, 'm');
-- The empty text is [CLS] [SEP], as HuggingFace scores it; so is whitespace.
SELECT pos, id, token, start, end FROM sentiment_tokens('', 'm');
SELECT sentiment_logits('', 'm') = sentiment_logits(' ' || char(9, 10), 'm') AS blank_same;
-- A NUL byte inside the text is part of it (as the golden "null\x00byte").
SELECT group_concat(token, ' ') AS tokens FROM sentiment_tokens('null' || char(0) || 'byte', 'm');
-- Over the limit: the first 510 pieces are kept, never an error. 200,000
-- words (1.2 MB) give the same logits as their first 510.
CREATE TABLE huge AS SELECT replace(hex(zeroblob(200000)), '00', 'good. ') AS t;
SELECT length(t) AS bytes FROM huge;
SELECT count(*) AS n, max(pos) AS last_pos, max(end) AS last_end
FROM huge, sentiment_tokens(huge.t, 'm');
SELECT token FROM huge, sentiment_tokens(huge.t, 'm') WHERE pos IN (509, 510, 511);
SELECT sentiment_logits(t, 'm') = sentiment_logits(substr(t, 1, 255 * 6), 'm') AS truncated_same,
       sentiment_logits(t, 'm') <> sentiment_logits(substr(t, 1, 254 * 6), 'm') AS shorter_differs
FROM huge;
-- Results are JSON: the scores sum to 1; scores nest as objects in json_object.
SELECT json_valid(sentiment_scores('ok', 'm')) AS valid_scores,
       json_valid(sentiment_logits('ok', 'm')) AS valid_logits,
       json_array_length(sentiment_logits('ok', 'm')) AS n_logits,
       abs((SELECT sum(value) FROM json_each(sentiment_scores('ok', 'm'))) - 1) < 1e-6 AS sums_to_1,
       json_type(json_object('s', sentiment_scores('ok', 'm')), '$.s') AS nested_type;
SELECT typeof(sentiment_score('ok', 'm')) AS score_type,
       sentiment_score('ok', 'm') BETWEEN 0 AND 1 AS in_range,
       abs(sentiment_score('ok', 'm') - (sentiment_scores('ok', 'm') ->> '$.POSITIVE')) < 1e-8 AS is_positive_prob;
