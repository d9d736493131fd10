# mk/pkg.mk — the ways a user installs it (docs/packages.md):
#
#   make dist        dist/sentiment.so, self-contained: OpenBLAS and utf8proc
#                    linked in (it needs glibc only), and the release tarball
#                    dist/sentiment-VERSION-linux-x86_64.tar.gz (.so, README.md,
#                    LICENSE, THIRD_PARTY_NOTICES, CHANGELOG.md, SHA256SUMS)
#   make install     [PREFIX=/usr/local] [DESTDIR=] the self-contained library
#                    into $(PREFIX)/lib, found by the dynamic loader: then
#                    `.load sentiment` works without a path
#   make uninstall   [PREFIX=/usr/local] [DESTDIR=]
#   make wheel       dist/sqlite_sentiment-VERSION-py3-none-linux_x86_64.whl
#                    (python/, with dist/sentiment.so inside), built offline
#   make npm-pack    dist/sqlite-sentiment-VERSION.tgz (npm/, the same .so inside)
#
# `make test` builds all of them: tests/test_dist.sh, test_install.sh,
# test_wheel.sh and test_npm.sh install and load them.

# Debian's static archives (libopenblas-pthread-dev, libutf8proc-dev). The
# pthread variant: the OpenMP one would pull in libgomp.
OPENBLAS_STATIC ?= /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a
UTF8PROC_STATIC ?= /usr/lib/x86_64-linux-gnu/libutf8proc.a

DIST_NAME := sentiment-$(VERSION)-linux-x86_64
DIST_TAR  := dist/$(DIST_NAME).tar.gz
DIST_DOCS := README.md LICENSE THIRD_PARTY_NOTICES CHANGELOG.md
WHEEL     := dist/sqlite_sentiment-$(VERSION)-py3-none-linux_x86_64.whl
NPM_TGZ   := dist/sqlite-sentiment-$(VERSION).tgz
# Archive timestamps: the last commit's, so that two builds of one commit
# give the same tarball.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
DOCDIR ?= $(PREFIX)/share/doc/sentiment

.PHONY: dist install uninstall wheel npm-pack
dist: dist/sentiment.so $(DIST_TAR)
wheel: $(WHEEL)
npm-pack: $(NPM_TGZ)
test: dist/sentiment.so $(DIST_TAR) $(WHEEL) $(NPM_TGZ)

# --exclude-libs,ALL: the archives' symbols stay inside (the only export is
# sqlite3_sentiment_init); --as-needed: no NEEDED entry for what is unused.
# The soname is the name `.load sentiment` asks dlopen for (make install).
dist/sentiment.so: $(CORE_OBJ) $(EXT_OBJ) $(OPENBLAS_STATIC) $(UTF8PROC_STATIC)
	@mkdir -p dist
	$(CC) $(CFLAGS) -shared -s -Wl,-soname,sentiment.so -Wl,--exclude-libs,ALL -Wl,--as-needed \
	    -o $@ $(CORE_OBJ) $(EXT_OBJ) $(OPENBLAS_STATIC) $(UTF8PROC_STATIC) -lm -lpthread

$(DIST_TAR): dist/sentiment.so $(DIST_DOCS)
	rm -rf build/dist && mkdir -p build/dist/$(DIST_NAME)
	cp $^ build/dist/$(DIST_NAME)/
	cd build/dist/$(DIST_NAME) && sha256sum $(notdir $^) > SHA256SUMS
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
	    -C build/dist -cf - $(DIST_NAME) | gzip -9n > $@

# ldconfig caches only lib*.so* files, under their soname: the library goes
# in as libsentiment.so.VERSION (soname sentiment.so), and the link
# sentiment.so is what dlopen("sentiment.so") then finds, through the cache
# for a directory listed in /etc/ld.so.conf (/usr/local/lib is, on Debian),
# or through LD_LIBRARY_PATH.
install: dist/sentiment.so
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)
	install -m 755 dist/sentiment.so $(DESTDIR)$(LIBDIR)/libsentiment.so.$(VERSION)
	ln -sf libsentiment.so.$(VERSION) $(DESTDIR)$(LIBDIR)/sentiment.so
	install -m 644 $(DIST_DOCS) $(DESTDIR)$(DOCDIR)/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then echo ldconfig; ldconfig; \
	 elif [ -z "$(DESTDIR)" ]; then echo "run ldconfig as root (or set LD_LIBRARY_PATH=$(LIBDIR))"; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/sentiment.so $(DESTDIR)$(LIBDIR)/libsentiment.so.$(VERSION)
	rm -f $(DIST_DOCS:%=$(DESTDIR)$(DOCDIR)/%)
	-rmdir $(DESTDIR)$(DOCDIR)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then echo ldconfig; ldconfig; fi

# The wheel is built from a copy of python/ (the source tree stays clean),
# offline, with Debian's setuptools and wheel (python3-setuptools,
# python3-wheel, python3-pip).
$(WHEEL): dist/sentiment.so $(wildcard python/*.* python/sqlite_sentiment/*.py) LICENSE THIRD_PARTY_NOTICES
	rm -rf build/wheel && mkdir -p build/wheel
	cp -r python/pyproject.toml python/setup.py python/README.md python/sqlite_sentiment \
	    LICENSE THIRD_PARTY_NOTICES build/wheel/
	rm -rf build/wheel/sqlite_sentiment/__pycache__
	cp dist/sentiment.so build/wheel/sqlite_sentiment/
	cd build/wheel && $(PYTHON) -m pip wheel -q --no-build-isolation --no-deps --no-index \
	    -w $(CURDIR)/dist .
	@test -f $@ || { echo "$@ was not written: is python/sqlite_sentiment/__init__.py's __version__ $(VERSION)?"; exit 1; }

# The npm package, packed from a copy of npm/ with the self-contained library
# in lib/ (npm pack needs no network).
$(NPM_TGZ): dist/sentiment.so $(wildcard npm/*.*) LICENSE THIRD_PARTY_NOTICES
	rm -rf build/npm && mkdir -p build/npm/lib
	cp npm/package.json npm/index.js npm/index.d.ts npm/README.md LICENSE THIRD_PARTY_NOTICES build/npm/
	cp dist/sentiment.so build/npm/lib/
	cd build/npm && npm pack --silent --pack-destination $(CURDIR)/dist >/dev/null
	@test -f $@ || { echo "$@ was not written: is npm/package.json's version $(VERSION)?"; exit 1; }

.PHONY: clean-dist
clean: clean-dist
clean-dist:
	rm -rf dist
