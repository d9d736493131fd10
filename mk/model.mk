# mk/model.mk — the transformer core's developer targets.
#
#   make bench-model   random DistilBERT-base (bench/model/make_random.py, into
#                      build/bench-model/, never committed) → load time, RSS,
#                      latency at 128 / 512 tokens and 8 × 128, 1 and 2 threads

BENCH_MODEL_DIR := build/bench-model/distilbert-base
BENCH_MODEL_VOCAB ?= ../shared/vocab/bert-base-uncased/vocab.txt

.PHONY: bench-model
build/bench-model/bench_model: bench/model/bench_model.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

$(BENCH_MODEL_DIR)/model.safetensors: bench/model/make_random.py
	$(PYTHON) bench/model/make_random.py $(BENCH_MODEL_DIR) $(BENCH_MODEL_VOCAB)

bench-model: build/bench-model/bench_model $(BENCH_MODEL_DIR)/model.safetensors
	build/bench-model/bench_model $(BENCH_MODEL_DIR) $(BENCH_MODEL_REPS)
