# mk/distributed.mk — sqlite_sentiment.distributed (python/, docs/distributed.md).
#
#   make test-distributed    tests/test_distributed.py alone
#   make bench-distributed   bench/distributed/bench.py on BENCH_N IMDb reviews
#                            (default 1,000): local scan vs 1 and 2 Dask workers,
#                            bytes per row, the coordinator's read/write/Dask rates

.PHONY: test-distributed bench-distributed
test-distributed: sentiment.so
	@tests/run.sh tests/test_distributed.py

bench-distributed: sentiment.so build/imdb-train.db
	$(PYTHON) bench/distributed/bench.py build/imdb-train.db
