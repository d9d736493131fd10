// probe.mjs — core/wordpiece.c against HuggingFace tokenizers on text built to
// reach every corner of the Unicode handling (`make probe-tokenizer`):
//   - every Unicode scalar value X (1,112,064 of them) in "a" X "b " X: shows
//     whether HF drops X, splits on it, strips it, keeps it in the word, and
//     what it normalizes to — wherever the vocabulary can tell;
//   - 50,000 random strings mixing ASCII, controls, Latin, combining marks
//     (reordering), punctuation, CJK, Hangul, full-width forms, emoji, tags,
//     private use, noncharacters and unassigned code points.
// Ids must be equal. Single-threaded; about two minutes.
//
//   node probe.mjs TOKENIZER_JSON VOCAB_TXT TOKENIZE_FILE OUT_DIR
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");
const [tokPath, vocabPath, tool, outDir] = process.argv.slice(2);
const tok = Tokenizer.fromFile(tokPath);

let seed = 12345; // mulberry32
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pools = [
  [0x20, 0x7e], [0x20, 0x7e], [0x00, 0x1f], [0x80, 0xff], [0x100, 0x24f], [0x300, 0x36f],
  [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x1100, 0x11ff],
  [0x1e00, 0x1fff], [0x2000, 0x206f], [0x2100, 0x218f], [0x2e00, 0x2e7f], [0x3000, 0x30ff],
  [0x302a, 0x302f], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfb00, 0xfb4f],
  [0xfe00, 0xfe6f], [0xff00, 0xffef], [0xfff0, 0xffff], [0x16ff0, 0x16ff1], [0x1d165, 0x1d172],
  [0x1f300, 0x1faff], [0x20000, 0x2fa1f], [0xe0000, 0xe007f], [0xe000, 0xf8ff], [0, 0x10ffff],
];
function randomText() {
  let s = "";
  const len = 1 + Math.floor(rnd() * 40);
  for (let k = 0; k < len; k++) {
    const p = pools[Math.floor(rnd() * pools.length)];
    let cp = p[0] + Math.floor(rnd() * (p[1] - p[0] + 1));
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x61;
    if (rnd() < 0.1) s += " ";
    s += String.fromCodePoint(cp);
  }
  return s;
}

const texts = [], what = [];
for (let c = 0; c <= 0x10ffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  const ch = String.fromCodePoint(c);
  texts.push("a" + ch + "b " + ch);
  what.push(`U+${c.toString(16).toUpperCase().padStart(4, "0")}`);
}
const nCp = texts.length;
for (let i = 0; i < 50000; i++) {
  texts.push(randomText());
  what.push(`random #${i}`);
}

const parts = [Buffer.alloc(4)];
parts[0].writeUInt32LE(texts.length);
for (const s of texts) {
  const b = Buffer.from(s, "utf8"), l = Buffer.alloc(4);
  l.writeUInt32LE(b.length);
  parts.push(l, b);
}
writeFileSync(`${outDir}/probe-texts.bin`, Buffer.concat(parts));
execFileSync(tool, [vocabPath, `${outDir}/probe-texts.bin`, `${outDir}/probe-ids-c.bin`], { stdio: "inherit" });
const c = readFileSync(`${outDir}/probe-ids-c.bin`);

let at = 0, badCp = 0, badRnd = 0;
const B = 4096;
for (let i0 = 0; i0 < texts.length; i0 += B) {
  const encs = await tok.encodeBatch(texts.slice(i0, i0 + B));
  for (let i = i0; i < Math.min(texts.length, i0 + B); i++) {
    const k = c.readUInt32LE(at);
    const ids = new Int32Array(c.buffer.slice(c.byteOffset + at + 4, c.byteOffset + at + 4 + 4 * k));
    at += 4 + 4 * k;
    const h = encs[i - i0].getIds();
    if (h.length === ids.length && h.every((x, j) => x === ids[j])) continue;
    if (i < nCp) badCp++;
    else badRnd++;
    if (badCp + badRnd <= 20)
      console.log(`  MISMATCH ${what[i]} ${JSON.stringify(texts[i])}: HF [${h}] C [${Array.from(ids)}]`);
  }
}
console.log(`code points: ${nCp - badCp}/${nCp} identical to HF`);
console.log(`random strings: ${texts.length - nCp - badRnd}/${texts.length - nCp} identical to HF`);
process.exit(badCp + badRnd ? 1 : 0);
