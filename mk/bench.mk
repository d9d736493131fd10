# mk/bench.mk — `make bench`: sentiment_scan against ONNX Runtime and PyTorch
# (bench/run.sh says what it runs; about 15 minutes on 2 cores).

.PHONY: bench bench-tools
bench-tools: build/bench/sgemm build/bench/dump_ids build/bench/sql_bench

build/bench/sgemm: bench/sgemm.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o $@ $< -lopenblas -lpthread

build/bench/dump_ids: bench/dump_ids.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS) -lsqlite3

build/bench/sql_bench: bench/sql_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o $@ $< -lsqlite3

bench: sentiment.so bench-tools
	bash bench/run.sh
