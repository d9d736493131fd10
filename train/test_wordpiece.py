"""Check train/wordpiece.py against every golden case of the HF tokenizer.

Usage: /usr/bin/python3 train/test_wordpiece.py [golden.jsonl] [vocab.txt]
Skips (exit 0 with a message) when ../shared is absent.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wordpiece import WordPiece  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))


def main():
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SHARED, "golden/tokenizer/bert-base-uncased.jsonl")
    vocab = sys.argv[2] if len(sys.argv) > 2 else os.path.join(SHARED, "vocab/bert-base-uncased/vocab.txt")
    if not os.path.exists(golden) or not os.path.exists(vocab):
        print("SKIP: golden tokenizer data not found (%s)" % golden)
        return 0
    tok = WordPiece(vocab)
    passed = failed = 0
    with open(golden, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            case = json.loads(line)
            got = tok.encode(case["text"])
            if got == case["ids"]:
                passed += 1
            else:
                failed += 1
                if failed <= 10:
                    print("FAIL line %d (%s): %r" % (n, case["source"], case["text"][:80]))
                    print("  want", case["tokens"][:40])
                    print("  got ", tok.tokens(got)[:40])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
