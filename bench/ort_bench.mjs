// bench/ort_bench.mjs — the ONNX Runtime side of bench/run.sh.
//
//   node bench/ort_bench.mjs MODEL.onnx IDS.txt THREADS [BATCH] [LOGITS_OUT]
//
// IDS.txt: one sequence per line, token ids separated by spaces (already
// truncated; written by build/bench/dump_ids). Sequences are sorted by length
// (longest first), then run BATCH at a time (default 4), each batch padded to
// its longest with attention_mask 0: the kindest batching for a padded engine
// (about 1% padding on IMDb instead of ~40% in table order). fp32, graph optimisation level "all"
// (ORT fuses Attention/LayerNorm/Gelu itself at session creation),
// intra-op threads = THREADS, inter-op 1, sequential execution.
// Prints one JSON line: engine, threads, reviews, tokens (real), padded
// tokens, seconds (inference only; session creation excluded, one warm-up
// batch excluded). LOGITS_OUT, when given, gets one line of logits per review.
import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

const [modelPath, idsPath, threadsArg, batchArg, logitsOut] = process.argv.slice(2);
if (!modelPath || !idsPath || !threadsArg) {
  console.error('usage: node bench/ort_bench.mjs MODEL.onnx IDS.txt THREADS [BATCH] [LOGITS_OUT]');
  process.exit(2);
}
const threads = Number(threadsArg), batch = Number(batchArg || 4);
const seqs = fs.readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.length)
  .map((l) => l.trim().split(/\s+/).map(Number));

const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});

function feeds(group) {
  const T = Math.max(...group.map((s) => s.length));
  const ids = new BigInt64Array(group.length * T);   // zeros = [PAD]
  const mask = new BigInt64Array(group.length * T);
  group.forEach((s, b) => s.forEach((id, t) => { ids[b * T + t] = BigInt(id); mask[b * T + t] = 1n; }));
  return {
    feeds: {
      input_ids: new ort.Tensor('int64', ids, [group.length, T]),
      attention_mask: new ort.Tensor('int64', mask, [group.length, T]),
    },
    padded: group.length * T,
  };
}

await session.run(feeds(seqs.slice(0, batch)).feeds);   // warm-up
const order = seqs.map((s, i) => i).sort((a, b) => seqs[b].length - seqs[a].length || a - b);
const out = new Array(seqs.length);
let padded = 0, tokens = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < order.length; i += batch) {
  const idx = order.slice(i, i + batch);
  const f = feeds(idx.map((j) => seqs[j]));
  padded += f.padded;
  const r = await session.run(f.feeds);
  const logits = r[session.outputNames[0]];
  const C = logits.dims[1];
  idx.forEach((j, b) => { out[j] = Array.from(logits.data.slice(b * C, (b + 1) * C)); });
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
for (const s of seqs) tokens += s.length;
if (logitsOut) fs.writeFileSync(logitsOut, out.map((l) => l.join(' ')).join('\n') + '\n');
console.log(JSON.stringify({ engine: 'onnxruntime', threads, reviews: seqs.length, tokens,
  padded_tokens: padded, seconds }));
