# imgbake -- batch image converter on libvips.
# Targets: all completions run check install uninstall clean asan tsan bench

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
PKG_CONFIG ?= pkg-config
PROVE ?= prove

VERSION = 0.1.0
PKGS = vips libmagic jansson libxxhash libwebpmux

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wwrite-strings -Wvla -Wpointer-arith -Wundef
ifdef CI
WARN += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DIMGBAKE_VERSION='"$(VERSION)"' \
	$(WARN) $(CFLAGS) -MMD -MP
LIBS = -lpthread

SRC = src/main.c src/options.c src/inputs.c src/walk.c src/sniff.c \
	src/plan.c src/queue.c src/sched.c src/convert.c src/output.c \
	src/hash.c src/manifest.c src/report.c src/htmlreport.c src/progress.c src/shard.c src/merge.c src/paths.c src/membudget.c \
	src/cgroup.c src/prune.c src/dedupe.c
OBJ = $(SRC:.c=.o)

# Unit tests link only the pure modules they test.
UNIT = tests/unit/t-paths tests/unit/t-options tests/unit/t-queue \
	tests/unit/t-membudget

.PHONY: all run check unit install uninstall clean asan tsan bench deps \
	completions

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
	$(CC) $(ALL_CFLAGS) -iquote src -c -o $@ $<

tests/unit/t-paths: tests/unit/t-paths.o src/paths.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-options: tests/unit/t-options.o src/options.o src/paths.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-membudget: tests/unit/t-membudget.o src/membudget.o src/cgroup.o
	$(CC) $(CFLAGS) -o $@ $^
tests/unit/t-queue: tests/unit/t-queue.o src/queue.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

run: deps
	@$(MAKE) --no-print-directory imgbake
	rm -rf out
	./imgbake -j2 -f webp,avif -w 480,960 -o out samples || test $$? -eq 1
	@echo "outputs in out/, manifest in out/imgbake-manifest.json"

unit: $(UNIT)

check: deps
	@$(MAKE) --no-print-directory imgbake unit
	mandoc -Tlint -Wwarning man/imgbake.1
	$(PROVE) --exec '' $(UNIT)
	$(PROVE) --exec /bin/sh tests/t*.sh

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
	rm -f imgbake $(OBJ) $(OBJ:.o=.d) $(UNIT) tests/unit/*.o tests/unit/*.d
	rm -rf out completions

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

-include $(OBJ:.o=.d) $(UNIT:=.d)
