# The default model (train/) and its evaluation.
#
#   make train          tokenize, teachers, student -> models/default (resumable; train/README.md)
#   make train-test     the Python side: tokenizer, torch model, fine-tuning recipe, export
#   make eval           per-source accuracy on the validation slices (train/slices.py)
#                       (EVAL_MODEL=name EVAL_DIR=folder to evaluate another model)
#   make eval-baseline  TF-IDF+LR trained on the same data, scored on the same slices, beside it
#   make eval-imdb      accuracy, precision/recall and speed on the IMDb validation slice
#   make eval-int8      the int8 path against f32 on the IMDb slice (EVAL_DIR, default
#                       models/default): label agreement, accuracy, |Δlogit|
.PHONY: train train-test eval eval-baseline eval-imdb eval-int8

EVAL_DB    ?= build/imdb-train.db
EVAL_WHERE ?= split = 'train' AND (CAST(substr(file, 11) AS INTEGER) / 250) % 10 = 0
EVAL_MODEL ?= default

train:
	bash train/run.sh train

train-test:
	tests/test_train.sh

$(EVAL_DB):
	@mkdir -p $(dir $@)
	xz -dkc ../shared/data/imdb-train.db.xz > $@.tmp && mv $@.tmp $@

eval: sentiment.so
	$(PYTHON) sql/eval_slices.py --model $(EVAL_MODEL) $(if $(EVAL_DIR),--dir $(EVAL_DIR)) \
	  $(if $(wildcard build/baseline/teacher.json),--baseline build/baseline/teacher.json)

eval-baseline: sentiment.so
	bash train/run.sh baseline
	$(PYTHON) sql/eval_slices.py --model $(EVAL_MODEL) $(if $(EVAL_DIR),--dir $(EVAL_DIR)) \
	  --baseline build/baseline/teacher.json

eval-imdb: sentiment.so $(EVAL_DB)
	sql/eval.sh $(EVAL_DB) reviews text label "$(EVAL_WHERE)" $(EVAL_MODEL) $(EVAL_DIR)

eval-int8: sentiment.so $(EVAL_DB)
	sql/eval_int8.sh $(EVAL_DB) reviews text label "$(EVAL_WHERE)" $(or $(EVAL_DIR),models/default)
