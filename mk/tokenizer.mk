# mk/tokenizer.mk — the tokenizer's developer targets.
#
#   make bench-tokenizer [REPS=3 HF_REPS=1]    core/wordpiece.c vs HuggingFace tokenizers
#                                      on 75k IMDb reviews (bench/tokenizer/run.sh)
#   make probe-tokenizer               ids vs HuggingFace for every Unicode code point
#                                      and 50k random strings (bench/tokenizer/probe.mjs)
#   make fuzz-tokenizer [FUZZ_SECONDS=600]
#                                      libFuzzer (clang) on snt_tokenize and the two
#                                      vocabulary loaders, FUZZ_SECONDS split
#                                      between the three targets
#   make fuzz-tokenizer-build          just build them (build/fuzz/)

TOK_OBJ := build/core/util.o build/core/json.o build/core/vocab.o build/core/wordpiece.o \
           build/core/unicode.o

.PHONY: bench-tokenizer probe-tokenizer fuzz-tokenizer fuzz-tokenizer-build

build/bench-tokenizer/bench_tokenizer: bench/tokenizer/bench.c $(TOK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOK_OBJ) -lutf8proc -lsqlite3

build/bench-tokenizer/tokenize_file: bench/tokenizer/tokenize_file.c $(TOK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOK_OBJ) -lutf8proc

probe-tokenizer: build/bench-tokenizer/tokenize_file
	bash bench/tokenizer/run.sh probe

bench-tokenizer: build/bench-tokenizer/bench_tokenizer
	REPS=$(or $(REPS),3) HF_REPS=$(or $(HF_REPS),1) bash bench/tokenizer/run.sh

# libFuzzer: clang, its own objects (the fuzzer's instrumentation everywhere).
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -std=c11 -D_GNU_SOURCE -Icore
FUZZ_SRC     := core/util.c core/json.c core/vocab.c core/wordpiece.c core/unicode.c
FUZZ_TARGETS := tokenize vocab_txt vocab_json
FUZZ_SECONDS ?= 600

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRC) -lutf8proc

fuzz-tokenizer-build: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

fuzz-tokenizer: fuzz-tokenizer-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)
