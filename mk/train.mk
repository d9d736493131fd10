# The default model (train/) and its evaluation.
#
#   make train        tokenize, teacher, student -> models/default (about 75 min on 2 cores)
#   make train-test   the Python side: tokenizer, torch model, fine-tuning recipe, export
#   make eval         accuracy, precision/recall and speed on the validation slice
#                     (EVAL_MODEL=name EVAL_DIR=folder to evaluate another model)
#   make eval-int8    the int8 path against f32 on the same slice (EVAL_DIR, default
#                     models/default): label agreement, accuracy, |Δlogit|
.PHONY: train train-test eval eval-int8

EVAL_DB    ?= build/imdb-train.db
EVAL_WHERE ?= split='train' AND id % 10 = 0
EVAL_MODEL ?= default

train:
	bash train/run.sh train

train-test:
	tests/test_train.sh

$(EVAL_DB):
	@mkdir -p $(dir $@)
	xz -dkc ../shared/data/imdb-train.db.xz > $@.tmp && mv $@.tmp $@

eval: sentiment.so $(EVAL_DB)
	sql/eval.sh $(EVAL_DB) reviews text label "$(EVAL_WHERE)" $(EVAL_MODEL) $(EVAL_DIR)

eval-int8: sentiment.so $(EVAL_DB)
	sql/eval_int8.sh $(EVAL_DB) reviews text label "$(EVAL_WHERE)" $(or $(EVAL_DIR),models/default)
