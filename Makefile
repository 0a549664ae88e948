# httpeek: `make` builds ./httpeek, `make check` builds and runs every test, `make help` lists
# the targets. Nothing here installs packages: sudo ./scripts/deps.sh does, once.

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BUILD := build

# Yours, appended to ours: CFLAGS (default -O2 -g), CPPFLAGS, LDFLAGS, LDLIBS; BPF_CFLAGS for
# the BPF object.
CFLAGS ?= -O2 -g
HPK_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter
DEPFLAGS = -MMD -MP -MF $(@:%=%.d)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The BPF target's architecture (bpf_tracing.h's __TARGET_ARCH_*), from the host's.
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' -e 's/aarch64.*/arm64/' \
	-e 's/arm.*/arm/' -e 's/ppc64.*/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' \
	-e 's/loongarch64/loongarch/' -e 's/mips.*/mips/')

# Libraries, through pkg-config, each with the least version httpeek needs: libbpf 1.0 (its
# calls return negative errno values and NULL, as src/live.c expects), libpcap 1.5
# (pcap_fopen_offline_with_tstamp_precision), libnghttp2 1.10 (nghttp2_hd_inflate_hd2,
# HTTP/2's HPACK); libelf and zlib (libbpf's own), any; capstone 4 (cs_disasm_iter: the return
# instructions of Go's (*Conn).Read, src/live/tls/go_rets.c).
LIBS_NEEDED := libbpf>=1.0 libpcap>=1.5 libnghttp2>=1.10.0 libelf zlib capstone>=4.0
NO_LIBS_GOALS := clean help deps vmlinux-min install-extras
ifneq ($(filter-out $(NO_LIBS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell command -v $(PKG_CONFIG)),)
$(error $(PKG_CONFIG) not found: install pkg-config (sudo ./scripts/deps.sh))
endif
pc_missing = $(shell $(PKG_CONFIG) --exists '$(subst >=, >= ,$(1))' || \
	echo "[$(subst >=, >= ,$(1)), found $$($(PKG_CONFIG) --modversion $(firstword \
	$(subst >=, ,$(1))) 2>/dev/null || echo none)]")
LIBS_MISSING := $(strip $(foreach l,$(LIBS_NEEDED),$(call pc_missing,$(l))))
ifneq ($(LIBS_MISSING),)
$(error httpeek needs $(LIBS_MISSING): install the development packages \
	(sudo ./scripts/deps.sh) or point PKG_CONFIG_PATH at them)
endif
LIB_NAMES := $(foreach l,$(LIBS_NEEDED),$(firstword $(subst >=, ,$(l))))
LIBS_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIB_NAMES))
LIBBPF_INCLUDES := $(shell $(PKG_CONFIG) --cflags-only-I libbpf)
LIBS := $(shell $(PKG_CONFIG) --libs $(LIB_NAMES))
endif
PCAP_LIBS = $(or $(shell $(PKG_CONFIG) --libs libpcap 2>/dev/null),-lpcap)
NGHTTP2_LIBS = $(or $(shell $(PKG_CONFIG) --libs libnghttp2 2>/dev/null),-lnghttp2)
CMOCKA_LIBS = $(or $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null),-lcmocka)

ALL_CPPFLAGS = -Isrc -Ibpf -I$(BUILD) $(LIBS_CFLAGS) $(CPPFLAGS)
COMPILE = $(CC) $(ALL_CPPFLAGS) $(HPK_CFLAGS) $(CFLAGS)
LINK = $(CC) $(HPK_CFLAGS) $(CFLAGS) $(LDFLAGS)

# Quiet build lines (CC file.o); make V=1 prints the full commands.
ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(BUILD)/%,%,$(2))";
endif

