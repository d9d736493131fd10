"""Masked-LM pretraining of the student's encoder on every training text, labeled or not.

Usage:
  /usr/bin/python3 train/pretrain.py --tokens 110       (110 M tokens -> train/runs-pretrain/encoder.pt)
  /usr/bin/python3 train/pretrain.py --bench            (tokens/s of a few steps)
  /usr/bin/python3 train/train_student.py --init train/runs-pretrain/encoder.pt ...   (then distil)

Model: the student's own DistilBERT (train_student.student_config; the recipe passes the shipped
shape, train/recipe.sh's MODEL_FLAGS) under an MLM head named and shaped as HF DistilBertForMaskedLM's:

    ids (B, T) --distilbert--> h (B, T, D) --gather masked--> (M, D)
      --vocab_transform--> GELU --vocab_layer_norm--> vocab_projector (tied to the word
      embeddings, own bias) --> logits (M, V)

Only the M masked positions reach the 30,522-wide projection, the costly part.
Data: every text of <cache>/tokens.npz outside the validation slices (val == 0), less a fixed
held-out set of 500 of them, on which the log reports the MLM loss and masked-token accuracy
(fixed masks, dropout off). Masking: 15% of the tokens that are not [PAD]/[UNK]/[CLS]/[SEP]/
[MASK]; of those 80% become [MASK], 10% a random WordPiece (ids 999+: no [unused*] or special
token), 10% stay. Batches, the learning-rate schedule (by tokens done), per-step seeds and
resuming are train_student.py's: every --ckpt-min minutes the full state goes to <out>/ckpt.pt
(temp file + rename) and a rerun with the same arguments continues from it (--threads,
--ckpt-min, --log-min, --max-steps and the folders may change). <out>/encoder.pt (the DistilBertModel
state_dict: embeddings + transformer) is written with every checkpoint; <out>/state.json holds
the arguments and the held-out curve.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modeling  # noqa: E402
from train_student import (add_model_args, init_encoder, lr_at, make_batches, make_optimizer,  # noqa: E402
                           recipe_args, same_recipe, student_config)

from modeling import CLS, MASK, SEP, UNK  # noqa: E402,F401  (tests use pretrain.CLS ...)
FIRST_WORDPIECE = 999  # ids below are [PAD], [unused*] and the special tokens
HELDOUT_N, HELDOUT_SEED = 500, 20261201
# Arguments that do not change the trained weights' recipe; a resume may change them (the
# folders too: a run copied elsewhere, or a clone in another directory, continues).
RESUME_FREE = ("threads", "ckpt_min", "log_min", "max_steps", "cache", "out")
ONLY_WHEN_GIVEN = ("device",)  # recorded when not the default: the args of earlier runs stay


class DistilBertForMaskedLM(nn.Module):
    """HF DistilBertForMaskedLM's modules and state_dict names; forward scores masked positions only."""

    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        self.config = cfg
        self.distilbert = modeling.DistilBertModel(cfg)
        self.vocab_transform = nn.Linear(dim, dim)
        self.vocab_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        self.vocab_projector = nn.Linear(dim, cfg["vocab_size"])
        self.apply(lambda m: modeling._init(m, cfg.get("initializer_range", 0.02)))
        self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight

    def forward(self, ids, mask, positions):
        """ids, mask (B, T); positions (M,) flat indices into B * T -> logits (M, vocab)."""
        h = self.distilbert(ids, mask)
        h = h.reshape(-1, h.shape[-1]).index_select(0, positions)
        return self.vocab_projector(self.vocab_layer_norm(F.gelu(self.vocab_transform(h))))


def mask_tokens(ids, generator=None, p=0.15):
    """ids (B, T) padded batch -> (masked ids, positions (M,) flat, targets (M,)).

    Draws from torch's global RNG unless a generator is given."""
    flat = ids.reshape(-1)
    pick = modeling.maskable(flat) & (torch.rand(flat.shape, generator=generator) < p)
    positions = pick.nonzero().squeeze(1)
    targets = flat[positions]
    r = torch.rand(positions.shape, generator=generator)
    rand_ids = torch.randint(FIRST_WORDPIECE, 30522, positions.shape, generator=generator)
    new = torch.where(r < 0.8, torch.full_like(targets, MASK), torch.where(r < 0.9, rand_ids, targets))
    out = flat.clone()
    out[positions] = new
    return out.view_as(ids), positions, targets


