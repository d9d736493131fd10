"""Train the project's default model: a small DistilBERT distilled from the TF-IDF teacher.

Usage:
  /usr/bin/python3 train/train_student.py --deadline 2026-11-27T02:55:00Z [--dim 128 ...]
  /usr/bin/python3 train/train_student.py --bench        (tokens/s of a few steps, then exit)

Data: train/cache/tokens.npz (train/prepare.py) and train/cache/teacher.npz (train/teacher.py).
Training set: every review except the validation slice (split='train' AND id % 10 == 0):
22,498 labeled + 50,000 unlabeled. Loss per review: soft cross-entropy to the teacher's
P(positive) + (labeled only) hard-label cross-entropy. Inputs are [CLS] + first 510 pieces + [SEP],
exactly what the C engine sees. Batches: length-sorted within chunks, capped by a token budget.
The learning-rate schedule is a function of wall-clock progress (warmup, then linear decay to 0
at the deadline), so the run always finishes its schedule on time. Every --eval-min minutes it
measures validation accuracy and, on a new best, saves <out>/best.pt and exports models/default.
"""
import argparse
import datetime as dt
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402


def student_config(a):
    return {
        "architectures": ["DistilBertForSequenceClassification"],
        "model_type": "distilbert",
        "activation": "gelu",
        "attention_dropout": a.attn_dropout,
        "dim": a.dim,
        "dropout": a.dropout,
        "hidden_dim": a.hidden_dim,
        "initializer_range": 0.02,
        "max_position_embeddings": 512,
        "n_heads": a.heads,
        "n_layers": a.layers,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": a.dropout,
        "sinusoidal_pos_embds": False,
        "tie_weights_": True,
        "id2label": {"0": "negative", "1": "positive"},
        "label2id": {"negative": 0, "positive": 1},
        "torch_dtype": "float32",
        "vocab_size": 30522,
    }


def load_data(cache):
    tok = np.load(os.path.join(cache, "tokens.npz"))
    tea = np.load(os.path.join(cache, "teacher.npz"))
    ids, split, label, off, flat = tok["ids"], tok["split"], tok["label"], tok["offsets"], tok["flat"]
    if not np.array_equal(ids, tea["ids"]):
        raise SystemExit("teacher.npz and tokens.npz disagree on review ids; rerun both")
    seqs = [flat[off[i]:off[i + 1]].astype(np.int64) for i in range(len(ids))]
    val = (split == 0) & (ids % 10 == 0)
    return ids, split, label, seqs, tea["p_pos"].astype(np.float32), val


def make_batches(idx, lens, budget, rng, chunk=2048):
    """Shuffle, sort by length inside chunks, cut into batches of <= budget padded tokens."""
    idx = rng.permutation(idx)
    batches = []
    for c in range(0, len(idx), chunk):
        part = idx[c:c + chunk]
        part = part[np.argsort(lens[part], kind="stable")]
        cur, cur_max = [], 0
        for i in part:
            m = max(cur_max, lens[i])
            if cur and m * (len(cur) + 1) > budget:
                batches.append(cur)
                cur, m = [], lens[i]
            cur.append(i)
            cur_max = m
        if cur:
            batches.append(cur)
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


@torch.no_grad()
def predict(model, seqs, idx, budget=16384):
    model.eval()
    lens = np.array([len(seqs[i]) for i in idx])
    order = np.argsort(lens, kind="stable")
    out = np.zeros((len(idx), 2), dtype=np.float32)
    pos = 0
    while pos < len(order):
        T = lens[order[min(len(order) - 1, pos)]]
        n = 1
        while pos + n < len(order) and lens[order[pos + n]] * (n + 1) <= budget:
            n += 1
        sel = order[pos:pos + n]
        ids, mask = modeling.pad_batch([seqs[idx[j]] for j in sel])
        out[sel] = model(ids, mask).numpy()
        pos += n
    model.train()
    return out


