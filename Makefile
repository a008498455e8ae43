# SPDX-License-Identifier: GPL-2.0-or-later
# vnet build. `make` builds, `make check` runs every test, `make demo` shows a NAT network
# in throwaway namespaces. SANITIZE=1 builds into build-san/ with ASan and UBSan.

PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
INITDIR    ?= /etc/init.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC       ?= cc
SANITIZE ?= 0
PKGS     := libnl-3.0 libnl-route-3.0 libnftnl libmnl jansson inih

ifeq ($(SANITIZE),1)
B        := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B        := build
SANFLAGS :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-missing-field-initializers -D_GNU_SOURCE \
           -Ilibvnet/include -Ilibvnet -I$(B)/gen $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS)

LIB_SRC   := $(wildcard libvnet/*.c)
NETD_SRC  := $(wildcard netd/*.c)
CLI_SRC   := $(wildcard cli/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
TOOL_SRC  := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
NETD_OBJ  := $(NETD_SRC:%.c=$(B)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/tests/bench/%)

all: $(B)/vnetd $(B)/vnetctl

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The interface description that org.varlink.service.GetInterfaceDescription returns.
$(B)/gen/io_vnet_varlink.h: libvnet/io.vnet.varlink
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "static const char io_vnet_varlink[] =" } \
	     { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print "\"" $$0 "\\n\"" } \
	     END { print ";" }' $< > $@

$(B)/netd/methods.o: $(B)/gen/io_vnet_varlink.h

$(B)/libvnet.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/vnetd: $(NETD_OBJ) $(B)/libvnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/vnetctl: $(CLI_OBJ) $(B)/libvnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests may test daemon modules too: link every netd object but its main.
$(B)/tests/unit/%: $(B)/tests/unit/%.o $(filter-out $(B)/netd/main.o,$(NETD_OBJ)) $(B)/libvnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(B)/libvnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/bench/%: $(B)/tests/bench/%.o $(B)/libvnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

tests: $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

# Installs the Debian packages that building and testing need (only what is missing).
deps:
	@tests/tools/install-deps

# Recursive so that pkg-config runs again after deps installed the libraries.
check: deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) tests/run

check-unit: all tests
	@B=$(B) tests/run unit

check-integration: all tests
	@B=$(B) tests/run integration

demo: deps
	@$(MAKE) --no-print-directory all $(B)/tests/tools/taprelay
	@B=$(B) tests/tools/demo

bench: deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) tests/bench/run

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/vnet/networks
	install -m 0755 $(B)/vnetd $(DESTDIR)$(SBINDIR)/vnetd
	install -m 0755 $(B)/vnetctl $(DESTDIR)$(BINDIR)/vnetctl
	# The VMM hooks are vnetctl under other names (it looks at argv[0]).
	install -d $(DESTDIR)$(LIBEXECDIR)
	ln -sf $(BINDIR)/vnetctl $(DESTDIR)$(LIBEXECDIR)/vnet-ifup
	ln -sf $(BINDIR)/vnetctl $(DESTDIR)$(LIBEXECDIR)/vnet-ifdown
	ln -sf $(BINDIR)/vnetctl $(DESTDIR)$(LIBEXECDIR)/vnet-bridge-helper
	test -e $(DESTDIR)$(SYSCONFDIR)/vnet/vnetd.conf || \
		install -m 0644 config/vnetd.conf $(DESTDIR)$(SYSCONFDIR)/vnet/vnetd.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/vnet/networks/default.conf || \
		install -m 0644 config/networks/default.conf $(DESTDIR)$(SYSCONFDIR)/vnet/networks/default.conf
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/|$(SBINDIR)/|' contrib/systemd/vnetd.service > $(B)/vnetd.service
	install -m 0644 $(B)/vnetd.service $(DESTDIR)$(UNITDIR)/vnetd.service
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 contrib/systemd/vnet.sysusers $(DESTDIR)$(SYSUSERSDIR)/vnet.conf
	install -m 0644 contrib/systemd/vnet.tmpfiles $(DESTDIR)$(TMPFILESDIR)/vnet.conf
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 contrib/bash-completion/vnetctl $(DESTDIR)$(BASHCOMPDIR)/vnetctl

# For systems without systemd: an init script (vnetd daemonizes and writes its pid file).
install-sysv: install
	install -d $(DESTDIR)$(INITDIR)
	sed 's|/usr/local/sbin/|$(SBINDIR)/|' contrib/init.d/vnetd > $(B)/vnetd.init
	install -m 0755 $(B)/vnetd.init $(DESTDIR)$(INITDIR)/vnetd

clean:
	rm -rf build build-san

# Keep test objects: they are intermediate files to make, but rebuilding them is waste.
.SECONDARY:

.PHONY: all tests deps check check-unit check-integration demo bench install install-sysv clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
