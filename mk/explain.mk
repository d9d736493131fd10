# mk/explain.mk — sentiment_explain / sentiment_highlight (docs/explain.md).
#
#   make faithfulness    sql/faithfulness.py: top-3 vs random-3 word deletion on
#                        the first FAITH_REVIEWS (250) reviews of the validation
#                        slice, default model (about 2 s of CPU a review)
#   make bench-explain   bench/explain/run.sh: time and memory of one 300-word
#                        review on the default model and on DistilBERT-base

FAITH_REVIEWS ?= 250

.PHONY: faithfulness bench-explain
faithfulness: sentiment.so build/imdb-train.db
	$(PYTHON) sql/faithfulness.py build/imdb-train.db $(FAITH_REVIEWS)

bench-explain: sentiment.so build/imdb-train.db build/bench-model/distilbert-base/model.safetensors
	bench/explain/run.sh
