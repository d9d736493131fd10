#!/usr/bin/env python3
"""bench/torch_bench.py — the PyTorch side of bench/run.sh.

    python3 bench/torch_bench.py MODEL_DIR IDS.txt THREADS [BATCH] [LOGITS_OUT]

PyTorch eager, fp32, torch.inference_mode, torch.set_num_threads(THREADS).
Sequences from IDS.txt (one per line) are sorted by length, longest first, and
run BATCH at a time (default 4), padded to the batch's longest with
attention_mask 0 — the same batching as bench/ort_bench.mjs. One warm-up
batch is not timed. Prints one JSON line like ort_bench.mjs.

Debian's torch does its matrix products in the system BLAS (BLAS_INFO=generic:
OpenBLAS), whose own threads torch.set_num_threads does not limit: with 1
thread asked, torch used 1.6 cores. OPENBLAS_NUM_THREADS and OMP_NUM_THREADS
are set to THREADS before torch is imported.
"""
import json
import os
import sys
import time

if len(sys.argv) > 3:
    os.environ['OPENBLAS_NUM_THREADS'] = os.environ['OMP_NUM_THREADS'] = sys.argv[3]
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'train'))
import modeling  # noqa: E402


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    folder, ids_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    out_path = sys.argv[5] if len(sys.argv) > 5 else None
    torch.set_num_threads(threads)
    m, _, _ = modeling.from_pretrained(folder)
    m.eval()
    seqs = [[int(x) for x in line.split()] for line in open(ids_path) if line.strip()]
    order = sorted(range(len(seqs)), key=lambda i: (-len(seqs[i]), i))

    def feeds(idx):
        T = max(len(seqs[i]) for i in idx)
        ids = torch.zeros(len(idx), T, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, i in enumerate(idx):
            ids[b, :len(seqs[i])] = torch.tensor(seqs[i])
            mask[b, :len(seqs[i])] = 1
        return ids, mask

    logits = [None] * len(seqs)
    padded = 0
    with torch.inference_mode():
        m(*feeds(order[:batch]))  # warm-up
        t0 = time.perf_counter()
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            ids, mask = feeds(idx)
            padded += ids.numel()
            out = m(ids, mask)
            for b, i in enumerate(idx):
                logits[i] = out[b].tolist()
        seconds = time.perf_counter() - t0
    if out_path:
        with open(out_path, 'w') as f:
            for row in logits:
                f.write(' '.join(repr(x) for x in row) + '\n')
    print(json.dumps(dict(engine='pytorch', threads=threads, reviews=len(seqs),
                          tokens=sum(map(len, seqs)), padded_tokens=padded, seconds=seconds)))


if __name__ == '__main__':
    main()
