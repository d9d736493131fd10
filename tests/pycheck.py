"""tests/pycheck.py — the check/skip/summary lines of the Python tests, in the
form tests/run.sh reads: "FAIL name: …", "SKIP name: …" and a last line
"name: N passed, N failed[, N skipped]"; finish() exits 1 on any failure."""
import os
import sys


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = self.failed = self.skipped = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s: %s" % (self.name, what))

    def skip(self, why):
        self.skipped += 1
        print("SKIP %s: %s" % (self.name, why))

    def skip_shared(self, why):
        """A skip for want of ../shared: a failure when SENTIMENT_REQUIRE_SHARED=1 (CI)."""
        if os.environ.get("SENTIMENT_REQUIRE_SHARED") == "1":
            self.check(False, why + " (SENTIMENT_REQUIRE_SHARED=1)")
        else:
            self.skip(why)

    def finish(self):
        print("%s: %d passed, %d failed%s" % (self.name, self.passed, self.failed,
                                             ", %d skipped" % self.skipped if self.skipped else ""))
        sys.exit(1 if self.failed else 0)
