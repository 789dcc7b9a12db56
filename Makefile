# SPDX-License-Identifier: BSD-2-Clause
#
# customs build: BPF objects -> skeletons -> userspace, into build/.
# Quiet unless V=1; dependency files keep incremental builds right.
# `make` and `make test` run scripts/setup first (a no-op once done);
# SKIP_SETUP=1 skips it.

BUILD		?= build
CLANG		?= clang
CC		?= gcc
BPFTOOL		?= bpftool
PREFIX		?= /usr/local
VERSION		:= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BTF_VMLINUX	?= /sys/kernel/btf/vmlinux

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
.DEFAULT_GOAL := all

WARN		:= -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
INCLUDES	:= -I$(BUILD)/include -I$(BUILD)/proto -Ibpf/include -Iuserspace/lib
CFLAGS		?= -O2 -g
ALL_CFLAGS	:= -std=gnu11 $(CFLAGS) $(WARN) $(INCLUDES) \
		   -D_GNU_SOURCE -DCUSTOMS_VERSION='"$(VERSION)"' -MMD -MP
SAN_FLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
FUZZ_FLAGS	:= -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDLIBS		:= -Wl,--as-needed -lbpf -lelf -lz -lmaxminddb -lyaml -lcrypto \
		   -lssl -lsqlite3 -lprotobuf-c -lmicrohttpd -lm -lpthread

BPF_CFLAGS	:= -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
		   -Wall -Werror -I$(BUILD)/include -Ibpf/include -MMD -MP

# --- sources ---------------------------------------------------------------
BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(BUILD)/include/%.skel.h,$(BPF_SRCS))
VMLINUX_H	:= $(BUILD)/include/vmlinux.h

