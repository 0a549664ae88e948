# httpeek: `make` builds ./httpeek; `make check` installs what is missing, builds and tests.

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
BUILD := build

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Isrc -I$(BUILD)
LDLIBS := -lbpf -lpcap -lelf -lz
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIVE_SRC := $(wildcard src/live*.c src/owner*.c)
SRC := $(wildcard src/*.c)
CORE_SRC := $(filter-out src/main.c $(LIVE_SRC),$(SRC))
OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
CORE_ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(CORE_SRC))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
HEADERS := $(wildcard src/*.h)
SKEL := $(BUILD)/httpeek.skel.h $(BUILD)/tls.skel.h

.PHONY: all deps run check test unit clean install
.SECONDARY:
all: httpeek

httpeek: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c $(HEADERS) | $(BUILD)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIVE_SRC)): $(SKEL)
$(patsubst src/%.c,$(BUILD)/asan/%.o,$(LIVE_SRC)): $(SKEL)

# The whole program under AddressSanitizer and UndefinedBehaviorSanitizer, for the test suite.
$(BUILD)/httpeek-asan: $(patsubst src/%.c,$(BUILD)/asan/%.o,$(SRC))
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/%.o: src/%.c $(HEADERS) | $(BUILD)/asan
	$(CC) $(CFLAGS) $(SANITIZE) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(CORE_ASAN_OBJ) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ $< $(CORE_ASAN_OBJ) -lcmocka -lpcap

# The kernel's framer, compiled for user space, against the pipeline.
FRAME_SIM := tests/unit/frame_sim.c tests/unit/conv_gen.c
$(BUILD)/tests/test_frame: tests/unit/test_frame.c $(FRAME_SIM) tests/unit/frame_sim.h \
		bpf/frame.h $(CORE_ASAN_OBJ) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ $< $(FRAME_SIM) $(CORE_ASAN_OBJ) -lcmocka -lpcap

# Kernel side: vmlinux.h from the running kernel's BTF, the BPF object and its skeleton.
$(BUILD)/vmlinux.h: | $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) src/record.h $(BUILD)/vmlinux.h
	$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I$(BUILD) -Isrc -Ibpf -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD) $(BUILD)/obj $(BUILD)/asan $(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_TESTS)

deps:
	sh scripts/deps.sh

run: deps
	$(MAKE) httpeek
	./httpeek -o table

test: httpeek unit $(BUILD)/httpeek-asan
	sh tests/run.sh

check: deps
	$(MAKE) test

install: httpeek
	install -D -m 0755 httpeek $(DESTDIR)$(PREFIX)/sbin/httpeek

clean:
	rm -rf $(BUILD) httpeek

# libFuzzer targets, each run FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600 for a long run).
FUZZ_SECONDS ?= 30
.PHONY: fuzz
fuzz:
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

# --- install extras (issue 6): man page and systemd unit; the unit names $(PREFIX)/sbin. ---
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
.PHONY: install-extras
install: install-extras
install-extras:
	install -D -m 0644 docs/httpeek.8 $(DESTDIR)$(MANDIR)/man8/httpeek.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/httpeek|$(PREFIX)/sbin/httpeek|' deploy/httpeek.service \
		> $(DESTDIR)$(UNITDIR)/httpeek.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/httpeek.service

.PHONY: bench
bench: httpeek
	python3 scripts/bench.py
