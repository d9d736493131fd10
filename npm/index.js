'use strict';
// sqlite-sentiment — the `sentiment` SQLite extension for Node.
//
//   const Database = require('better-sqlite3');
//   const sentiment = require('sqlite-sentiment');
//   const db = new Database(':memory:');
//   sentiment.load(db);
//   db.prepare("SELECT sentiment('A masterpiece.') AS s").get();   // { s: 'positive' }
//
// The package carries a self-contained build (lib/sentiment.so: OpenBLAS and
// utf8proc linked in, it needs only glibc, x86-64 Linux). From a source
// checkout (npm/ without lib/) it is the checkout's ./sentiment.so (`make`).
const fs = require('node:fs');
const path = require('node:path');

/** The path of sentiment.so, for db.loadExtension() or any other host. */
function getLoadablePath() {
  const candidates = [path.join(__dirname, 'lib', 'sentiment.so'),
                      path.join(__dirname, '..', 'sentiment.so')];
  for (const p of candidates) if (fs.existsSync(p)) return p;
  throw new Error(`sqlite-sentiment: no sentiment.so at ${candidates.join(' or ')} ` +
                  '(install the package, or run `make` in the source checkout)');
}

/** Load the extension into db: a better-sqlite3 Database (or anything with
 *  loadExtension(path)). A scan runs on the calling thread: run long ones in
 *  a worker_threads Worker with its own Database (README). */
function load(db) {
  db.loadExtension(getLoadablePath());
}

module.exports = { getLoadablePath, load };
