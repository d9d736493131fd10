-- needs: shared
-- Every text of the golden files through both tiny models: the label, every
-- probability and logit within 1e-4 of the float64 reference, the token ids.
.load ./sentiment
.headers on
.mode list
INSERT INTO sentiment_models(name, path) VALUES
  ('tiny-distilbert', '$SHARED/golden/models/tiny-distilbert'),
  ('tiny-bert', '$SHARED/golden/models/tiny-bert');
-- One JSON line per row (ASCII mode: no quoting, a separator no line holds).
CREATE TABLE golden(line TEXT, model TEXT);
CREATE TABLE jsonl(line TEXT);
.mode ascii
.separator "\037" "\n"
.import $SHARED/golden/models/tiny-distilbert/expected.jsonl jsonl
-- SQLite 3.40's JSON functions stop a string at an escaped NUL (\u0000), so
-- the texts holding one are left to the Python and Node tests.
INSERT INTO golden SELECT line, 'tiny-distilbert' FROM jsonl WHERE instr(line, '\u0000') = 0;
DELETE FROM jsonl;
.import $SHARED/golden/models/tiny-bert/expected.jsonl jsonl
INSERT INTO golden SELECT line, 'tiny-bert' FROM jsonl WHERE instr(line, '\u0000') = 0;
.mode list
.separator "|" "\n"
CREATE TABLE got AS
  SELECT rowid AS id, model, line ->> '$.text' AS text, line ->> '$.label' AS label,
         line -> '$.probs' AS probs, line -> '$.logits' AS logits, line -> '$.ids' AS ids,
         sentiment(line ->> '$.text', model) AS got_label,
         sentiment_score(line ->> '$.text', model) AS got_score,
         sentiment_scores(line ->> '$.text', model) AS got_scores,
         sentiment_logits(line ->> '$.text', model) AS got_logits
  FROM golden;
-- A text's number of tokens, its ids in order (the vtab yields them by pos).
CREATE TABLE got_ids AS
  SELECT g.id, json_group_array(t.id) AS ids
  FROM got g, sentiment_tokens(g.text, g.model) t GROUP BY g.id;
SELECT model, count(*) AS texts,
       sum(got_label IS NOT label) AS label_mismatches,
       sum(abs(got_score - (probs ->> '$[1]')) > 1e-4) AS score_mismatches,
       sum(length(text) > 2000) AS long_texts
FROM got GROUP BY model ORDER BY model;
-- Every label's probability from sentiment_scores(), by the model's labels.
SELECT g.model, count(*) AS probs_checked,
       sum(abs((g.got_scores ->> ('$."' || l.value || '"')) - (g.probs ->> ('$[' || l.key || ']'))) > 1e-4)
         AS prob_mismatches
FROM got g, sentiment_models m, json_each(m.labels) l
WHERE m.name = g.model GROUP BY g.model ORDER BY g.model;
SELECT g.model, count(*) AS logits_checked,
       sum(abs(a.value - b.value) > 1e-4) AS logit_mismatches,
       max(abs(a.value - b.value)) < 1e-4 AS all_within_1e4
FROM got g, json_each(g.got_logits) a, json_each(g.logits) b
WHERE a.key = b.key GROUP BY g.model ORDER BY g.model;
SELECT g.model, count(*) AS id_lists, sum(i.ids IS NOT json(g.ids)) AS id_mismatches
FROM got g JOIN got_ids i USING (id) GROUP BY g.model ORDER BY g.model;
-- The first few disagreements, if any (none expected).
SELECT 'mismatch', model, id, substr(text, 1, 40), label, got_label FROM got
WHERE got_label IS NOT label OR abs(got_score - (probs ->> '$[1]')) > 1e-4 LIMIT 5;
-- Both models were loaded once each.
SELECT name, model_type, labels, loaded, loads FROM sentiment_models
WHERE name <> 'default' ORDER BY rowid;
