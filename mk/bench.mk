# mk/bench.mk — `make bench`: sentiment_scan against ONNX Runtime and PyTorch
# (bench/run.sh says what it runs; about 15 minutes on 2 cores).

.PHONY: bench bench-tools
bench-tools: build/bench/sgemm build/bench/dump_ids build/bench/sql_bench build/bench/noscan/sentiment.so \
             build/bench/threads build/bench/qgemm

# The library without sentiment_scan (bench/noscan.c registers nothing in
# its place): the scalar path "before", for bench/run.sh.
build/bench/noscan/sentiment.so: bench/noscan.c $(CORE_OBJ) $(filter-out build/ext/scan_vtab.o build/ext/scan_batch.o,$(EXT_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iext -shared -o $@ $^ $(LDLIBS)

build/bench/sgemm: bench/sgemm.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o $@ $< -lopenblas -lpthread

build/bench/dump_ids: bench/dump_ids.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS) -lsqlite3

build/bench/threads: bench/threads.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

build/bench/qgemm: bench/qgemm.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

build/bench/sql_bench: bench/sql_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o $@ $< -lsqlite3

# From a fresh clone: .ci/deps first (python3-torch, python3-onnx, node, the
# build tools; it installs only what is missing), then the build, then the run.
bench:
	bash .ci/deps
	$(MAKE) --no-print-directory sentiment.so bench-tools
	bash bench/run.sh

# Load time and memory of reading weights into memory vs mapping them
# (bench/load_cost.c; docs/reliability.md quotes it).
build/bench/load_cost: bench/load_cost.c $(CORE_OBJ) tests/model_fixture.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)
