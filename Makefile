# sentiment — a SQLite extension that classifies text with a transformer.
#
#   make            sentiment.so (load it with `.load ./sentiment`)
#   make test       every test; ends with "N passed, N failed, N skipped"
#   make test-asan  the C tests under AddressSanitizer + UBSan
#   make test-tsan  the threaded C tests under ThreadSanitizer
#   make demo       sql/demo.sql on the embedded default model
#   make deps       apt-get / npm dependencies (Debian, as root)
#   make dist, make install, make wheel, make npm-pack   the packages (mk/pkg.mk)
#   make lint       cppcheck on core/ and ext/ (any finding fails)
#   make format     clang-format (.clang-format) on the C files changed since
#                   HEAD, or on FORMAT_FILES="…"; make format-check only reports

CC      ?= cc
OPT     ?= -O2
CFLAGS  += $(OPT) -g -std=c11 -Wall -Wextra -Wshadow -fPIC -D_GNU_SOURCE \
           -fvisibility=hidden -Icore
LDLIBS  += -lopenblas -lutf8proc -lm -lpthread
PYTHON  ?= /usr/bin/python3
VERSION := $(shell cat VERSION)
CFLAGS  += -DSNT_VERSION='"$(VERSION)"'
SQLITE3 ?= sqlite3

CORE_SRC := $(sort $(wildcard core/*.c))
EXT_SRC  := $(sort $(wildcard ext/*.c))
HDRS     := $(wildcard core/*.h ext/*.h)
EMBED    := $(wildcard ext/*.S)

CORE_OBJ := $(CORE_SRC:%.c=build/%.o)
EXT_OBJ  := $(EXT_SRC:%.c=build/%.o) $(EMBED:%.S=build/%.o)

TEST_C   := $(sort $(wildcard tests/test_*.c))
TEST_HDRS := $(wildcard tests/*.h)   # every C test build depends on all of them
TEST_BIN := $(TEST_C:tests/%.c=build/tests/%)
TEST_SCRIPTS := $(sort $(wildcard tests/test_*.sh tests/test_*.py tests/test_*.mjs))

.PHONY: all loadable test test-c test-asan test-tsan demo deps clean format format-check lint
all: loadable
loadable: sentiment.so

build/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

build/%.o: %.S $(wildcard models/default/*)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# sentiment_version() is compiled in.
build/ext/sentiment.o: VERSION

sentiment.so: $(CORE_OBJ) $(EXT_OBJ)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(LDLIBS)

# C tests link the core (and ext/, for the ones that drive SQLite in-process).
build/tests/%: tests/%.c $(CORE_OBJ) $(EXT_OBJ) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iext -o $@ $< $(CORE_OBJ) $(EXT_OBJ) $(LDLIBS) -lsqlite3

test: sentiment.so $(TEST_BIN)
	@tests/run.sh $(TEST_BIN) $(TEST_SCRIPTS)

test-c: $(TEST_BIN)
	@tests/run.sh $(TEST_BIN)

# Sanitizers: a separate build tree per sanitizer (build/asan, build/tsan), the
# C tests only (the .so would need the sanitizer runtime preloaded into
# sqlite3/python/node). test-tsan runs the tests that start threads; any race
# report fails the run (TSan exits 66).
SAN_FLAGS_asan := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_FLAGS_tsan := -O1 -fno-omit-frame-pointer -fsanitize=thread
TSAN_TESTS     := test_concurrency test_threads test_scan test_load test_interrupt test_pool

test-asan:
	$(MAKE) --no-print-directory SAN=asan OPT="$(SAN_FLAGS_asan)" LDFLAGS="-fsanitize=address,undefined" \
	    SAN_TESTS="$(TEST_C:tests/%.c=%)" build-san-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run.sh $(TEST_C:tests/%.c=build/asan/tests/%)

test-tsan:
	$(MAKE) --no-print-directory SAN=tsan OPT="$(SAN_FLAGS_tsan)" LDFLAGS="-fsanitize=thread" \
	    SAN_TESTS="$(TSAN_TESTS)" build-san-tests
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 tests/run.sh $(TSAN_TESTS:%=build/tsan/tests/%)

ifdef SAN
# Keep the objects (make deletes a pattern chain's intermediates): the next
# run rebuilds only what changed.
.SECONDARY: $(CORE_SRC:%.c=build/$(SAN)/%.o) $(EXT_SRC:%.c=build/$(SAN)/%.o) $(EMBED:%.S=build/$(SAN)/%.o)
build/$(SAN)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
build/$(SAN)/%.o: %.S $(wildcard models/default/*)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@
build/$(SAN)/tests/%: tests/%.c $(CORE_SRC:%.c=build/$(SAN)/%.o) $(EXT_SRC:%.c=build/$(SAN)/%.o) $(EMBED:%.S=build/$(SAN)/%.o) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Iext -o $@ $< $(filter %.o,$^) $(LDLIBS) -lsqlite3
build-san-tests: $(SAN_TESTS:%=build/$(SAN)/tests/%)
endif

demo: sentiment.so
	$(SQLITE3) :memory: < sql/demo.sql

deps:
	bash .ci/deps

clean:
	rm -rf build sentiment.so

# cppcheck checks the one configuration the build uses (little-endian, a
# version string); the default model's start/end symbols are two objects to
# it, one to the linker.
CPPCHECK       ?= cppcheck
CPPCHECK_FLAGS := --quiet --enable=warning,portability,performance --error-exitcode=1 --std=c11 \
                  -D_GNU_SOURCE -DSNT_VERSION='"$(VERSION)"' -D__BYTE_ORDER__=1234 \
                  -D__ORDER_LITTLE_ENDIAN__=1234 -Icore -Iext --suppress=missingIncludeSystem \
                  --suppress=comparePointers:ext/model_cache.c \
                  --template='{file}:{line}: {severity}: {message} [{id}]'
lint:
	$(CPPCHECK) $(CPPCHECK_FLAGS) core ext

CLANG_FORMAT ?= clang-format
FORMAT_FILES ?= $(shell git diff --name-only --diff-filter=AM HEAD -- '*.c' '*.h' 2>/dev/null)
format:
	@$(if $(strip $(FORMAT_FILES)),$(CLANG_FORMAT) -i $(FORMAT_FILES),echo "format: no changed C files")
format-check:
	@$(if $(strip $(FORMAT_FILES)),$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES),echo "format-check: no changed C files")

# Each part of the project adds its own developer targets (fuzz, bench, train…)
# in a fragment of its own.
-include $(sort $(wildcard mk/*.mk))
