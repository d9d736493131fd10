# mk/ext.mk — the SQLite extension's own targets (ext/, tests of the SQL surface).
#
#   make test-ext      the extension's tests only: SQL scripts, Python, Node, threads
#   make exports       what sentiment.so exports (one symbol: sqlite3_sentiment_init)
#   make sql-expected  rewrite tests/sql/*.expected from the current build (then
#                      read `git diff tests/sql` before committing it)

.PHONY: test-ext exports sql-expected
test-ext: sentiment.so build/tests/test_threads
	@tests/run.sh build/tests/test_threads tests/test_sql.sh tests/test_python.py tests/test_node.mjs

exports: sentiment.so
	nm -D --defined-only sentiment.so

sql-expected: sentiment.so
	SQL_TEST_UPDATE=1 tests/test_sql.sh
