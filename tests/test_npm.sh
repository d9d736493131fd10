#!/usr/bin/env bash
# tests/test_npm.sh — the npm package (make npm-pack) installed from its
# tarball into a temporary project (npm install --offline), then used with
# better-sqlite3 (the one .ci/deps puts in tests/node_modules): load(db),
# getLoadablePath() inside the installed package, the golden texts of both
# tiny models, and a scan run in a worker_threads Worker while the main
# thread's timer keeps ticking (the README's advice), against the same scan
# on the main thread, which blocks it.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=test_npm
. tests/shcheck.sh
VERSION=$(cat VERSION)
TGZ=dist/sqlite-sentiment-$VERSION.tgz
[ -f "$TGZ" ] || { fail "$TGZ is missing (make npm-pack)"; finish; }
[ -d tests/node_modules/better-sqlite3 ] || { skip "better-sqlite3 is not in tests/node_modules (bash .ci/deps)"; finish; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/proj"
echo '{"name": "t", "version": "1.0.0", "private": true}' > "$T/proj/package.json"
if ! (cd "$T/proj" && npm install --offline --ignore-scripts --no-audit --no-fund --silent "$ROOT/$TGZ") >"$T/log" 2>&1; then
  fail "npm install $TGZ failed: $(tail -5 "$T/log")"; finish
fi
ok
cat > "$T/proj/check.mjs" <<'JS'
import { createRequire } from 'node:module';
import { readFileSync, existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
const [root, shared, version] = process.argv.slice(2);
const require = createRequire(join(process.cwd(), 'package.json'));
const sentiment = require('sqlite-sentiment');        // from this project's node_modules
const Database = createRequire(join(root, 'tests', 'package.json'))('better-sqlite3');
let passed = 0, failed = 0, skipped = 0;
const check = (c, what) => { if (c) passed++; else { failed++; console.log(`FAIL test_npm: ${what}`); } };
const p = sentiment.getLoadablePath();
check(realpathSync(p) === realpathSync(join(process.cwd(), 'node_modules', 'sqlite-sentiment', 'lib', 'sentiment.so')),
      `getLoadablePath() = ${p}`);
const db = new Database(':memory:');
sentiment.load(db);
const v = db.prepare('SELECT sentiment_version() AS v').get().v;
check(v.split(' ')[0] === version, `sentiment_version() = ${v}, VERSION ${version}`);
const models = join(shared, 'golden', 'models');
if (existsSync(models)) {
  let bad = 0, total = 0;
  for (const name of ['tiny-distilbert', 'tiny-bert']) {
    db.prepare('INSERT INTO sentiment_models(name, path) VALUES (?, ?)').run(name, join(models, name));
    const q = db.prepare('SELECT sentiment(?, ?) AS label, sentiment_score(?, ?) AS p');
    for (const line of readFileSync(join(models, name, 'expected.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line), got = q.get(r.text, name, r.text, name);
      total++;
      bad += got.label !== r.label || Math.abs(got.p - r.probs[1]) > 1e-4;
    }
  }
  check(total > 0 && bad === 0, `golden: ${bad} of ${total} texts differ`);
} else if (process.env.SENTIMENT_REQUIRE_SHARED === '1') {
  check(false, `no shared folder at ${shared} (SENTIMENT_REQUIRE_SHARED=1)`);
} else { skipped++; console.log(`SKIP test_npm: no shared folder at ${shared}: golden texts not scored`); }

// A scan of about a second, on the main thread, then in a Worker; the
// longest gap between two ticks of a 10 ms timer meanwhile.
const SQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) " +
            "SELECT count(sentiment(x || ' the film was long and the music was fine')) AS n FROM c";
const N = 3000;  // ~0.8 s on an idle 2-core machine (400 rows took 106 ms: too short to tell)
function gaps(run) {
  return new Promise((resolve) => {
    let last = performance.now(), worst = 0, ticks = 0;
    const timer = setInterval(() => { const t = performance.now(); worst = Math.max(worst, t - last); last = t; ticks++; }, 10);
    setTimeout(() => run().then((n) => { clearInterval(timer); resolve({ n, worst: Math.max(worst, performance.now() - last), ticks }); }), 20);
  });
}
const blocked = await gaps(async () => db.prepare(SQL).get(N).n);
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { createRequire } = require('node:module');
  const sentiment = createRequire(workerData.project)('sqlite-sentiment');
  const Database = createRequire(workerData.tests)('better-sqlite3');
  const db = new Database(':memory:');
  sentiment.load(db);
  parentPort.postMessage(db.prepare(workerData.sql).get(workerData.n).n);`;
const free = await gaps(() => new Promise((resolve, reject) => {
  const w = new Worker(WORKER, { eval: true, workerData: { project: join(process.cwd(), 'package.json'),
    tests: join(root, 'tests', 'package.json'), sql: SQL, n: N } });
  w.once('message', resolve); w.once('error', reject);
}));
console.log(`test_npm: a ${N}-row scan: on the main thread the timer waited up to ${blocked.worst.toFixed(0)} ms; ` +
            `in a Worker up to ${free.worst.toFixed(0)} ms (${free.ticks} ticks)`);
check(blocked.n === N && free.n === N, `scan counts ${blocked.n}, ${free.n}`);
check(blocked.worst > 200, `control: the main-thread scan blocked the timer only ${blocked.worst.toFixed(0)} ms (too short a scan to tell)`);
check(free.worst < blocked.worst / 2, `the Worker's scan still blocked the timer ${free.worst.toFixed(0)} ms`);
console.log(`test_npm: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
JS
out=$(cd "$T/proj" && node check.mjs "$ROOT" "${SENTIMENT_SHARED:-$ROOT/../shared}" "$VERSION" 2>&1)
merge "$out" test_npm
finish
