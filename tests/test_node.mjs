#!/usr/bin/env node
// tests/test_node.mjs — sentiment.so from Node through better-sqlite3 12
// (installed into tests/node_modules by .ci/deps; it brings its own SQLite,
// newer than the system's). Loads the library as a Node user would and checks
// the golden labels and probabilities of both tiny models, and the errors.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const shared = process.env.SENTIMENT_SHARED || join(root, '..', 'shared');
let passed = 0, failed = 0, skipped = 0;
const check = (cond, what) => {
  if (cond) passed++;
  else { failed++; console.log(`FAIL test_node: ${what}`); }
};
const skip = (why) => { skipped++; console.log(`SKIP test_node: ${why}`); };
// A skip for want of ../shared: a failure when SENTIMENT_REQUIRE_SHARED=1 (CI).
const skipShared = (why) =>
  process.env.SENTIMENT_REQUIRE_SHARED === '1' ? check(false, `${why} (SENTIMENT_REQUIRE_SHARED=1)`) : skip(why);
const report = () => {
  console.log(`test_node: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
  process.exit(failed ? 1 : 0);
};

let Database;
try {
  Database = createRequire(join(here, 'package.json'))('better-sqlite3');
} catch (e) {
  skip(`better-sqlite3 is not installed in tests/node_modules (run bash .ci/deps): ${e.message}`);
  report();
}
delete process.env.SENTIMENT_MODEL;

const db = new Database(':memory:');
db.loadExtension(join(root, 'sentiment.so'));
check(/^\d+\.\d+\.\d+ \((model sha256:[0-9a-f]{16}|no embedded model)\)$/.test(
  db.prepare('SELECT sentiment_version() AS v').get().v), 'version');
check(db.prepare('SELECT sentiment(NULL) AS v').get().v === null, 'NULL in, NULL out');
try {
  db.prepare("SELECT sentiment('x', 'nope')").get();
  check(false, 'unknown model: no error');
} catch (e) {
  check(e.message === "sentiment(): no model named 'nope' (see SELECT name FROM sentiment_models)",
        `unknown model error: ${e.message}`);
}

const models = join(shared, 'golden', 'models');
if (!existsSync(models)) {
  skipShared(`no shared folder at ${shared}: golden checks skipped`);
  report();
}
for (const name of ['tiny-distilbert', 'tiny-bert']) {
  const folder = join(models, name);
  db.prepare('INSERT INTO sentiment_models(name, path) VALUES (?, ?)').run(name, folder);
  const labels = JSON.parse(db.prepare('SELECT labels FROM sentiment_models WHERE name = ?').get(name).labels);
  const rows = readFileSync(join(folder, 'expected.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
  const score = db.prepare('SELECT sentiment(@t, @m) AS label, sentiment_score(@t, @m) AS score, ' +
                           'sentiment_scores(@t, @m) AS scores');
  let badLabel = 0, badProb = 0;
  for (const r of rows) {
    const got = score.get({ t: r.text, m: name });
    const scores = JSON.parse(got.scores);
    if (got.label !== r.label) badLabel++;
    if (Math.abs(got.score - r.probs[1]) > 1e-4 ||
        labels.some((l, i) => Math.abs(scores[l] - r.probs[i]) > 1e-4)) badProb++;
  }
  check(badLabel === 0, `${name}: ${badLabel} of ${rows.length} labels differ`);
  check(badProb === 0, `${name}: ${badProb} of ${rows.length} texts have a probability off by > 1e-4`);
}
const toks = db.prepare("SELECT token, start, end FROM sentiment_tokens('I loved it', 'tiny-bert')").all();
check(JSON.stringify(toks.map(t => t.token)) === '["[CLS]","i","loved","it","[SEP]"]' &&
      toks[0].start === null && toks[2].start === 2 && toks[2].end === 7,
      `sentiment_tokens rows: ${JSON.stringify(toks)}`);
// The JSON results keep their JSON subtype on a newer SQLite too.
check(db.prepare("SELECT json_type(json_object('s', sentiment_scores('ok', 'tiny-bert')), '$.s') AS t").get().t
      === 'object', 'sentiment_scores nests as a JSON object');
db.close();
report();
