"""Train the project's default model: a small DistilBERT distilled from the TF-IDF teachers.

Usage:
  /usr/bin/python3 train/train_student.py --tokens 24 [--dim 128 ...]    (24 M training tokens)
  /usr/bin/python3 train/train_student.py --init train/runs-pretrain/encoder.pt ...
                                          (encoder from pretrain.py's masked-LM stage)
  /usr/bin/python3 train/train_student.py --init-model models/default --seed 43 --lr 5e-4 ...
                                          (a second stage: continue an exported student)
  /usr/bin/python3 train/train_student.py --windows ...                 (also windows of reviews,
                                          windows.py: teacher targets only, once an epoch)
  /usr/bin/python3 train/train_student.py --token-drop 0.1 ...          (each input piece becomes
                                          [MASK] with probability 0.1; targets unchanged)
  /usr/bin/python3 train/train_student.py --bench                       (tokens/s of a few steps)

Data: <cache>/tokens.npz (prepare.py) and <cache>/teacher.npz (teacher.py). Training set: every
text outside the validation slices (slices.py): IMDb train + unsup and all reviews-multi sources.
Loss per text: soft cross-entropy to the teacher's P(positive) + (labeled only) hard-label
cross-entropy. Inputs are [CLS] + first 510 pieces + [SEP], exactly what the C engine sees.
Batches: shuffled per epoch (seed + epoch), length-sorted within chunks, capped by a token budget.
The learning rate is a function of training tokens done (warmup, linear decay to --tokens), and
every step seeds torch with (seed, step), so the run is deterministic and resumable: every
--ckpt-min minutes the full state goes to <out>/ckpt.pt, and a rerun with the same arguments
continues from it. Every --eval-min minutes (0: never by time) and every --eval-tokens million
tokens it measures per-source validation accuracy; the
selection score is the mean of IMDb accuracy and the macro mean over the other sources; each new
best is saved to <out>/best.pt and exported to --export (F32, or F16 with --f16).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402

# Arguments that change neither the trained weights nor the data order; a resume may change them
# (evaluation times change only which evaluated step is kept as best.pt).
RESUME_FREE = ("threads", "ckpt_min", "eval_min", "eval_tokens", "export", "f16")
# Arguments recorded only when given (the args of the runs before them stay as they were)
ONLY_WHEN_GIVEN = ("init", "init_model", "windows", "token_drop", "device")


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


def add_model_args(ap):
    """The student's architecture flags (student_config reads them); pretrain.py shares them."""
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--hidden-dim", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--attn-dropout", type=float, default=0.0)


