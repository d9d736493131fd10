// hf_bench.mjs — HuggingFace tokenizers (Rust core, via the Node binding
// @anush008/tokenizers) on the same reviews as bench.c, then a check that
// its ids equal the C tokenizer's on every review.
//
//   node hf_bench.mjs TOKENIZER_JSON OUT_DIR [REPS]
//
// Reads OUT_DIR/texts.bin and OUT_DIR/ids-c.bin written by bench.c. Run with
// RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false UV_THREADPOOL_SIZE=1
// (bench/tokenizer/run.sh does): one text at a time, one thread of Rust.
//   encode loop   `await tok.encode(text)` per review: the single-text API,
//                 as core/wordpiece.c is used (the figure quoted)
//   encodeBatch   256 reviews per call: less binding overhead per review, a
//                 bound on what the Rust core itself costs
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");

const [tokPath, outDir, repsArg] = process.argv.slice(2);
const reps = Math.max(1, Number(repsArg || 1));

function readTexts(path) {
  const b = readFileSync(path);
  const n = b.readUInt32LE(0);
  const texts = new Array(n);
  let at = 4, bytes = 0;
  for (let i = 0; i < n; i++) {
    const len = b.readUInt32LE(at);
    at += 4;
    texts[i] = b.toString("utf8", at, at + len); // lossy, like the C side
    at += len;
    bytes += len;
  }
  return { texts, bytes };
}

function readIds(path, n) {
  const b = readFileSync(path);
  const ids = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = b.readUInt32LE(at);
    at += 4;
    ids[i] = new Int32Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + 4 * k));
    at += 4 * k;
  }
  return ids;
}

function cpuSeconds(u) {
  return (u.user + u.system) / 1e6;
}

function report(name, bytes, ntok, wall, cpu) {
  const f = (x) => x.toFixed(1).padStart(7);
  const g = (x) => x.toFixed(2).padStart(6);
  console.log(
    `    ${name.padEnd(12)} wall ${wall.toFixed(3)} s: ${f(bytes / 1e6 / wall)} MB/s ${g(ntok / 1e6 / wall)} M tokens/s` +
      `   | process CPU ${cpu.toFixed(3)} s: ${f(bytes / 1e6 / cpu)} MB/s ${g(ntok / 1e6 / cpu)} M tokens/s`,
  );
}

const { texts, bytes } = readTexts(`${outDir}/texts.bin`);
const tok = Tokenizer.fromFile(tokPath);
for (let i = 0; i < Math.min(2000, texts.length); i++) await tok.encode(texts[i]); // warm-up

let best = { wall: 1e30, cpu: 1e30, ntok: 0 };
for (let r = 0; r < reps; r++) {
  const w0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  let ntok = 0;
  for (const s of texts) ntok += (await tok.encode(s)).getLength();
  const wall = Number(process.hrtime.bigint() - w0) / 1e9, cpu = cpuSeconds(process.cpuUsage(c0));
  if (wall < best.wall) best = { wall, cpu: Math.min(cpu, best.cpu), ntok };
  else best.cpu = Math.min(cpu, best.cpu);
}
console.log(
  `HF  tokenizers (Rust) via @anush008/tokenizers 0.6.0   ${texts.length} reviews, ${(bytes / 1e6).toFixed(1)} MB, ${best.ntok} tokens, best of ${reps} passes`,
);
report("encode loop", bytes, best.ntok, best.wall, best.cpu);

const B = 256;
let bestB = { wall: 1e30, cpu: 1e30, ntok: 0 };
for (let r = 0; r < reps; r++) {
  const w0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  let ntok = 0;
  for (let i = 0; i < texts.length; i += B)
    for (const e of await tok.encodeBatch(texts.slice(i, i + B))) ntok += e.getLength();
  const wall = Number(process.hrtime.bigint() - w0) / 1e9, cpu = cpuSeconds(process.cpuUsage(c0));
  if (wall < bestB.wall) bestB = { wall, cpu: Math.min(cpu, bestB.cpu), ntok };
  else bestB.cpu = Math.min(cpu, bestB.cpu);
}
report(`encodeBatch`, bytes, bestB.ntok, bestB.wall, bestB.cpu);

// ids: HF vs C on every review
const cids = readIds(`${outDir}/ids-c.bin`, texts.length);
let bad = 0;
for (let i = 0; i < texts.length; i++) {
  const h = (await tok.encode(texts[i])).getIds();
  const c = cids[i];
  let j = 0;
  while (j < h.length && j < c.length && h[j] === c[j]) j++;
  if (j === h.length && j === c.length) continue;
  if (++bad <= 5)
    console.log(
      `    MISMATCH review #${i} at token ${j}: HF [${h.slice(Math.max(0, j - 2), j + 4)}] C [${Array.from(c.slice(Math.max(0, j - 2), j + 4))}]` +
        `\n      text: ${JSON.stringify(texts[i].slice(0, 200))}`,
    );
}
console.log(`ids: ${texts.length - bad}/${texts.length} reviews identical to HF (${bad} mismatches)`);
process.exit(bad ? 1 : 0);
