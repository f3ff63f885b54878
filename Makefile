# imgbake -- batch image converter on libvips.
# Targets: all completions run check install uninstall clean asan tsan bench fuzz fuzz-smoke

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
PKG_CONFIG ?= pkg-config
PROVE ?= prove

VERSION = 0.1.0
PKGS = vips gmodule-no-export-2.0 libmagic jansson libxxhash libwebpmux libheif libexif lcms2 libjpeg \
	libpng

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wwrite-strings -Wvla -Wpointer-arith -Wundef
ifdef CI
WARN += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DIMGBAKE_VERSION='"$(VERSION)"' \
	$(WARN) $(CFLAGS) -MMD -MP
LIBS = -lpthread -lm

SRC = src/main.c src/options.c src/inputs.c src/walk.c src/sniff.c \
	src/plan.c src/queue.c src/sched.c src/convert.c src/output.c \
	src/hash.c src/manifest.c src/report.c src/htmlreport.c src/progress.c src/shard.c src/merge.c src/paths.c src/membudget.c \
	src/cgroup.c src/prune.c src/dedupe.c src/alloc.c src/icc.c \
	src/vipserror.c src/webpdirect.c
OBJ = $(SRC:.c=.o)

# Unit tests link only the pure modules they test.
UNIT = tests/unit/t-paths tests/unit/t-options tests/unit/t-queue \
	tests/unit/t-membudget tests/unit/t-shard tests/unit/t-cgroup \
	tests/unit/t-icc tests/unit/t-sched tests/unit/t-vipserror \
	tests/unit/t-webpdirect

# Faults preloaded into imgbake by the CLI tests (tests/shim), built
# without the sanitizers, which will not run beside a preloaded library.
SHIM = tests/shim/readdir-eio.so

# libFuzzer targets for the parsers imgbake writes itself (tests/fuzz):
# each links only the src objects it needs, rebuilt with the fuzzer and
# the sanitizers under tests/fuzz/obj.  Runs write their corpora and
# crashes under FUZZ_WORK, never into the tree.
FUZZ = quality widths formats count color template args shard filelist \
	manifest journal manifest-path webpdirect
FUZZ_BIN = $(FUZZ:%=tests/fuzz/fuzz-%)
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DIMGBAKE_VERSION='"$(VERSION)"' \
	$(WARN) $(FUZZ_CFLAGS) -MMD -MP
FUZZTIME ?= 300
FUZZ_SMOKETIME ?= 1
FUZZ_WORK ?= /tmp/imgbake-fuzz
FUZZ_DIR = $(abspath $(FUZZ_WORK))

.PHONY: all run check unit shim install uninstall clean asan tsan bench deps \
	completions \
	fuzz fuzz-smoke

all: imgbake completions

# Shell completions, generated from the option table through --help.
completions: completions/imgbake.bash
completions/imgbake.bash: imgbake scripts/completions.sh
	sh scripts/completions.sh ./imgbake completions

deps:
	@sh scripts/deps.sh

# Flags from pkg-config are resolved at build time, after deps.sh ran.
src/%.o: src/%.c
	$(CC) $(ALL_CFLAGS) $$($(PKG_CONFIG) --cflags $(PKGS)) -c -o $@ $<

imgbake: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $$($(PKG_CONFIG) --libs $(PKGS)) $(LIBS)

tests/unit/%.o: tests/unit/%.c
	$(CC) $(ALL_CFLAGS) -iquote src $$($(PKG_CONFIG) --cflags lcms2 vips) -c -o $@ $<

tests/unit/t-paths: tests/unit/t-paths.o src/paths.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-options: tests/unit/t-options.o src/options.o src/paths.o src/shard.o
	$(CC) $(CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs libxxhash)
tests/unit/t-shard: tests/unit/t-shard.o src/shard.o
	$(CC) $(CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs libxxhash)
tests/unit/t-membudget: tests/unit/t-membudget.o src/membudget.o src/cgroup.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-cgroup: tests/unit/t-cgroup.o src/cgroup.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-queue: tests/unit/t-queue.o src/queue.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
tests/unit/t-sched: tests/unit/t-sched.o src/sched.o src/queue.o src/cgroup.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
tests/unit/t-icc: tests/unit/t-icc.o src/icc.o
	$(CC) $(CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs lcms2) $(LIBS)
tests/unit/t-vipserror: tests/unit/t-vipserror.o src/vipserror.o
	$(CC) $(CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs vips) $(LIBS)
tests/unit/t-webpdirect: tests/unit/t-webpdirect.o src/webpdirect.o src/icc.o
	$(CC) $(CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs libjpeg libpng libwebp libexif lcms2) \
		$(LIBS)

tests/fuzz/obj/%.o: src/%.c
	@mkdir -p tests/fuzz/obj
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) $$($(PKG_CONFIG) --cflags $(PKGS)) -c -o $@ $<
tests/fuzz/%.o: tests/fuzz/%.c
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -iquote src $$($(PKG_CONFIG) --cflags $(PKGS)) -c -o $@ $<

tests/fuzz/fuzz-quality tests/fuzz/fuzz-widths tests/fuzz/fuzz-formats \
tests/fuzz/fuzz-count tests/fuzz/fuzz-color: tests/fuzz/obj/options.o \
	tests/fuzz/obj/shard.o tests/fuzz/obj/paths.o
tests/fuzz/fuzz-template tests/fuzz/fuzz-args: tests/fuzz/obj/options.o \
	tests/fuzz/obj/shard.o tests/fuzz/obj/paths.o