def make_optimizer(model, lr, wd):
    """AdamW, weight decay on the matrices outside the embeddings (a tied weight counts once)."""
    named = list(model.named_parameters())
    decay = [p for n, p in named if p.dim() >= 2 and "embeddings" not in n]
    other = [p for n, p in named if not (p.dim() >= 2 and "embeddings" not in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": other, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.98), eps=1e-6)


def split_seqs(npz):
    off, flat = npz["offsets"], npz["flat"]
    return [flat[off[i]:off[i + 1]].astype(np.int64) for i in range(len(off) - 1)], np.diff(off)


class Data:
    """Every text of tokens.npz; with windows, the windows of windows.npz after them, as texts of
    corpus WINDOW and source "window": unlabeled, never validation, trained on the teacher only."""
    WINDOW = 2

    def __init__(self, cache, windows=False):
        tok = np.load(os.path.join(cache, "tokens.npz"))
        tea = np.load(os.path.join(cache, "teacher.npz"))
        if not np.array_equal(tok["rid"], tea["rid"]):
            raise SystemExit("teacher.npz and tokens.npz disagree on row ids; rerun both")
        with open(os.path.join(cache, "sources.json")) as f:
            self.sources = json.load(f)
        self.seqs, self.lens = split_seqs(tok)
        self.source, self.label, self.val, self.rid = tok["source"], tok["label"], tok["val"], tok["rid"]
        self.corpus = tok["corpus"]
        self.p_pos = tea["p_pos"].astype(np.float32)
        if windows:
            self.add_windows(np.load(os.path.join(cache, "windows.npz")), tea)

    def add_windows(self, win, tea):
        if "window_parent" not in tea.files or not np.array_equal(win["parent"], tea["window_parent"]):
            raise SystemExit("teacher.npz does not score windows.npz's windows; rerun prepare.py and teacher.py")
        seqs, lens = split_seqs(win)
        n, parent = len(seqs), win["parent"]
        self.sources = self.sources + ["window"]
        self.seqs += seqs
        self.lens = np.concatenate([self.lens, lens])
        self.source = np.concatenate([self.source, np.full(n, len(self.sources) - 1, self.source.dtype)])
        self.label = np.concatenate([self.label, np.full(n, -1, self.label.dtype)])
        self.val = np.concatenate([self.val, np.zeros(n, bool)])
        self.rid = np.concatenate([self.rid, self.rid[parent]])
        self.corpus = np.concatenate([self.corpus, np.full(n, self.WINDOW, self.corpus.dtype)])
        self.p_pos = np.concatenate([self.p_pos, tea["p_window"].astype(np.float32)])


def labeled_validation(d):
    """Mask of the labeled texts of the validation slices (what evaluate scores), shape (n_texts,)."""
    return d.val & (d.label >= 0)


def labeled_training(d):
    """Mask of the labeled texts outside the validation slices, shape (n_texts,)."""
    return ~d.val & (d.label >= 0)


def source_repeats(counts, multi_repeat, floor, repeat_max):
    """How many times each reviews-multi source's training texts appear in an epoch: multi_repeat,
    raised for a small source until it holds about `floor` texts, but not past repeat_max
    (floor 0: multi_repeat for every source). counts: {source name: training texts}."""
    return {s: max(multi_repeat, min(repeat_max, int(round(floor / n)))) if floor > 0 else multi_repeat
            for s, n in counts.items()}


def epoch_texts(d, tr_idx, multi_repeat, floor, repeat_max):
    """The texts of one epoch: each IMDb text (and window) once, each reviews-multi text as many
    times as source_repeats says for its source. Returns (indices into d, {source: repeats})."""
    # reviews-multi's 211 k texts are 4.6 M tokens against IMDb's 20 M, and its small sources
    # (SemEval, Amazon Alexa) hold a few hundred texts each: repeat them to be seen more
    multi = tr_idx[d.corpus[tr_idx] == 1]
    by_source = {d.sources[s]: multi[d.source[multi] == s] for s in np.unique(d.source[multi])}
    repeats = source_repeats({s: len(ix) for s, ix in by_source.items()}, multi_repeat, floor, repeat_max)
    # in this order, so that floor 0 gives the epochs of the runs before --source-floor existed
    parts = [tr_idx] + [multi] * (multi_repeat - 1)
    for s, ix in by_source.items():
        parts += [ix] * (repeats[s] - multi_repeat)
    return np.concatenate(parts), repeats


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
    dev = next(model.parameters()).device
    lens = np.array([len(seqs[i]) for i in idx])
    order = np.argsort(lens, kind="stable")
    out = np.zeros((len(idx), 2), dtype=np.float32)
    pos = 0
    while pos < len(order):
        n = 1
        while pos + n < len(order) and lens[order[pos + n]] * (n + 1) <= budget:
            n += 1
        sel = order[pos:pos + n]
        ids, mask = modeling.pad_batch([seqs[idx[j]] for j in sel])
        out[sel] = model(ids.to(dev), mask.to(dev)).cpu().numpy()
        pos += n
    model.train()
    return out


def predict_p_pos(model, seqs, idx):
    """P(positive) of texts idx, shape (len(idx),): the softmax of predict's logits."""
    return torch.softmax(torch.from_numpy(predict(model, seqs, idx)), -1)[:, 1].numpy()


def drop_tokens(ids, p):
    """ids (B, T) padded batch -> a copy with each WordPiece replaced by [MASK] with probability p
    ([PAD], [UNK], [CLS], [SEP], [MASK] stay). Draws from torch's global RNG, seeded per step.
    The targets stay the whole text's: the student must find the sentiment without every word."""
    drop = (torch.rand(ids.shape) < p) & modeling.maskable(ids)
    return torch.where(drop, torch.full_like(ids, modeling.MASK), ids)


def recipe_args(a, parser, only_when_given):
    """The run's arguments as its state records them: a name in only_when_given only where it
    differs from the parser's default, so the runs made before that flag existed still match."""
    return {k: v for k, v in vars(a).items() if k not in only_when_given or v != parser.get_default(k)}


def same_recipe(saved, now, free):
    """Whether a checkpoint's arguments and this run's agree on all but the names in free."""
    return ({k: v for k, v in saved.items() if k not in free} ==
            {k: v for k, v in now.items() if k not in free})


def lr_at(progress, peak, warmup=0.04, floor=0.02):
    if progress < warmup:
        return peak * progress / warmup
    p = (progress - warmup) / (1 - warmup)
    return peak * max(floor, 1.0 - p)


def per_source_accuracy(d, logits, idx):
    pred = logits.argmax(1)
    acc = {}
    for s in np.unique(d.source[idx]):
        m = d.source[idx] == s
        acc[d.sources[s]] = round(float((pred[m] == d.label[idx][m]).mean()), 4)
    return acc


def selection_score(acc):
    other = [v for k, v in acc.items() if k != "imdb"]
    return 0.5 * acc["imdb"] + 0.5 * float(np.mean(other))


def file_sha256(path):
    """The hex sha256 of a file: what a run records of the weights it started from."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def init_encoder(model, path):
    """Load pretrain.py's encoder.pt (a DistilBertModel state_dict) into model.distilbert;
    SystemExit when its tensors are not the student's. Returns the file's sha256."""
    sd = torch.load(path, map_location="cpu")
    own = model.distilbert.state_dict()
    if not isinstance(sd, dict) or set(sd) != set(own):
        got = set(sd) if isinstance(sd, dict) else set()
        raise SystemExit("--init %s: not this student's encoder (missing %s; unexpected %s)"
                         % (path, sorted(set(own) - got)[:3], sorted(got - set(own))[:3]))
    bad = ["%s is %s, the student's %s" % (k, tuple(sd[k].shape), tuple(v.shape))
           for k, v in own.items() if tuple(sd[k].shape) != tuple(v.shape)]
    if bad:
        raise SystemExit("--init %s: shapes differ from the student's: %s" % (path, "; ".join(bad[:3])))
    model.distilbert.load_state_dict(sd)
    return file_sha256(path)


def init_model(model, cfg, folder):
    """Load a whole exported student (config.json + model.safetensors: an earlier run's export,
    F32 or F16) into model, to train it further; SystemExit when its architecture is not this
    run's. Returns the sha256 of its model.safetensors."""
    got = modeling.load_config(folder)
    arch = ("model_type", "dim", "n_layers", "n_heads", "hidden_dim", "vocab_size", "max_position_embeddings")
    diff = ["%s %r, this run's %r" % (k, got.get(k), cfg[k]) for k in arch if got.get(k) != cfg[k]]
    if diff:
        raise SystemExit("--init-model %s: not this student's architecture: %s" % (folder, "; ".join(diff)))
    loaded, _, _ = modeling.from_pretrained(folder)
    model.load_state_dict(loaded.state_dict())
    return file_sha256(os.path.join(folder, "model.safetensors"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs"))
    ap.add_argument("--export", default=os.path.join(HERE, "..", "models", "default"))
    ap.add_argument("--f16", action="store_true", help="export model.safetensors as F16")
    ap.add_argument("--tokens", type=float, default=24.0, help="training tokens, millions")
    add_model_args(ap)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--budget", type=int, default=8192, help="padded tokens per batch")
    ap.add_argument("--hard-weight", type=float, default=1.0)
    ap.add_argument("--multi-repeat", type=int, default=1,
                    help="each reviews-multi training text appears this many times an epoch")
    ap.add_argument("--source-floor", type=int, default=0,
                    help="repeat a small reviews-multi source until it holds about this many texts an epoch")
    ap.add_argument("--source-repeat-max", type=int, default=8,
                    help="at most this many repeats a source from --source-floor")
    ap.add_argument("--eval-min", type=float, default=15.0,
                    help="evaluate every this many minutes (0: by tokens only, the same steps on any machine)")
    ap.add_argument("--eval-tokens", type=float, default=0.0,
                    help="also evaluate each time this many million tokens are done (0: by minutes only)")
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--windows", action="store_true",
                    help="also train on windows of training reviews (windows.npz), teacher targets only")
    ap.add_argument("--token-drop", type=float, default=0.0,
                    help="replace each input WordPiece by [MASK] with this probability (a regulariser)")
    ap.add_argument("--init", help="encoder.pt from pretrain.py (default: random initialisation)")
    ap.add_argument("--init-model", help="exported student folder to continue from (a second stage)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is (train/device.sh)")
    ap.add_argument("--bench", action="store_true")
    a = ap.parse_args()
    if not 0 <= a.token_drop < 1:
        raise SystemExit("--token-drop %g: give a probability in [0, 1)" % a.token_drop)

    torch.set_num_threads(a.threads)
    t0 = time.time()
    d = Data(a.cache, a.windows)
    tr_idx = np.nonzero(~d.val)[0]
    tr_idx, repeats = epoch_texts(d, tr_idx, a.multi_repeat, a.source_floor, a.source_repeat_max)
    print("repeats an epoch: %s" % ", ".join("%s %d" % kv for kv in repeats.items()), flush=True)
    va_idx = np.nonzero(labeled_validation(d))[0]
    total = a.tokens * 1e6
    print("train %d (labeled %d, %.1f M tokens/epoch), val %d, load %.1fs"
          % (len(tr_idx), int((d.label[tr_idx] >= 0).sum()), d.lens[tr_idx].sum() / 1e6, len(va_idx),
             time.time() - t0), flush=True)

    torch.manual_seed(a.seed)
    cfg = student_config(a)
    model = modeling.build(cfg)
    args = recipe_args(a, ap, ONLY_WHEN_GIVEN)  # another device draws other dropout masks: another run
    if a.init and a.init_model:
        raise SystemExit("--init and --init-model: give one")
    if a.init:
        args["init"] = os.path.abspath(a.init)
        args["init_sha256"] = init_encoder(model, a.init)
        print("encoder from %s (sha256 %s)" % (a.init, args["init_sha256"]), flush=True)
    if a.init_model:
        args["init_model"] = os.path.abspath(a.init_model)
        args["init_model_sha256"] = init_model(model, cfg, a.init_model)
        print("model from %s (sha256 %s)" % (a.init_model, args["init_model_sha256"]), flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    dev = torch.device(a.device)
    model.to(dev)
    opt = make_optimizer(model, a.lr, a.wd)
    soft = torch.from_numpy(np.stack([1 - d.p_pos, d.p_pos], 1)).to(dev)
    hard = torch.from_numpy(d.label.astype(np.int64)).to(dev)

    os.makedirs(a.out, exist_ok=True)
    ckpt_path, best_path = os.path.join(a.out, "ckpt.pt"), os.path.join(a.out, "best.pt")
    st = {"config": cfg, "params": n_params, "args": args, "evals": [], "best_score": -1.0,
          "epoch": 1, "batch": 0, "steps": 0, "tokens": 0, "train_s": 0.0}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        if not same_recipe(ck["state"]["args"], st["args"], RESUME_FREE):
            raise SystemExit("%s was made with other arguments; move it away to start afresh" % ckpt_path)
        ck["state"]["args"] = st["args"]
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        st = ck["state"]
        print("resumed at epoch %d batch %d, %.2f M tokens" % (st["epoch"], st["batch"], st["tokens"] / 1e6),
              flush=True)
    print("params %d (%.2f MB f32)" % (n_params, n_params * 4 / 1e6), flush=True)

    def save_ckpt():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, tmp)
        os.replace(tmp, ckpt_path)

    t_run = time.time()
    train_s0 = st["train_s"]
    last_ckpt = last_eval = time.time()
    tok_run = 0
    every = a.eval_tokens * 1e6  # --eval-tokens in tokens; 0: by minutes only
    while st["tokens"] < total:
        batches = make_batches(tr_idx, d.lens, a.budget, np.random.default_rng(a.seed * 1000 + st["epoch"]))
        while st["batch"] < len(batches) and st["tokens"] < total:
            b = batches[st["batch"]]
            for g in opt.param_groups:
                g["lr"] = lr_at(st["tokens"] / total, a.lr)
            torch.manual_seed(a.seed * 1000003 + st["steps"])
            x, mask = modeling.pad_batch([d.seqs[i] for i in b])
            if a.token_drop > 0:  # no draw without it: the runs before --token-drop are unchanged
                x = drop_tokens(x, a.token_drop)
            logp = F.log_softmax(model(x.to(dev), mask.to(dev)), -1)
            bt = torch.as_tensor(b).to(dev)
            loss = -(soft[bt] * logp).sum(-1).mean()
            hl = hard[bt]
            lab = hl >= 0
            if lab.any():
                loss = loss + a.hard_weight * F.nll_loss(logp[lab], hl[lab], reduction="sum") / len(b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            st["steps"] += 1
            st["batch"] += 1
            n = int(d.lens[b].sum())
            st["tokens"] += n
            tok_run += n
            st["train_s"] = train_s0 + time.time() - t_run
            if st["steps"] % 50 == 0 or (a.bench and st["steps"] % 5 == 0):
                print("ep %d step %d  loss %.4f  lr %.2e  %.0f tok/s  %.1f min  %.2f/%.0f M tokens"
                      % (st["epoch"], st["steps"], loss.item(), opt.param_groups[0]["lr"],
                         tok_run / (time.time() - t_run), st["train_s"] / 60, st["tokens"] / 1e6, a.tokens),
                      flush=True)
            if a.bench and st["steps"] >= 30:
                print("BENCH %.0f tok/s" % (tok_run / (time.time() - t_run)))
                return
            crossed = every > 0 and st["tokens"] // every > (st["tokens"] - n) // every
            if (a.eval_min > 0 and time.time() - last_eval > 60 * a.eval_min) or crossed:
                evaluate(model, d, va_idx, st, best_path, a)
                last_eval = time.time()
            if time.time() - last_ckpt > 60 * a.ckpt_min:
                save_ckpt()
                last_ckpt = time.time()
        if st["batch"] >= len(batches):
            st["epoch"] += 1
            st["batch"] = 0
    if not st["evals"] or st["evals"][-1]["step"] != st["steps"]:  # the last step may have evaluated
        evaluate(model, d, va_idx, st, best_path, a)
    save_ckpt()
    import export
    ck = torch.load(best_path, map_location="cpu")
    model.cpu().load_state_dict(ck["state_dict"])
    export.export(model, st["config"], a.export, train_info={**ck["eval"], "params": st["params"], "args": st["args"]},
                  f16=a.f16, cache=a.cache)
    print("done: best selection score %.4f, exported %s" % (st["best_score"], a.export), flush=True)


def evaluate(model, d, va_idx, st, best_path, a):
    t0 = time.time()
    acc = per_source_accuracy(d, predict(model, d.seqs, va_idx), va_idx)
    score = selection_score(acc)
    rec = {"step": st["steps"], "epoch": st["epoch"], "tokens": st["tokens"],
           "minutes": round(st["train_s"] / 60, 2), "score": round(score, 4), "val_acc": acc,
           "eval_s": round(time.time() - t0, 1)}
    st["evals"].append(rec)
    print("EVAL %s" % json.dumps(rec), flush=True)
    if score > st["best_score"]:
        st["best_score"] = score
        tmp = best_path + ".tmp"
        torch.save({"config": st["config"], "state_dict": model.state_dict(), "eval": rec}, tmp)
        os.replace(tmp, best_path)
    with open(os.path.join(a.out, "state.json"), "w") as f:
        json.dump({k: v for k, v in st.items()}, f, indent=1)


if __name__ == "__main__":
    main()
