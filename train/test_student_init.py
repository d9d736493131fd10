"""train_student.py's --init-model: a second stage starts from an exported student's weights
(F32 or F16 export), and refuses a folder of another architecture.

  /usr/bin/python3 train/test_student_init.py      (a few seconds, no ../shared needed)
"""
import argparse
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
import export  # noqa: E402
import modeling  # noqa: E402
import train_student  # noqa: E402


def tiny_config(*flags):
    ap = argparse.ArgumentParser()
    train_student.add_model_args(ap)
    return train_student.student_config(ap.parse_args(["--dim", "32", "--hidden-dim", "64", *flags]))


def main():
    checks = Checks("test_student_init")
    check = checks.check
    cfg = tiny_config()
    torch.manual_seed(1)
    trained = modeling.build(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = os.path.join(tmp, "vocab.txt")
        with open(vocab, "w") as f:
            f.write("[PAD]\n")
        for f16 in (False, True):
            folder = os.path.join(tmp, "f16" if f16 else "f32")
            export.export(trained, cfg, folder, f16=f16, vocab=vocab, val_logits=False)
            torch.manual_seed(2)
            fresh = modeling.build(cfg)
            sha = train_student.init_model(fresh, cfg, folder)
            check(len(sha) == 64, "a sha256 hex digest, got %r" % sha)
            tol = 1e-3 if f16 else 0.0  # F16 rounding of weights of magnitude < 1
            worst = max(float((a - b).abs().max()) for a, b in
                        zip(fresh.state_dict().values(), trained.state_dict().values()))
            check(worst <= tol, "%s export: max |weight difference| %g > %g" % ("F16" if f16 else "F32", worst, tol))
            check(set(fresh.state_dict()) == set(trained.state_dict()), "every tensor loaded")

        other = tiny_config("--layers", "3")
        try:
            train_student.init_model(modeling.build(other), other, os.path.join(tmp, "f32"))
            check(False, "a 3-layer run accepted a 2-layer export")
        except SystemExit as e:
            check("n_layers" in str(e), "the refusal names the differing field: %s" % e)
    checks.finish()


if __name__ == "__main__":
    main()
