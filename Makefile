# httpeek: `make` builds ./httpeek; `make check` installs what is missing, builds and tests.

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
BUILD := build

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Isrc -I$(BUILD)
LDLIBS := -lbpf -lpcap -lelf -lz
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The BPF target's architecture (bpf_tracing.h's __TARGET_ARCH_*), from the host's.
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' -e 's/aarch64.*/arm64/' \
	-e 's/arm.*/arm/' -e 's/ppc64.*/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' \
	-e 's/loongarch64/loongarch/' -e 's/mips.*/mips/')

LIVE_SRC := $(wildcard src/live*.c src/owner*.c)
SRC := $(wildcard src/*.c)
CORE_SRC := $(filter-out src/main.c $(LIVE_SRC),$(SRC))
OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
CORE_ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(CORE_SRC))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
HEADERS := $(wildcard src/*.h)
SKEL := $(BUILD)/httpeek.skel.h

.PHONY: all deps run check test unit clean install vmlinux-min
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

# Kernel side: the BPF object, stripped of DWARF (BTF stays), and its skeleton.
# bpf/vmlinux_min.h, committed, holds the kernel types the programs use: no kernel BTF is
# needed to build (loading needs it).
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) src/record.h | $(BUILD)
	$(CLANG) -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ibpf -Isrc -c -o $@ $<
	$(LLVM_STRIP) -g $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Regenerates bpf/vmlinux_min.h from a kernel's BTF (BTF=file, default the running kernel's).
vmlinux-min:
	python3 scripts/gen-vmlinux-min.py $(BTF) > bpf/vmlinux_min.h.tmp
	mv bpf/vmlinux_min.h.tmp bpf/vmlinux_min.h

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
