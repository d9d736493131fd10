# mk/docs.mk — the README's transcripts are tested (tests/test_readme.py).
#
#   make readme-check    run every sqlite3 transcript in README.md, compare its output
#                        (also part of make test)
#   make readme-update   rewrite those outputs from a real run (after a new default
#                        model, say), then read `git diff README.md`

.PHONY: readme-check readme-update
readme-check: sentiment.so
	@tests/run.sh tests/test_readme.py

readme-update: sentiment.so
	$(PYTHON) tests/test_readme.py --update
