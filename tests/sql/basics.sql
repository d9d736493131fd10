-- The SQL surface without any model file: version, the registry, NULLs, errors.
.load ./sentiment
.headers on
.nullvalue NULL
SELECT sentiment_version() GLOB '[0-9]*.[0-9]*.[0-9]*' AS version_ok;
-- 'default' is listed; loading the extension read no model.
SELECT name, path, loaded, loads FROM sentiment_models;
-- NULL in, NULL out (the model argument too), without touching a model.
SELECT sentiment(NULL) AS a, sentiment_score(NULL) AS b, sentiment_scores(NULL) AS c,
       sentiment_logits(NULL) AS d, sentiment('text', NULL) AS e,
       sentiment(NULL, 'no such model') AS f;
SELECT count(*) AS n_tokens FROM sentiment_tokens(NULL);
SELECT loaded FROM sentiment_models WHERE name = 'default';
-- Errors: each names the function and the cause.
SELECT sentiment('text', 'x');
SELECT sentiment_score('text', 'x');
SELECT sentiment_scores('text', 'x');
SELECT sentiment_logits('text', 'x');
SELECT * FROM sentiment_tokens('text', 'x');
SELECT * FROM sentiment_tokens;
SELECT sentiment();
SELECT sentiment('a', 'b', 'c');
INSERT INTO sentiment_models(name, path) VALUES ('x', '/nonexistent/model');
INSERT INTO sentiment_models(name, path) VALUES ('x', '/etc/hostname');
INSERT INTO sentiment_models(name, path) VALUES ('x', '$TMP');
INSERT INTO sentiment_models(name, path) VALUES ('x', NULL);
INSERT INTO sentiment_models(name, path) VALUES ('', '/tmp');
INSERT INTO sentiment_models(name, path, dim) VALUES ('x', '/tmp', 8);
UPDATE sentiment_models SET path = '/tmp' WHERE name = 'default';
-- The registry cannot be reached from a view or a trigger (DIRECTONLY).
CREATE VIEW models AS SELECT name FROM sentiment_models;
SELECT * FROM models;
CREATE TABLE t(x);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
  INSERT INTO sentiment_models(name, path) VALUES ('evil', new.x);
END;
INSERT INTO t VALUES ('/tmp');
SELECT name FROM sentiment_models;
-- precision is f32 (the default) or int8; anything else names both.
SELECT name, precision FROM sentiment_models;
INSERT INTO sentiment_models(name, path, precision) VALUES ('q', '/tmp', 'fp16');
-- 'default' can be dropped; then it is unknown like any other name.
DELETE FROM sentiment_models WHERE name = 'default';
SELECT count(*) AS n_models FROM sentiment_models;
SELECT sentiment('text');
