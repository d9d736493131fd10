"""train/pretrain.py on a tiny model and a synthetic token cache: the masked-LM loss falls,
a stopped-and-resumed run equals an uninterrupted one bit for bit, masking leaves the special
tokens alone and picks 15%, validation rows are never trained on, train_student.py --init
loads the encoder (and refuses one of another shape), and pretrain.py --init starts from one.

Usage: /usr/bin/python3 train/test_pretrain.py      (about 15 s; needs no data)
"""
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import modeling  # noqa: E402
import pretrain  # noqa: E402
import train_student  # noqa: E402

TINY = ["--dim", "32", "--layers", "1", "--heads", "2", "--hidden-dim", "64", "--budget", "256",
        "--lr", "3e-3", "--tokens", "0.01", "--threads", "1", "--log-min", "1000", "--ckpt-min", "1000"]
VAL_TOKEN = 4242  # only the validation rows contain it
HF_MLM_HEAD = ["vocab_transform.weight", "vocab_transform.bias", "vocab_layer_norm.weight",
               "vocab_layer_norm.bias", "vocab_projector.weight", "vocab_projector.bias"]


def synthetic_cache(folder, n=150, n_val=20):
    """tokens.npz of n texts: [CLS] + a run of consecutive ids from a 20-word cycle + [SEP] (so the
    masked word is predictable from its neighbours); n_val validation rows made of VAL_TOKEN."""
    rng = np.random.default_rng(7)
    seqs = []
    for _ in range(n):
        start, length = rng.integers(0, 20), rng.integers(6, 40)
        seqs.append([pretrain.CLS] + [2000 + (start + j) % 20 for j in range(length)] + [pretrain.SEP])
    seqs += [[pretrain.CLS] + [VAL_TOKEN] * 10 + [pretrain.SEP]] * n_val
    val = np.array([False] * n + [True] * n_val)
    perm = rng.permutation(len(seqs))
    seqs, val = [seqs[i] for i in perm], val[perm]
    off = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    flat = np.concatenate(seqs).astype(np.uint16)
    os.makedirs(folder, exist_ok=True)
    np.savez(os.path.join(folder, "tokens.npz"), offsets=off, flat=flat, val=val)