# src/ holds one folder per stage (docs/ARCHITECTURE.md). The files that load the BPF
# programs include their skeletons and need libbpf; everything else (LIB_SRC) also goes into
# the unit tests and the fuzz targets, through an archive, so each takes what it calls.
SRC := $(sort $(shell find src -name '*.c'))
SKEL_USERS := $(sort $(shell grep -rl --include='*.c' '\.skel\.h"' src))
LIB_SRC := $(filter-out src/main.c $(SKEL_USERS),$(SRC))
OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(SRC))
LIB_ASAN := $(BUILD)/asan/libhttpeek.a
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c'))
UNIT_TESTS := $(foreach t,$(UNIT_SRC),$(BUILD)/tests/$(basename $(notdir $(t))))
PROG_TEST := $(BUILD)/tests/prog_test_run
FLOOR := $(BUILD)/bench/floor $(BUILD)/bench/floor.bpf.o
# One BPF object and skeleton per bpf/*.bpf.c.
SKEL := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(wildcard bpf/*.bpf.c))

.PHONY: all run check test-unit test-offline test-bpf test-live fuzz-smoke fuzz bench mutants \
	install install-extras clean deps help vmlinux-min
.SECONDARY:
.DELETE_ON_ERROR:
all: httpeek

help:
	@echo 'make                 build ./httpeek'
	@echo 'make run             build, then trace this host live (root)'
	@echo 'make check           every suite below, one summary (root for bpf and live)'
	@echo 'make test-unit       unit tests (ASan, UBSan)'
	@echo 'make test-offline    unit tests and every check on captures, also under ASan'
	@echo 'make test-bpf        the BPF programs on canned packets (root)'
	@echo 'make test-live       end-to-end in network namespaces (root)'
	@echo 'make fuzz-smoke      every libFuzzer target, the same 10000 inputs each (FUZZ_RUNS)'
	@echo 'make fuzz            every target for FUZZ_SECONDS (10), random seeds: FUZZ_SECONDS=600'
	@echo 'make mutants         break the code on purpose: each check must go red (root)'
	@echo 'make bench           httpeek against httpry and tshark, live overhead, floors (root)'
	@echo 'make install         PREFIX=$(PREFIX) DESTDIR=...'
	@echo 'make vmlinux-min     regenerate bpf/vmlinux_min.h (needs kernel BTF)'

# --- the program ---

httpeek: $(OBJ)
	$(call msg,LINK,$@)$(LINK) -o $@ $^ $(LIBS) $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(COMPILE) $(DEPFLAGS) -c -o $@ $<

# The whole program under AddressSanitizer and UndefinedBehaviorSanitizer, for the test suite.
$(BUILD)/httpeek-asan: $(ASAN_OBJ)
	$(call msg,LINK,$@)$(LINK) $(SANITIZE) -o $@ $^ $(LIBS) $(LDLIBS)

$(BUILD)/asan/%.o: src/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(COMPILE) $(SANITIZE) $(DEPFLAGS) -c -o $@ $<

$(LIB_ASAN): $(patsubst src/%.c,$(BUILD)/asan/%.o,$(LIB_SRC))
	$(call msg,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(foreach u,$(SKEL_USERS),$(patsubst src/%.c,$(BUILD)/obj/%.o,$(u)) \
	$(patsubst src/%.c,$(BUILD)/asan/%.o,$(u))): | $(SKEL)

# --- the kernel side: the BPF object, stripped of DWARF (BTF stays), and its skeleton ---

# bpf/vmlinux_min.h, committed, holds the kernel types the programs use: no kernel BTF is
# needed to build (loading needs it).
$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)$(CLANG) -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ibpf \
		$(LIBBPF_INCLUDES) $(BPF_CFLAGS) $(DEPFLAGS) -c -o $@ $<
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Regenerates bpf/vmlinux_min.h from a kernel's BTF (BTF=file, default the running kernel's).
vmlinux-min:
	python3 scripts/gen-vmlinux-min.py $(BTF) > bpf/vmlinux_min.h.tmp
	mv bpf/vmlinux_min.h.tmp bpf/vmlinux_min.h

# --- tests ---

# Unit tests: tests/unit/STAGE/test_NAME.c becomes build/tests/test_NAME, linked with the
# other .c files of its folder and the stages' archive.
define unit_test
$(BUILD)/tests/$(basename $(notdir $(1))): $(patsubst tests/%.c,$(BUILD)/tests/obj/%.o,$(1) \
		$(filter-out $(dir $(1))test_%,$(wildcard $(dir $(1))*.c))) $(LIB_ASAN)
	$$(call msg,LINK,$$@)$$(LINK) $$(SANITIZE) -o $$@ $$^ $$(CMOCKA_LIBS) $$(PCAP_LIBS) \
		$$(NGHTTP2_LIBS) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_test,$(t))))

$(BUILD)/tests/obj/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(COMPILE) -I$(dir $<) $(SANITIZE) $(DEPFLAGS) -c -o $@ $<

# The TLS attacher's ELF reader (libelf) reads a small shared object with OpenSSL's function
# names, built here from tests/unit/live/tls/funcs.c.
$(BUILD)/tests/test_live_tls: LDLIBS += -lelf
$(BUILD)/tests/test_live_tls: | $(BUILD)/tests/tls-funcs.so

# The Go readers: capstone decodes (*Conn).Read.
$(BUILD)/tests/test_live_tls_go: LDLIBS += $(shell $(PKG_CONFIG) --libs capstone 2>/dev/null)

# OpenSSL's internal read and write functions (src/live/tls/ssl_core.c), found in wrappers
# built here from tests/unit/live/tls/cores.c, and in this host's libssl.so.3.
$(BUILD)/tests/test_live_tls_core: LDLIBS += -lelf $(shell $(PKG_CONFIG) --libs capstone 2>/dev/null)
$(BUILD)/tests/test_live_tls_core: | $(BUILD)/tests/tls-funcs.so $(BUILD)/tests/tls-cores.so \
		$(BUILD)/tests/tls-cores-ex2.so

$(BUILD)/tests/tls-cores.so: tests/unit/live/tls/cores.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) -O1 -fPIC -fno-stack-protector -shared -nostdlib -Wl,--build-id=none -s -o $@ $<

$(BUILD)/tests/tls-cores-ex2.so: tests/unit/live/tls/cores.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) -O1 -DWRITE_EX2 -fPIC -fno-stack-protector -shared -nostdlib -Wl,--build-id=none -s -o $@ $<

$(BUILD)/tests/tls-funcs.so: tests/unit/live/tls/funcs.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) -O1 -fPIC -shared -nostdlib -Wl,--build-id=none -s -o $@ $<

# BPF_PROG_TEST_RUN: the programs of the skeleton on canned packets.
$(BUILD)/tests/bpf/%.o: tests/bpf/%.c | $(SKEL)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(COMPILE) -Itests/unit/frame -Werror $(DEPFLAGS) -c -o $@ $<

$(PROG_TEST): $(BUILD)/tests/bpf/prog_test_run.o $(BUILD)/tests/bpf/prog_test_cases.o
	$(call msg,LINK,$@)$(LINK) -o $@ $^ $(LIBS) $(LDLIBS)

# The programs against their user-space twin (tests/unit/frame/twin.c), on canned packets
# and on real sockets.
FRAME_TWIN := $(BUILD)/tests/frame_twin
$(BUILD)/tests/bpf/unit/%.o: tests/unit/frame/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(COMPILE) -Itests/unit/frame $(DEPFLAGS) -c -o $@ $<

$(FRAME_TWIN): $(BUILD)/tests/bpf/frame_twin.o $(BUILD)/tests/bpf/frame_twin_sock.o \
		$(BUILD)/tests/bpf/unit/twin.o $(BUILD)/tests/bpf/unit/conv_gen.o
	$(call msg,LINK,$@)$(LINK) -o $@ $^ $(LIBS) $(LDLIBS)

# libFuzzer targets: the pure stages, built once with the fuzzer's instrumentation.
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Isrc -Ibpf -Itests/unit/frame -fno-sanitize-recover=undefined
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard fuzz/fuzz_*.c))
LIB_FUZZ := $(BUILD)/fuzz/libhttpeek.a

$(BUILD)/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/fuzz/obj/%.o: tests/unit/frame/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/fuzz/obj/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(DEPFLAGS) -c -o $@ $<

$(LIB_FUZZ): $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC))
	$(call msg,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/fuzz_%.o $(LIB_FUZZ)
	$(call msg,LINK,$@)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PCAP_LIBS) \
		$(NGHTTP2_LIBS) $(FUZZ_LDLIBS)

# The TLS attacher's ELF readers (libelf; capstone for Go's and OpenSSL's code), seeded with
# the unit tests' shared objects.
$(BUILD)/fuzz/fuzz_tls_elf: FUZZ_LDLIBS = -lelf $(shell $(PKG_CONFIG) --libs capstone 2>/dev/null)
$(BUILD)/fuzz/fuzz_tls_elf: | $(BUILD)/fuzz/corpus-fuzz_tls_elf/tls-funcs.so \
		$(BUILD)/fuzz/corpus-fuzz_tls_elf/tls-cores.so

$(BUILD)/fuzz/corpus-fuzz_tls_elf/%.so: $(BUILD)/tests/%.so
	@mkdir -p $(@D)
	cp $< $@

# The framer's target runs the kernel framer's user-space build and the programs' twin
# (tests/unit/frame; tests/bpf/frame_twin holds the twin to the real programs).
$(BUILD)/fuzz/fuzz_frame: $(BUILD)/fuzz/obj/fuzz_frame.o $(BUILD)/fuzz/obj/frame_sim.o \
		$(BUILD)/fuzz/obj/twin.o $(LIB_FUZZ)
	$(call msg,LINK,$@)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PCAP_LIBS) \
		$(NGHTTP2_LIBS)

$(BUILD):
	mkdir -p $@

# tests/run.sh runs the suites of each group and ends with "N passed, N failed"; the groups
# that need root are skipped for other users, not failed.
RUN_TESTS = FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/run.sh

test-unit: $(UNIT_TESTS)
	$(RUN_TESTS) unit

test-offline: httpeek $(BUILD)/httpeek-asan $(UNIT_TESTS)
	$(RUN_TESTS) unit offline

test-bpf: $(PROG_TEST) $(FRAME_TWIN)
	$(RUN_TESTS) bpf

test-live: httpeek $(BUILD)/httpeek-asan
	$(RUN_TESTS) live

fuzz-smoke: $(FUZZ_BINS)
	$(RUN_TESTS) fuzz

check: httpeek $(BUILD)/httpeek-asan $(UNIT_TESTS) $(PROG_TEST) $(FRAME_TWIN) $(FUZZ_BINS) $(FLOOR)
	$(RUN_TESTS) unit offline bpf live fuzz

fuzz: $(FUZZ_BINS)
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

# --- the rest ---

deps:
	sh scripts/deps.sh

run: httpeek
	./httpeek -o table

bench: httpeek $(FLOOR)
	python3 scripts/bench.py

# The bench's floor part: programs that do nothing or only write a record (not httpeek's).
$(BUILD)/bench/floor.bpf.o: scripts/floor/floor.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)$(CLANG) -g -O2 -Wall -target bpf -mcpu=v3 -Ibpf $(LIBBPF_INCLUDES) \
		-c -o $@ $<

$(BUILD)/bench/floor: scripts/floor/floor.c | $(BUILD)/bench/floor.bpf.o
	$(call msg,LINK,$@)$(LINK) $(LIBS_CFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

mutants:
	bash tests/mutants/run.sh

clean:
	rm -rf $(BUILD) httpeek

# The binary, the man page and the systemd unit; the unit names $(PREFIX)/sbin.
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: httpeek install-extras
	install -D -m 0755 httpeek $(DESTDIR)$(PREFIX)/sbin/httpeek

install-extras:
	install -D -m 0644 docs/httpeek.8 $(DESTDIR)$(MANDIR)/man8/httpeek.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/httpeek|$(PREFIX)/sbin/httpeek|' deploy/httpeek.service \
		> $(DESTDIR)$(UNITDIR)/httpeek.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/httpeek.service

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