class Texts:
    """tokens.npz as views: seq(i) is text i's ids ([CLS] ... [SEP]) as int64."""

    def __init__(self, cache):
        tok = np.load(os.path.join(cache, "tokens.npz"))
        self.off, self.flat, self.val = tok["offsets"], tok["flat"], tok["val"]
        self.lens = np.diff(self.off)

    def seq(self, i):
        return self.flat[self.off[i]:self.off[i + 1]].astype(np.int64)

    def split(self):
        """(pretraining rows, held-out rows): all val == 0 rows, HELDOUT_N of them set aside."""
        rows = np.nonzero(~self.val.astype(bool))[0]
        held = np.sort(np.random.default_rng(HELDOUT_SEED).choice(rows, min(HELDOUT_N, len(rows) // 10),
                                                                  replace=False))
        return np.setdiff1d(rows, held), held


def heldout_batches(texts, held, budget=16384):
    """The held-out texts as padded batches with fixed masks: [(ids, mask, positions, targets)]."""
    gen = torch.Generator().manual_seed(HELDOUT_SEED)
    order = held[np.argsort(texts.lens[held], kind="stable")]
    out, pos = [], 0
    while pos < len(order):
        n = 1
        while pos + n < len(order) and texts.lens[order[pos + n]] * (n + 1) <= budget:
            n += 1
        ids, mask = modeling.pad_batch([texts.seq(i) for i in order[pos:pos + n]])
        out.append((mask,) + mask_tokens(ids, gen))
        pos += n
    return out


@torch.no_grad()
def heldout_eval(model, batches):
    """-> (mean MLM loss, masked-token accuracy) on the fixed held-out masks (on the model's
    device), dropout off."""
    model.eval()
    loss = hits = n = 0.0
    for mask, ids, positions, targets in batches:
        logits = model(ids, mask, positions)
        loss += F.cross_entropy(logits, targets, reduction="sum").item()
        hits += (logits.argmax(1) == targets).sum().item()
        n += len(targets)
    model.train()
    return loss / max(n, 1), hits / max(n, 1)


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs-pretrain"))
    ap.add_argument("--tokens", type=float, default=110.0, help="pretraining tokens, millions")
    add_model_args(ap)  # the student's architecture, its defaults
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--budget", type=int, default=8192, help="padded tokens per batch")
    ap.add_argument("--mask-p", type=float, default=0.15)
    ap.add_argument("--log-min", type=float, default=5.0)
    ap.add_argument("--ckpt-min", type=float, default=10.0)
    ap.add_argument("--max-steps", type=int, default=0, help="stop (checkpointed) at this step, as if killed")
    ap.add_argument("--threads", type=int, default=1, help="1 beat 2 on the shared 2-core machine")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--init", help="start the encoder from this encoder.pt (embed_init.py's, say)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is (train/device.sh)")
    ap.add_argument("--bench", action="store_true")
    return ap


def parse_args(argv):
    return build_parser().parse_args(argv)


def run(argv=None):
    """Pretrain (or resume) as the command line says; returns (model, state)."""
    ap = build_parser()
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    texts = Texts(a.cache)
    tr_idx, held = texts.split()
    held_b = heldout_batches(texts, held)
    total = a.tokens * 1e6
    print("pretrain %d texts (%.1f M tokens/epoch), held out %d, load %.1fs"
          % (len(tr_idx), texts.lens[tr_idx].sum() / 1e6, len(held), time.time() - t0), flush=True)

    torch.manual_seed(a.seed)
    cfg = student_config(a)
    model = DistilBertForMaskedLM(cfg)
    if a.init:  # the projector is tied to the word embeddings: it starts from them too
        a.init_sha256 = init_encoder(model, a.init)
    n_params = sum(p.numel() for p in model.parameters())
    dev = torch.device(a.device)
    model.to(dev)  # the projector stays tied: to() moves the one Parameter
    held_b = [tuple(t.to(dev) for t in batch) for batch in held_b]  # once, not at every evaluation
    opt = make_optimizer(model, a.lr, a.wd)  # the tied projector weight is the embedding: no decay

    os.makedirs(a.out, exist_ok=True)
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    args = recipe_args(a, ap, ONLY_WHEN_GIVEN)  # another device draws other dropout masks: another run
    st = {"config": cfg, "params": n_params, "args": args, "evals": [],
          "epoch": 1, "batch": 0, "steps": 0, "tokens": 0, "train_s": 0.0}
    if os.path.exists(ckpt_path) and not a.bench:
        ck = torch.load(ckpt_path, map_location="cpu")
        if not same_recipe(ck["state"]["args"], st["args"], RESUME_FREE):
            raise SystemExit("%s was made with other arguments; move it away to start afresh" % ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        ck["state"]["args"] = st["args"]
        st = ck["state"]
        print("resumed at epoch %d batch %d, %.2f M tokens" % (st["epoch"], st["batch"], st["tokens"] / 1e6),
              flush=True)
    print("params %d (MLM head included)" % n_params, flush=True)

    def log_eval(train_loss):
        loss, acc = heldout_eval(model, held_b)
        rec = {"step": st["steps"], "epoch": st["epoch"], "tokens": st["tokens"],
               "minutes": round(st["train_s"] / 60, 2), "train_loss": train_loss and round(train_loss, 4),
               "heldout_loss": round(loss, 4), "heldout_acc": round(acc, 4)}
        st["evals"].append(rec)
        print("EVAL %s" % json.dumps(rec), flush=True)

    def save_ckpt():
        for path, obj in ((ckpt_path, {"model": model.state_dict(), "opt": opt.state_dict(), "state": st}),
                          (os.path.join(a.out, "encoder.pt"), model.distilbert.state_dict())):
            torch.save(obj, path + ".tmp")
            os.replace(path + ".tmp", path)
        with open(os.path.join(a.out, "state.json"), "w") as f:
            json.dump(st, f, indent=1)

    t_run = time.time()
    train_s0 = st["train_s"]
    last_ckpt = last_log = time.time()
    tok_run, loss_sum, loss_n = 0, 0.0, 0
    if not st["evals"] and not a.bench:
        log_eval(None)
    stopped = bool(a.max_steps and st["steps"] >= a.max_steps)  # a rerun of a finished stop: no step more
    while st["tokens"] < total and not stopped:
        batches = make_batches(tr_idx, texts.lens, a.budget, np.random.default_rng(a.seed * 1000 + st["epoch"]))
        while st["batch"] < len(batches) and st["tokens"] < total:
            b = batches[st["batch"]]
            for g in opt.param_groups:
                g["lr"] = lr_at(st["tokens"] / total, a.lr)
            torch.manual_seed(a.seed * 1000003 + st["steps"])
            ids, mask = modeling.pad_batch([texts.seq(i) for i in b])
            x, positions, targets = mask_tokens(ids, p=a.mask_p)
            if len(positions):
                loss = F.cross_entropy(model(x.to(dev), mask.to(dev), positions.to(dev)), targets.to(dev))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
            st["steps"] += 1
            st["batch"] += 1
            n = int(texts.lens[b].sum())
            st["tokens"] += n
            tok_run += n
            st["train_s"] = train_s0 + time.time() - t_run
            if a.bench and st["steps"] % 5 == 0:
                print("step %d  loss %.4f  %.0f tok/s" % (st["steps"], loss_sum / max(loss_n, 1),
                                                         tok_run / (time.time() - t_run)), flush=True)
            if a.bench and st["steps"] >= 30:
                print("BENCH %.0f tok/s" % (tok_run / (time.time() - t_run)))
                return model, st
            if time.time() - last_log > 60 * a.log_min:
                print("ep %d step %d  loss %.4f  lr %.2e  %.0f tok/s  %.1f min  %.2f/%.0f M tokens"
                      % (st["epoch"], st["steps"], loss_sum / max(loss_n, 1), opt.param_groups[0]["lr"],
                         tok_run / (time.time() - t_run), st["train_s"] / 60, st["tokens"] / 1e6, a.tokens),
                      flush=True)
                log_eval(loss_sum / max(loss_n, 1))
                loss_sum, loss_n, last_log = 0.0, 0, time.time()
            if a.max_steps and st["steps"] >= a.max_steps:
                stopped = True
                break
            if time.time() - last_ckpt > 60 * a.ckpt_min:
                save_ckpt()
                last_ckpt = time.time()
        if st["batch"] >= len(batches):
            st["epoch"] += 1
            st["batch"] = 0
    if not stopped:
        log_eval(loss_sum / max(loss_n, 1))
    save_ckpt()
    print("%s at step %d, %.2f M tokens: %s" % ("stopped" if stopped else "done", st["steps"], st["tokens"] / 1e6,
                                                os.path.join(a.out, "encoder.pt")), flush=True)
    return model, st


if __name__ == "__main__":
    run()