# protoc-c output is compiled into the library like any other source.
PROTO_SRCS	:= $(wildcard proto/*.proto)
PROTO_C		:= $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_H		:= $(PROTO_C:.c=.h)

LIB_SRCS	:= $(wildcard userspace/lib/*.c) $(PROTO_C)
LIB		:= $(BUILD)/libcustoms.a
LIB_SAN		:= $(BUILD)/san/libcustoms.a
LIB_FUZZ	:= $(BUILD)/fuzz/libcustoms.a

TESTLIB_SRCS	:= $(wildcard tests/lib/*.c)
TESTLIB_SAN	:= $(BUILD)/san/libtest.a

# Binaries: one folder each, every .c in it linked with the library.
BINS		:= customsctl customs-bench customs-collector customs-audit customs-lab-server \
		   customs-lab-client customsd
customsctl_SRCS	:= $(wildcard userspace/cli/*.c)
# The benchmarks build their namespaces with the tests' helper.
customs-bench_SRCS := $(wildcard userspace/bench/*.c) tests/lib/netenv.c
customs-collector_SRCS := $(wildcard userspace/collector/*.c)
customs-audit_SRCS := $(wildcard userspace/audit/*.c)
customs-lab-server_SRCS := $(wildcard userspace/lab/*.c)
customs-lab-client_SRCS := $(wildcard userspace/labclient/*.c)
customsd_SRCS	:= $(wildcard userspace/agent/*.c)
# The agent's roles, without its main(), so tests can drive them.
AGENT_SRCS	:= $(filter-out userspace/agent/customsd.c,$(customsd_SRCS))
AGENT_SAN	:= $(BUILD)/san/libagent.a
# What `make install` puts where: daemons in sbin, tools in bin.
SBIN_BINS	:= customsd
BIN_BINS	:= customsctl customs-collector customs-audit

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
KTEST_SRCS	:= $(wildcard tests/bpf/test_*.c)
E2E_C_SRCS	:= $(wildcard tests/e2e/test_*.c)
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
UNIT_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
KTEST_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(KTEST_SRCS))
E2E_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(E2E_C_SRCS))
FUZZ_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(FUZZ_SRCS))
TEST_BINS	:= $(UNIT_BINS) $(KTEST_BINS) $(E2E_BINS) $(FUZZ_BINS)

obj		= $(patsubst %.c,$(BUILD)/$(1)obj/%.o,$(2))

# --- top-level targets -------------------------------------------------------
.PHONY: all build setup test tests clean demo bench install drills

all: setup
	$(Q)$(MAKE) --no-print-directory build

setup:
ifneq ($(SKIP_SETUP),1)
	$(Q)scripts/setup --quiet
endif

build: $(BPF_OBJS) $(SKELS) $(LIB) $(addprefix $(BUILD)/,$(BINS))

tests: build $(TEST_BINS)

test: setup
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) tests/run

install: build
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/customs \
		$(DESTDIR)/etc/customs
	$(Q)install -m 0755 $(addprefix $(BUILD)/,$(SBIN_BINS)) $(DESTDIR)$(PREFIX)/sbin/
	$(Q)install -m 0755 $(addprefix $(BUILD)/,$(BIN_BINS)) $(DESTDIR)$(PREFIX)/bin/
	$(Q)sed 's|/usr/local/|$(PREFIX)/|g' scripts/systemd/customsd.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/customsd.service
	$(Q)install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/customs/
	$(Q)install -m 0644 docs/agent.example.yaml $(DESTDIR)/etc/customs/agent.yaml.example

# The lab end to end (scripts/demo), and the fault drills alone.
demo: setup
	$(Q)$(MAKE) --no-print-directory build
	$(Q)CUSTOMS_BUILD=$(BUILD) scripts/demo

drills: setup
	$(Q)$(MAKE) --no-print-directory build
	$(Q)BUILD=$(BUILD) SUITES=e2e tests/run test_drill_

GEO_DB		?= data/geo/geo-whois-asn-country.mmdb

# Every benchmark into bench/results/*.json, then the figures and plots of
# docs/benchmarks.md regenerated from them (about 6 minutes here).
bench: setup
	$(Q)$(MAKE) --no-print-directory build
	$(Q)BUILD=$(BUILD) GEO_DB=$(GEO_DB) bench/run
	$(Q)bench/report

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

# --- BPF ------------------------------------------------------------------
# vmlinux.h is generated once from the running kernel's BTF and cached.
$(VMLINUX_H):
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# --- protobuf ---------------------------------------------------------------
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h &: proto/%.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)protoc-c --c_out=$(BUILD)/proto -Iproto $<

# --- userspace --------------------------------------------------------------
$(BUILD)/san/obj/tests/%.o: ALL_CFLAGS += -Iuserspace/agent
$(BUILD)/obj/userspace/bench/%.o: ALL_CFLAGS += -Itests/lib
$(BUILD)/obj/%.o: %.c | $(SKELS) $(PROTO_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/obj/%.o: %.c | $(SKELS) $(PROTO_H)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/lib -c $< -o $@

$(BUILD)/fuzz/obj/%.o: %.c | $(SKELS) $(PROTO_H)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(ALL_CFLAGS) $(FUZZ_FLAGS) -Itests/lib -c $< -o $@

$(LIB): $(call obj,,$(LIB_SRCS))
$(LIB_SAN): $(call obj,san/,$(LIB_SRCS))
$(LIB_FUZZ): $(call obj,fuzz/,$(LIB_SRCS))
$(TESTLIB_SAN): $(call obj,san/,$(TESTLIB_SRCS))
$(AGENT_SAN): $(call obj,san/,$(AGENT_SRCS))
$(LIB) $(LIB_SAN) $(LIB_FUZZ) $(TESTLIB_SAN) $(AGENT_SAN):
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

define bin_rule
$(BUILD)/$(1): $(call obj,,$($(1)_SRCS)) $(LIB)
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach b,$(BINS),$(eval $(call bin_rule,$(b))))

# --- tests ------------------------------------------------------------------
$(BUILD)/tests/%: $(BUILD)/san/obj/tests/%.o $(TESTLIB_SAN) $(AGENT_SAN) $(LIB_SAN)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tests/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(LIB_FUZZ)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
