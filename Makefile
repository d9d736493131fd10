# sentiment — a SQLite extension that classifies text with a transformer.
#
#   make            sentiment.so (load it with `.load ./sentiment`)
#   make test       every test; ends with "N passed, N failed, N skipped"
#   make test-asan  the C tests under AddressSanitizer + UBSan
#   make demo       sql/demo.sql on the embedded default model
#   make deps       apt-get / npm dependencies (Debian, as root)

CC      ?= cc
OPT     ?= -O2
CFLAGS  += $(OPT) -g -std=c11 -Wall -Wextra -Wshadow -fPIC -D_GNU_SOURCE \
           -fvisibility=hidden -Icore
LDLIBS  += -lopenblas -lutf8proc -lm -lpthread
PYTHON  ?= /usr/bin/python3
SQLITE3 ?= sqlite3

CORE_SRC := $(sort $(wildcard core/*.c))
EXT_SRC  := $(sort $(wildcard ext/*.c))
HDRS     := $(wildcard core/*.h ext/*.h)
EMBED    := $(wildcard ext/*.S)

CORE_OBJ := $(CORE_SRC:%.c=build/%.o)
EXT_OBJ  := $(EXT_SRC:%.c=build/%.o) $(EMBED:%.S=build/%.o)

TEST_C   := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_C:tests/%.c=build/tests/%)
TEST_SCRIPTS := $(sort $(wildcard tests/test_*.sh tests/test_*.py tests/test_*.mjs))

.PHONY: all loadable test test-c test-asan demo deps clean
all: loadable
loadable: sentiment.so

build/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

build/%.o: %.S $(wildcard models/default/*)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

sentiment.so: $(CORE_OBJ) $(EXT_OBJ)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(LDLIBS)

# C tests link the core (and ext/, for the ones that drive SQLite in-process).
build/tests/%: tests/%.c $(CORE_OBJ) $(EXT_OBJ) tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iext -o $@ $< $(CORE_OBJ) $(EXT_OBJ) $(LDLIBS) -lsqlite3

test: sentiment.so $(TEST_BIN)
	@tests/run.sh $(TEST_BIN) $(TEST_SCRIPTS)

test-c: $(TEST_BIN)
	@tests/run.sh $(TEST_BIN)

# Sanitizers: a separate build tree, the C tests only (the .so would need the
# ASan runtime preloaded into sqlite3/python/node).
test-asan:
	$(MAKE) --no-print-directory BUILD_ASAN=1 OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run.sh $(TEST_C:tests/%.c=build/asan/tests/%)

ifdef BUILD_ASAN
build/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
build/asan/%.o: %.S $(wildcard models/default/*)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@
build/asan/tests/%: tests/%.c $(CORE_SRC:%.c=build/asan/%.o) $(EXT_SRC:%.c=build/asan/%.o) $(EMBED:%.S=build/asan/%.o) tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Iext -o $@ $< $(filter %.o,$^) $(LDLIBS) -lsqlite3
build-asan-tests: $(TEST_C:tests/%.c=build/asan/tests/%)
endif

demo: sentiment.so
	$(SQLITE3) :memory: < sql/demo.sql

deps:
	bash .ci/deps

clean:
	rm -rf build sentiment.so

# Each part of the project adds its own developer targets (fuzz, bench, train…)
# in a fragment of its own.
-include $(sort $(wildcard mk/*.mk))
