"""Check train/wordpiece.py against every golden case of the HF tokenizer.

Usage: /usr/bin/python3 train/test_wordpiece.py [golden.jsonl] [vocab.txt]
Skips with a message when ../shared is absent (a failure when SENTIMENT_REQUIRE_SHARED=1, as in CI).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from pycheck import Checks  # noqa: E402
from wordpiece import WordPiece  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))


def main():
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SHARED, "golden/tokenizer/bert-base-uncased.jsonl")
    vocab = sys.argv[2] if len(sys.argv) > 2 else os.path.join(SHARED, "vocab/bert-base-uncased/vocab.txt")
    checks = Checks("test_wordpiece")
    if not os.path.exists(golden) or not os.path.exists(vocab):
        checks.skip_shared("golden tokenizer data not found (%s)" % golden)
        checks.finish()
    tok = WordPiece(vocab)
    with open(golden, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            case = json.loads(line)
            got = tok.encode(case["text"])
            checks.check(got == case["ids"], "line %d (%s): %r\n  want %s\n  got  %s" % (
                n, case["source"], case["text"][:80], case["tokens"][:40], tok.tokens(got)[:40]))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
