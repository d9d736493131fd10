-- needs: shared
-- sentiment_models: register, list, load lazily, share, replace, drop.
.load ./sentiment
.headers on
.nullvalue NULL
INSERT INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-distilbert');
INSERT INTO sentiment_models(name, path) VALUES ('b', '$SHARED/golden/models/tiny-bert');
-- Registering reads config.json only: the columns are there, nothing is loaded.
SELECT name, path, model_type, labels, n_layers, dim, vocab_size, max_length, loaded, loads
FROM sentiment_models WHERE name <> 'default';
SELECT sentiment('a fine film', 'b') IN ('negative', 'positive') AS ok;
SELECT name, loaded, loads FROM sentiment_models WHERE name IN ('d', 'b');
-- The same folder under another name (through a symlink) shares the loaded model.
INSERT INTO sentiment_models(name, path) VALUES ('b2', '$TMP/link-to-tiny-bert');
SELECT path = (SELECT path FROM sentiment_models WHERE name = 'b') AS same_realpath,
       loaded, loads FROM sentiment_models WHERE name = 'b2';
SELECT sentiment_logits('a fine film', 'b2') = sentiment_logits('a fine film', 'b') AS same;
SELECT name, loads FROM sentiment_models WHERE name IN ('b', 'b2');
-- A name is unique; INSERT OR REPLACE re-points it.
INSERT INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-bert');
INSERT OR REPLACE INTO sentiment_models(name, path) VALUES ('d', '$SHARED/golden/models/tiny-bert');
SELECT name, model_type FROM sentiment_models WHERE name = 'd';
SELECT sentiment_scores('a fine film', 'd') = sentiment_scores('a fine film', 'b') AS same;
-- Model folders that are not usable: each error names the file and the cause.
INSERT INTO sentiment_models(name, path) VALUES ('no-weights', '$TMP/no-weights');
SELECT sentiment('text', 'no-weights');
SELECT * FROM sentiment_tokens('text', 'no-weights');
INSERT INTO sentiment_models(name, path) VALUES ('pytorch-only', '$TMP/pytorch-only');
SELECT sentiment_score('text', 'pytorch-only');
INSERT INTO sentiment_models(name, path) VALUES ('bad-config', '$TMP/bad-config');
INSERT INTO sentiment_models(name, path) VALUES ('bad-weights', '$TMP/bad-weights');
SELECT sentiment_logits('text', 'bad-weights');
INSERT INTO sentiment_models(name, path) VALUES ('bad-vocab', '$TMP/bad-vocab');
SELECT sentiment_scores('text', 'bad-vocab');
SELECT name, loaded, loads FROM sentiment_models WHERE name LIKE 'bad%' OR name LIKE '%only' OR name = 'no-weights';
-- Drop a name; a statement still reading its tokens keeps its model.
DELETE FROM sentiment_models WHERE name IN ('no-weights', 'pytorch-only', 'bad-weights', 'bad-vocab');
DELETE FROM sentiment_models WHERE name = 'b2';
SELECT name FROM sentiment_models ORDER BY rowid;
SELECT sentiment('text', 'b2');
SELECT count(*) AS tokens_after_delete FROM sentiment_tokens('a fine film', 'b') t
WHERE (SELECT count(*) FROM sentiment_models WHERE name = 'b') = 1;
-- Labels that JSON must escape come out as valid JSON, in the listing and the scores.
INSERT INTO sentiment_models(name, path) VALUES ('odd', '$TMP/odd-labels');
SELECT labels, json_valid(labels) FROM sentiment_models WHERE name = 'odd';
SELECT json_valid(s) AS valid, (SELECT json_group_array(key) FROM json_each(s)) AS labels,
       (SELECT round(sum(value), 6) FROM json_each(s)) AS total
FROM (SELECT sentiment_scores('a fine film', 'odd') AS s);