tests/fuzz/fuzz-shard: tests/fuzz/obj/shard.o
tests/fuzz/fuzz-webpdirect: tests/fuzz/obj/webpdirect.o tests/fuzz/obj/icc.o
tests/fuzz/fuzz-filelist: tests/fuzz/obj/inputs.o tests/fuzz/obj/paths.o
tests/fuzz/fuzz-manifest tests/fuzz/fuzz-journal tests/fuzz/fuzz-manifest-path: \
	tests/fuzz/obj/manifest.o \
	tests/fuzz/obj/plan.o tests/fuzz/obj/options.o tests/fuzz/obj/shard.o \
	tests/fuzz/obj/paths.o tests/fuzz/obj/output.o tests/fuzz/obj/walk.o \
	tests/fuzz/obj/sniff.o tests/fuzz/obj/hash.o tests/fuzz/obj/cgroup.o
$(FUZZ_BIN): tests/fuzz/%: tests/fuzz/%.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs $(PKGS)) $(LIBS)

run: deps
	@$(MAKE) --no-print-directory imgbake
	rm -rf out
	./imgbake -j2 -f webp,avif -w 480,960 -o out samples || test $$? -eq 1
	@echo "outputs in out/, manifest in out/imgbake-manifest.json"

unit: $(UNIT)

shim: $(SHIM)

tests/shim/%.so: tests/shim/%.c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -shared -fPIC -o $@ $< -ldl

check: deps
	@$(MAKE) --no-print-directory imgbake unit shim
	mandoc -Tlint -Wwarning man/imgbake.1
	$(PROVE) --exec '' $(UNIT)
	$(PROVE) --exec /bin/sh tests/t*.sh
	@$(MAKE) --no-print-directory fuzz-smoke

install: imgbake completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 imgbake $(DESTDIR)$(BINDIR)/imgbake
	install -m 644 man/imgbake.1 $(DESTDIR)$(MANDIR)/man1/imgbake.1
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 completions/imgbake.bash $(DESTDIR)$(BASHCOMPDIR)/imgbake
	install -m 644 completions/_imgbake $(DESTDIR)$(ZSHCOMPDIR)/_imgbake

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/imgbake $(DESTDIR)$(MANDIR)/man1/imgbake.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/imgbake $(DESTDIR)$(ZSHCOMPDIR)/_imgbake

clean:
	rm -f imgbake $(OBJ) $(OBJ:.o=.d) $(UNIT) tests/unit/*.o tests/unit/*.d $(SHIM)
	rm -rf out completions
	rm -rf tests/fuzz/obj $(FUZZ_BIN) tests/fuzz/*.o tests/fuzz/*.d

# Sanitizer builds: rebuild everything with the instrumentation, then test.
asan: clean
	IMGBAKE_SANITIZED=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer' \
		LDFLAGS='-fsanitize=address,undefined' check

tsan: clean
	IMGBAKE_SANITIZED=1 TSAN_OPTIONS="suppressions=$(CURDIR)/tests/supp/tsan.supp halt_on_error=1" \
		$(MAKE) CFLAGS='-O1 -g -fsanitize=thread' LDFLAGS='-fsanitize=thread' check

bench: imgbake
	sh scripts/bench-batch.sh

# Each target for FUZZTIME seconds from its seeds (and the corpus grown
# by earlier runs); crashes are saved as FUZZ_WORK/crashes/NAME-*.
fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/crashes; failed=; \
	for t in $(FUZZ); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		dict=; test -f tests/fuzz/fuzz-$$t.dict && dict=-dict=$(CURDIR)/tests/fuzz/fuzz-$$t.dict; \
		echo "fuzz-$$t: $(FUZZTIME) s, log in $(FUZZ_DIR)/$$t.log"; \
		TMPDIR=$(FUZZ_DIR) UBSAN_OPTIONS=print_stacktrace=1 \
		tests/fuzz/fuzz-$$t -max_total_time=$(FUZZTIME) -timeout=10 \
			-print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
			$(FUZZ_DIR)/corpus/$$t $(CURDIR)/tests/fuzz/corpus/$$t \
			>$(FUZZ_DIR)/$$t.log 2>&1 || failed="$$failed $$t"; \
		grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+.*DONE)' \
			$(FUZZ_DIR)/$$t.log | sed 's/^/  /'; \
	done; \
	test -z "$$failed" || { echo "fuzz: failed:$$failed (see $(FUZZ_DIR))"; exit 1; }

# About two seconds each (libFuzzer stops once more than FUZZ_SMOKETIME
# whole seconds have passed), from the seeds, in a scratch directory.
fuzz-smoke: $(FUZZ_BIN)
	@work=$$(mktemp -d /tmp/imgbake-fuzz-smoke.XXXXXX) || exit 1; \
	failed=; \
	for t in $(FUZZ); do \
		mkdir -p $$work/$$t; \
		dict=; test -f tests/fuzz/fuzz-$$t.dict && dict=-dict=$(CURDIR)/tests/fuzz/fuzz-$$t.dict; \
		if TMPDIR=$$work UBSAN_OPTIONS=print_stacktrace=1 \
		   tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SMOKETIME) -timeout=10 $$dict \
			-artifact_prefix=$$work/$$t- $$work/$$t $(CURDIR)/tests/fuzz/corpus/$$t \
			>$$work/$$t.log 2>&1; then \
			echo "ok fuzz-$$t: $$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$work/$$t.log) runs"; \
		else \
			echo "not ok fuzz-$$t:"; tail -n 40 $$work/$$t.log; failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-smoke: failed:$$failed (inputs in $$work)"; exit 1; fi; \
	rm -rf $$work

-include $(OBJ:.o=.d) $(UNIT:=.d)
-include $(wildcard tests/fuzz/*.d tests/fuzz/obj/*.d)
