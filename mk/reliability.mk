# mk/reliability.mk — hostile inputs and faults.
#
#   make fuzz-model [FUZZ_SECONDS=600]
#                                      libFuzzer (clang, ASan+UBSan) on the model
#                                      files: core/json.c, config.json
#                                      (core/config.c), the safetensors header
#                                      (core/safetensors.c) and a whole model
#                                      opened from memory and run (fuzz_model:
#                                      the whole core), FUZZ_SECONDS split
#                                      between the four; each input is replayed
#                                      with every allocation failing in turn
#   make fuzz-model-build              just build them (build/fuzz/)
#   make valgrind [VALGRIND_TESTS=…]   the C tests under valgrind memcheck
#                                      (definite/indirect leaks are errors)
#
# Seeds: tests/fuzz/corpus_{json,config,safetensors,model}/ (tests/fuzz/make_model_corpus.py).
# tests/fuzz/run.sh runs at nice 15; under `nice -n 4` here, that is nice 19.

MODEL_FUZZ_CC      ?= clang
MODEL_FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                      -std=c11 -D_GNU_SOURCE -Icore
MODEL_FUZZ_SRC     := core/util.c core/json.c core/config.c core/safetensors.c
MODEL_FUZZ_LIBS    := -lm
MODEL_FUZZ_TARGETS := json config safetensors model
MODEL_FUZZ_BINS    := $(MODEL_FUZZ_TARGETS:%=build/fuzz/fuzz_%)

# fuzz_model opens and runs a whole model: every core/ file and utf8proc; its
# cblas_sgemm is a loop of its own, instrumented, in place of OpenBLAS's.
build/fuzz/fuzz_model: MODEL_FUZZ_SRC := $(CORE_SRC)
build/fuzz/fuzz_model: MODEL_FUZZ_LIBS := -lutf8proc -lm
build/fuzz/fuzz_model: $(CORE_SRC)

.PHONY: fuzz-model fuzz-model-build valgrind

# A static pattern rule: explicit, so it wins over mk/tokenizer.mk's build/fuzz/fuzz_%.
$(MODEL_FUZZ_BINS): build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_model_common.h \
                                       $(MODEL_FUZZ_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(MODEL_FUZZ_CC) $(MODEL_FUZZ_FLAGS) -o $@ $< $(MODEL_FUZZ_SRC) $(MODEL_FUZZ_LIBS)

fuzz-model-build: $(MODEL_FUZZ_BINS)

fuzz-model: fuzz-model-build
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) nice -n 4 bash tests/fuzz/run.sh $(MODEL_FUZZ_TARGETS)

# valgrind: the C tests that finish in minutes under memcheck (~50x slower than
# native), run by CI (.ci/run). SNT_VALGRIND=1 is in the environment: test_model
# keeps every 8th golden case, test_faults scans 10,000 rows instead of
# 100,000, test_concurrency runs 3 rounds. Left out by default (name them in
# VALGRIND_TESTS): test_model (9 min even so, clean), test_threads (9.5 min,
# clean), test_scan (over 20 min), test_concurrency (over 10 min: the threads
# take turns under valgrind), test_interrupt (it measures latencies, which mean
# nothing under valgrind; it skips there), test_fork (a forked child inherits
# the other threads' live allocations, which memcheck reports as lost when the
# child exits: its exit status 99 reads as a failure; it passes under ASan and
# plain runs), test_pool (forward passes on up to 4 threads, and valgrind runs one
# thread at a time: over 4 min); ASan and TSan run those in CI.
VALGRIND       ?= valgrind
VALGRIND_FLAGS := --leak-check=full --errors-for-leak-kinds=definite,indirect \
                  --error-exitcode=99 --quiet
VALGRIND_SLOW  := build/tests/test_model build/tests/test_scan build/tests/test_threads \
                  build/tests/test_concurrency build/tests/test_interrupt build/tests/test_fork \
                  build/tests/test_pool
VALGRIND_TESTS ?= $(filter-out $(VALGRIND_SLOW),$(TEST_C:tests/%.c=build/tests/%))

valgrind: $(VALGRIND_TESTS)
	@status=0; for t in $(VALGRIND_TESTS); do \
	  start=$$(date +%s); \
	  SNT_VALGRIND=1 OPENBLAS_NUM_THREADS=1 $(VALGRIND) $(VALGRIND_FLAGS) --log-file=build/valgrind-$$(basename $$t).log $$t > build/valgrind-$$(basename $$t).out 2>&1; rc=$$?; \
	  echo "$$(basename $$t): exit $$rc in $$(( $$(date +%s) - start ))s; $$(tail -n 1 build/valgrind-$$(basename $$t).out); valgrind: $$(grep -c '^==' build/valgrind-$$(basename $$t).log) log lines"; \
	  [ $$rc -eq 0 ] || status=1; \
	done; exit $$status