def lr_at(progress, peak, warmup=0.04, floor=0.02):
    if progress < warmup:
        return peak * progress / warmup
    p = (progress - warmup) / (1 - warmup)
    return peak * max(floor, 1.0 - p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs"))
    ap.add_argument("--export", default=os.path.join(HERE, "..", "models", "default"))
    ap.add_argument("--deadline", help="UTC ISO time to stop, e.g. 2026-11-27T02:55:00Z")
    ap.add_argument("--minutes", type=float, help="alternative to --deadline")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--hidden-dim", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--attn-dropout", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--budget", type=int, default=8192, help="padded tokens per batch")
    ap.add_argument("--hard-weight", type=float, default=1.0)
    ap.add_argument("--eval-min", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bench", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t_start = time.time()
    if a.deadline:
        end = dt.datetime.fromisoformat(a.deadline.replace("Z", "+00:00")).timestamp()
    else:
        end = t_start + 60 * (a.minutes or 60)

    ids, split, label, seqs, p_pos, val = load_data(a.cache)
    lens = np.array([len(s) for s in seqs])
    tr_idx = np.nonzero(~val)[0]
    va_idx = np.nonzero(val)[0]
    print("train %d (labeled %d), val %d, load %.1fs" % (len(tr_idx), int((label[tr_idx] >= 0).sum()),
                                                       len(va_idx), time.time() - t_start), flush=True)

    cfg = student_config(a)
    model = modeling.build(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print("params %d (%.2f MB f32)" % (n_params, n_params * 4 / 1e6), flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embeddings" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embeddings" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": other, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-6)

    soft = torch.from_numpy(np.stack([1 - p_pos, p_pos], 1))
    hard = torch.from_numpy(label.astype(np.int64))

    os.makedirs(a.out, exist_ok=True)
    state = {"config": cfg, "params": n_params, "evals": [], "best_acc": -1.0, "args": vars(a)}
    best_path = os.path.join(a.out, "best.pt")
    last_eval = time.time()
    tokens_done = steps = epoch = 0
    t_train = time.time()
    total = end - t_train
    stop = False
    while not stop:
        epoch += 1
        for b in make_batches(tr_idx, lens, a.budget, rng):
            now = time.time()
            progress = (now - t_train) / total
            if progress >= 1.0:
                stop = True
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(progress, a.lr)
            x, mask = modeling.pad_batch([seqs[i] for i in b])
            logits = model(x, mask)
            logp = F.log_softmax(logits, -1)
            bt = torch.as_tensor(b)
            loss = -(soft[bt] * logp).sum(-1).mean()
            hl = hard[bt]
            lab = hl >= 0
            if lab.any():
                loss = loss + a.hard_weight * F.nll_loss(logp[lab], hl[lab], reduction="sum") / len(b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            steps += 1
            tokens_done += int(lens[b].sum())
            if steps % 50 == 0 or (a.bench and steps % 5 == 0):
                el = time.time() - t_train
                print("ep %d step %d  loss %.4f  lr %.2e  %.0f tok/s  %.1f min  %.2f epochs"
                      % (epoch, steps, loss.item(), opt.param_groups[0]["lr"], tokens_done / el, el / 60,
                         tokens_done / lens[tr_idx].sum()), flush=True)
            if a.bench and steps >= 30:
                print("BENCH %.0f tok/s" % (tokens_done / (time.time() - t_train)))
                return
            if time.time() - last_eval > 60 * a.eval_min:
                evaluate(model, seqs, va_idx, label, state, best_path, a, steps, tokens_done, t_train, epoch)
                last_eval = time.time()
    evaluate(model, seqs, va_idx, label, state, best_path, a, steps, tokens_done, t_train, epoch, final=True)
    if not os.path.exists(os.path.join(a.export, "val_logits.jsonl")) or state["evals"][-1]["val_acc"] < state["best_acc"]:
        try:  # best checkpoint came from an earlier eval: export it with its validation logits
            import export
            ck = torch.load(best_path, map_location="cpu")
            model.load_state_dict(ck["state_dict"])
            export.export(model, state["config"], a.export, train_info={**ck["eval"], "params": state["params"]})
        except Exception as e:
            print("final export failed: %r" % (e,), flush=True)
    print("done: best val acc %.4f" % state["best_acc"], flush=True)


def evaluate(model, seqs, va_idx, label, state, best_path, a, steps, tokens_done, t_train, epoch, final=False):
    t0 = time.time()
    logits = predict(model, seqs, va_idx)
    acc = float((logits.argmax(1) == label[va_idx]).mean())
    el = time.time() - t_train
    rec = {"step": steps, "epoch": epoch, "tokens": tokens_done, "minutes": round(el / 60, 2),
           "val_acc": acc, "eval_s": round(time.time() - t0, 1), "tok_per_s": round(tokens_done / el)}
    state["evals"].append(rec)
    print("EVAL %s" % json.dumps(rec), flush=True)
    if acc > state["best_acc"]:
        state["best_acc"] = acc
        state["best"] = rec
        tmp = best_path + ".tmp"
        torch.save({"config": state["config"], "state_dict": model.state_dict(), "eval": rec}, tmp)
        os.replace(tmp, best_path)
        try:
            import export
            export.export(model, state["config"], a.export, train_info={**rec, "params": state["params"]},
                          val_logits=final)
            print("exported to %s" % a.export, flush=True)
        except Exception as e:  # export problems must not kill the training run
            print("export failed: %r" % (e,), flush=True)
    with open(os.path.join(a.out, "state.json"), "w") as f:
        json.dump(state, f, indent=1)


if __name__ == "__main__":
    main()
