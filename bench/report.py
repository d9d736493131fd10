#!/usr/bin/env python3
"""bench/report.py — the table bench/run.sh prints, from its results file.

    python3 bench/report.py build/bench/results.jsonl

Each line of the results file is one JSON object from an engine run:
engine, model, threads, reviews, tokens (real, no padding), seconds, and
optionally logits (a file with one row of logits per review, in id order).
Medians are taken over repeated runs of the same (model, engine, threads).
The "vs sentiment" column is the engine's tokens/s divided by
sentiment_scan's at the same thread count; "max |Δlogit|" compares each
engine's logits with sentiment_scan's (same weights, same ids: it should be
about 1e-5 in F32, showing every engine computed the same thing; about 1e-2
for the int8 rows). Batch-1 rows (note "batch 1, L tokens") are compared
with the scalar loop's row of the same note and thread count instead.
"""
import json
import re
import statistics
import sys
from collections import defaultdict


def read_logits(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(x) for x in line.replace('[', ' ').replace(']', ' ')
                             .replace(',', ' ').split()])
    return rows


def max_diff(a, b):
    if not a or not b or len(a) != len(b):
        return None
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def main():
    runs = defaultdict(list)
    sgemm = {}
    order = []
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line)
            if r.get('engine') == 'sgemm':
                sgemm[r['model']] = r
                continue
            if 'cpu' in r:  # the machine, as bench/run.sh read it
                print(f"Machine: {r['cpu']}; {r['cores']} cores; {r['features']}")
                continue
            key = (r['model'], r['engine'] + (f" ({r['note']})" if r.get('note') else ''), r['threads'])
            if key not in runs:
                order.append(key)
            runs[key].append(r)

    def med(key):
        rs = runs[key]
        sec = statistics.median(r['seconds'] for r in rs)
        return rs[0], sec

    models = []
    for k in order:
        if k[0] not in models:
            models.append(k[0])
    for model in models:
        keys = [k for k in order if k[0] == model]
        first = max((runs[k][0] for k in keys), key=lambda r: r['reviews'])
        print(f"\n### {model}: {first['reviews']} IMDb reviews, {first['tokens']:,} real tokens"
              f" (≤ {first.get('max_len', 512)} each)\n")
        sg = sgemm.get(model)
        fpt = sg['flop_per_token'] if sg else None
        ceil = {1: sg['t1'] * 1e9 / fpt, 2: sg['t2x1'] * 1e9 / fpt} if sg else {}
        print('| engine | threads | reviews/s | tokens/s | vs sentiment_scan | of sgemm ceiling | max \\|Δlogit\\| |')
        print('|---|---|---|---|---|---|---|')
        ref_logits = {}
        for k in keys:
            if k[1] == 'sentiment_scan' and runs[k][0].get('logits'):  # no note on scan rows
                ref_logits[k[2]] = read_logits(runs[k][0]['logits'])
        for k in keys:
            r, sec = med(k)
            tps = r['tokens'] / sec
            b1 = re.search(r'batch 1, \d+ tokens', r.get('note', ''))
            b1 = b1.group(0) if b1 else None
            bkey = (model, 'sentiment_scan', k[2])
            if b1:  # batch 1: against the scalar loop on the same texts
                bkey = (model, f'sentiment_score() row by row ({b1})', k[2])
                if bkey == k or bkey not in runs:
                    bkey = None
            if bkey and bkey not in runs:  # against the scan's best thread count
                scans = [kk for kk in keys if kk[1] == 'sentiment_scan' and isinstance(kk[2], int)]
                bkey = max(scans, key=lambda kk: kk[2]) if scans else None
            ratio = ''
            if bkey and k[1] != 'sentiment_scan':
                b, bsec = med(bkey)
                ratio = f"{(r['tokens'] / sec) / (b['tokens'] / bsec):.2f}×"
            diff = ''
            ref = ref_logits.get(k[2]) or next(iter(ref_logits.values()), None)
            if b1:
                ref = read_logits(runs[bkey][0]['logits']) if bkey and runs[bkey][0].get('logits') else None
            if r.get('logits') and ref is not None and k[1] != 'sentiment_scan':
                d = max_diff(read_logits(r['logits']), ref)
                diff = '' if d is None else f'{d:.1e}'
            n = len(runs[k])
            pct = f'{tps / ceil[k[2]]:.0%}' if k[2] in ceil else ''
            spread = ''
            if n > 1:  # the median, then the slowest and fastest of the n runs
                lo = min(r['tokens'] / x['seconds'] for x in runs[k])
                hi = max(r['tokens'] / x['seconds'] for x in runs[k])
                spread = f' ({lo:,.0f}–{hi:,.0f}, {n} runs)'
            print(f"| {k[1]} | {k[2]} | {r['reviews'] / sec:,.2f} | {tps:,.0f}{spread} | {ratio} | {pct} | {diff} |")
        if sg:
            print(f"| sgemm ceiling (cblas_sgemm rate ÷ {fpt / 1e6:.1f} MFLOP/token) | 1 | | {ceil[1]:,.0f} | | 100% | |")
            print(f"| sgemm ceiling | 2 (workers × 1) | | {ceil[2]:,.0f} | | 100% | |")
            print(f"\nsgemm on this model's shapes (dim {sg.get('dim', '?')}, ffn {sg.get('ffn', '?')},"
                  f" M = {sg.get('M', '?')}): 1 thread {sg['t1']:.1f} GFLOP/s, OpenBLAS 2 threads"
                  f" {sg['t2']:.1f}, 2 workers × 1 thread {sg['t2x1']:.1f}.")


if __name__ == '__main__':
    main()