def main():
    checks = Checks("test_pretrain")
    check = checks.check

    td = tempfile.mkdtemp(prefix="pretrain-test-")
    try:
        cache = os.path.join(td, "cache")
        synthetic_cache(cache)

        # (c) masking: never [PAD]/[UNK]/[CLS]/[SEP]/[MASK], 15% of the rest, 80/10/10
        rng = np.random.default_rng(1)
        seqs = []
        for _ in range(400):
            body = rng.integers(pretrain.FIRST_WORDPIECE, 30522, rng.integers(3, 500))
            body[rng.random(len(body)) < 0.02] = pretrain.UNK
            seqs.append(np.concatenate([[pretrain.CLS], body, [pretrain.SEP]]))
        ids, _ = modeling.pad_batch(seqs)
        x, positions, targets = pretrain.mask_tokens(ids, torch.Generator().manual_seed(3))
        flat, xf = ids.reshape(-1), x.reshape(-1)
        special = torch.isin(flat, torch.tensor([0, 100, 101, 102, 103]))  # [PAD] [UNK] [CLS] [SEP] [MASK]
        check(not special[positions].any(), "a special token or padding was masked")
        untouched = torch.ones_like(flat, dtype=torch.bool)
        untouched[positions] = False
        check(torch.equal(xf[untouched], flat[untouched]), "tokens outside the masked positions changed")
        check(torch.equal(targets, flat[positions]), "targets are not the original ids")
        rate = len(positions) / int((~special).sum())
        check(abs(rate - 0.15) < 0.005, "masked %.4f of the candidates, not 15%%" % rate)
        got = xf[positions]
        share_mask = (got == pretrain.MASK).float().mean().item()
        share_same = (got == targets).float().mean().item()
        is_rand = (got != pretrain.MASK) & (got != targets)
        check(abs(share_mask - 0.8) < 0.02 and abs(share_same - 0.1) < 0.02,
              "[MASK] %.3f / unchanged %.3f, not 0.8 / 0.1" % (share_mask, share_same))
        check(bool(((got[is_rand] >= pretrain.FIRST_WORDPIECE) & (got[is_rand] < 30522)).all()),
              "a random replacement outside the WordPieces")

        # the data split: no validation row in pretraining or the held-out set
        texts = pretrain.Texts(cache)
        tr_idx, held = texts.split()
        check(not texts.val[tr_idx].any() and not texts.val[held].any(), "a validation row is used")
        check(len(np.intersect1d(tr_idx, held)) == 0 and len(held) > 0, "held-out rows are pretrained on")
        check(len(tr_idx) + len(held) == int((~texts.val).sum()), "some training rows are left out")

        # (a) the loss falls in 30 steps; the head is HF's, tied to the word embeddings
        out_a = os.path.join(td, "a")
        model, st = pretrain.run(TINY + ["--cache", cache, "--out", out_a, "--max-steps", "30"])
        loss0 = st["evals"][0]["heldout_loss"]
        loss30, acc30 = pretrain.heldout_eval(model, pretrain.heldout_batches(texts, held))
        print("held-out MLM loss %.3f -> %.3f, accuracy %.3f -> %.3f" % (loss0, loss30, st["evals"][0]["heldout_acc"],
                                                                      acc30))
        check(loss30 < loss0 - 2.0, "held-out MLM loss %.3f -> %.3f after 30 steps" % (loss0, loss30))
        check(acc30 > st["evals"][0]["heldout_acc"], "held-out accuracy did not rise")
        names = list(model.state_dict())
        check(all(n in names for n in HF_MLM_HEAD) and all(n.startswith("distilbert.") for n in names
                                                           if n not in HF_MLM_HEAD), "state_dict names")
        check(model.vocab_projector.weight is model.distilbert.embeddings.word_embeddings.weight,
              "projector not tied to the word embeddings")

        # (b) stopped at step 9 and resumed to 30 == 30 steps in one go (across an epoch boundary)
        out_b = os.path.join(td, "b")
        pretrain.run(TINY + ["--cache", cache, "--out", out_b, "--max-steps", "9"])
        resumed, st_b = pretrain.run(TINY + ["--cache", cache, "--out", out_b, "--max-steps", "30"])
        check(st_b["epoch"] > 1, "the runs did not cross an epoch boundary")
        sa, sb = model.state_dict(), resumed.state_dict()
        check(all(torch.equal(sa[k], sb[k]) for k in sa), "resumed parameters differ from an uninterrupted run")
        check(st["tokens"] == st_b["tokens"], "token counts differ")
        # a rerun with --max-steps already reached changes nothing (make train reruns it)
        again, st_c = pretrain.run(TINY + ["--cache", cache, "--out", out_b, "--max-steps", "30"])
        check(st_c["steps"] == 30 and all(torch.equal(sa[k], again.state_dict()[k]) for k in sa),
              "a rerun past --max-steps took another step (%d steps)" % st_c["steps"])
        out_moved = os.path.join(td, "b-moved")  # a run copied to another folder continues there
        shutil.copytree(out_b, out_moved)
        _, st_m = pretrain.run(TINY + ["--cache", cache, "--out", out_moved, "--max-steps", "31"])
        check(st_m["steps"] == 31, "a copied run did not resume (%d steps)" % st_m["steps"])
        try:
            pretrain.run(TINY + ["--cache", cache, "--out", out_b, "--lr", "1e-3"])
            check(False, "resumed with another learning rate")
        except SystemExit as e:
            check("other arguments" in str(e), "wrong refusal: %s" % e)

        # (d) train_student --init: the encoder is the file's; another shape is refused
        enc_path = os.path.join(out_a, "encoder.pt")
        enc = torch.load(enc_path)
        check(all(torch.equal(enc[k], v) for k, v in model.distilbert.state_dict().items()),
              "encoder.pt is not the model's encoder")
        student = modeling.build(train_student.student_config(pretrain.parse_args(TINY)))
        sha = train_student.init_encoder(student, enc_path)
        with open(enc_path, "rb") as f:
            check(sha == hashlib.sha256(f.read()).hexdigest(), "sha256 of encoder.pt")
        sd = student.distilbert.state_dict()
        check(set(sd) == set(enc) and all(torch.equal(sd[k], enc[k]) for k in enc),
              "student encoder differs from encoder.pt")
        # (e) pretrain --init starts from the file's encoder, the projector still tied to it
        out_e = os.path.join(td, "e")
        started, st_e = pretrain.run(TINY + ["--cache", cache, "--out", out_e, "--init", enc_path,
                                             "--max-steps", "1"])
        check(st_e["args"]["init_sha256"] == sha, "pretrain --init: sha256 not recorded")
        # the MLM head starts afresh, so step 0 is not (a)'s loss, but far below a random encoder's
        check(st_e["evals"][0]["heldout_loss"] < loss0 - 1.0,
              "pretrain --init: step 0's held-out loss %.3f, a random start's %.3f"
              % (st_e["evals"][0]["heldout_loss"], loss0))
        check(started.vocab_projector.weight is started.distilbert.embeddings.word_embeddings.weight,
              "pretrain --init: projector no longer tied")
        for flags, why in ((["--dim", "64"], "shapes differ"), (["--layers", "2"], "missing")):
            other = modeling.build(train_student.student_config(pretrain.parse_args(TINY + flags)))
            try:
                train_student.init_encoder(other, enc_path)
                check(False, "a %s student accepted the encoder" % flags)
            except SystemExit as e:
                check(why in str(e) and enc_path in str(e), "unclear refusal: %s" % e)
    finally:
        shutil.rmtree(td, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
