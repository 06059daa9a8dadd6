# SPDX-License-Identifier: GPL-2.0-or-later
#
# domud: a Xen Dom0 daemon that keeps DomUs running, and domuctl, its CLI.
#
#   make                  domud + domuctl (dynamic)
#   make STATIC=1         both fully static (threaded libxenstore built from
#                         Debian's xen source package, see scripts/)
#   make check            unit, golden and fuzz tests (no Xen needed)
#   make e2e              end-to-end tests on real Xen under QEMU
#   make test             deps + check + e2e (what CI runs)
#   make install          DESTDIR, PREFIX, SBINDIR, ...
#
# The user's CC, CFLAGS, LDFLAGS and CPPFLAGS are never overwritten (Yocto sets
# them); ours are added beside them. CROSS_COMPILE=aarch64-linux-gnu- together
# with SYSROOT=dir cross-builds against a sysroot of Debian -dev packages.

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
AGENTDIR	?= $(PREFIX)/lib/domud
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
INSTALL		?= install

CROSS_COMPILE	?=
ifeq ($(origin CC),default)
CC		:= $(CROSS_COMPILE)gcc
endif
ifeq ($(origin AR),default)
AR		:= $(CROSS_COMPILE)ar
endif
PKG_CONFIG	?= pkg-config
SYSROOT		?=
ifneq ($(SYSROOT),)
TRIPLET		?= $(shell $(CC) -dumpmachine)
export PKG_CONFIG_SYSROOT_DIR := $(SYSROOT)
export PKG_CONFIG_LIBDIR := $(SYSROOT)/usr/lib/$(TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig
SYSROOT_FLAGS	:= -isystem $(SYSROOT)/usr/include
SYSROOT_LDFLAGS	:= -L$(SYSROOT)/usr/lib/$(TRIPLET) -L$(SYSROOT)/lib/$(TRIPLET) \
		   -Wl,-rpath-link,$(SYSROOT)/usr/lib/$(TRIPLET) \
		   -Wl,-rpath-link,$(SYSROOT)/lib/$(TRIPLET)
endif

O		?= build
STATIC		?=
WERROR		?=
VERSION		:= $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# pkg-config's -I become -isystem: the Xen headers trip -Wsign-compare
pc_cflags	= $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(1)))
pc_libs		= $(shell $(PKG_CONFIG) $(if $(STATIC),--static) --libs $(1))

PKGS_CORE	:= inih yajl uuid
PKGS_XEN	:= xenlight xentoollog
PKGS_NET	:= libnl-route-3.0 libip4tc

DOMUD_CFLAGS	:= -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wno-unused-parameter -D_GNU_SOURCE \
		   -DDOMUD_VERSION='"$(VERSION)"' -DDOMUD_SYSCONFDIR='"$(SYSCONFDIR)"' \
		   -Isrc $(SYSROOT_FLAGS) \
		   $(call pc_cflags,$(PKGS_CORE) $(PKGS_XEN) $(PKGS_NET)) \
		   $(if $(WERROR),-Werror)
CFLAGS		?= -O2 -g

# Static Xen link (notes in docs/building.md): our threaded libxenstore.a
# first, libxenguest whole-archive so its kernel loaders stay.
XS_STATIC	:= $(O)/xenstore/libxenstore.a
IPTC_STATIC	:= $(O)/iptc/libip4tc.a
ifeq ($(STATIC),1)
ARCH_STATIC_LIBS := $(if $(findstring aarch64,$(shell $(CC) -dumpmachine)),\
	-lxenctrl -lxenstore -lxenhypfs -lxendevicemodel -lxenforeignmemory \
	-lxenevtchn -lxencall -lxentoolcore -lxentoollog -lyajl_s -luuid -lfdt -lz,\
	$(call pc_libs,xenlight xentoollog) -lyajl_s -luuid -lz -llzma -lzstd)
LIBS_XEN	:= -lxlutil -lxenlight \
		   -Wl,--whole-archive -lxenguest -Wl,--no-whole-archive \
		   $(ARCH_STATIC_LIBS)
LIBS_CORE	:= -linih -lyajl_s -luuid -lpthread
# Debian ships no libip4tc.a: made from its iptables source, as libxenstore
LIBS_NET	:= -lip4tc -lnl-route-3 -lnl-3
# our libxenstore.a must be found before the sysroot's unthreaded one
STATIC_LDFLAGS	:= -static -L$(O)/xenstore -L$(O)/iptc
XS_DEP		:= $(XS_STATIC) $(IPTC_STATIC)
else
LIBS_XEN	:= $(call pc_libs,$(PKGS_XEN))
LIBS_CORE	:= $(call pc_libs,$(PKGS_CORE))
LIBS_NET	:= $(call pc_libs,$(PKGS_NET))
endif

BASE_SRCS	:= $(wildcard src/base/*.c)
PROTO_SRCS	:= $(wildcard src/proto/*.c)
CTL_SRCS	:= $(filter-out src/ctl/domuctl.c,$(wildcard src/ctl/*.c))
CORE_SRCS	:= $(filter-out src/core/domud.c,$(wildcard src/core/*.c))
XEN_SRCS	:= $(wildcard src/xen/*.c)
NET_SRCS	:= $(wildcard src/net/*.c)
CHAN_SRCS	:= $(wildcard src/chan/*.c)
LIB_OBJS	:= $(patsubst src/%.c,$(O)/%.o,$(BASE_SRCS) $(PROTO_SRCS) $(CTL_SRCS) \
		   $(CORE_SRCS) $(XEN_SRCS) $(NET_SRCS) $(CHAN_SRCS))
LIBDOMUD	:= $(O)/libdomud.a

all: $(O)/domud $(O)/domuctl $(O)/domud-agent

$(O)/%.o: src/%.c $(wildcard src/*/*.h) | $(O)/base $(O)/proto $(O)/ctl $(O)/core $(O)/xen $(O)/net $(O)/chan
	$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) -c $< -o $@

$(O)/base $(O)/proto $(O)/ctl $(O)/core $(O)/xen $(O)/net $(O)/chan:
	mkdir -p $@

$(LIBDOMUD): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/domud: $(O)/core/domud.o $(LIBDOMUD) $(XS_DEP)
	$(CC) $(CFLAGS) $(LDFLAGS) $(STATIC_LDFLAGS) $(SYSROOT_LDFLAGS) -o $@ \
		$(O)/core/domud.o $(LIBDOMUD) $(LIBS_XEN) $(LIBS_NET) $(LIBS_CORE) \
		2> $@.ldwarn || { cat $@.ldwarn; exit 1; }
	@grep -v -e 'statically linked applications requires' -e 'in function' $@.ldwarn >&2 || true

$(O)/domuctl: $(O)/ctl/domuctl.o $(LIBDOMUD)
	$(CC) $(CFLAGS) $(LDFLAGS) $(STATIC_LDFLAGS) $(SYSROOT_LDFLAGS) -o $@ \
		$(O)/ctl/domuctl.o $(LIBDOMUD) $(LIBS_CORE)

# the guest side of the memres channel: libc only, static unless sanitized
AGENT_SRCS	:= $(wildcard src/agent/*.c) src/chan/frame.c
$(O)/domud-agent: $(AGENT_SRCS) $(wildcard src/agent/*.h src/chan/*.h) | $(O)/chan
	$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		$(if $(findstring -fsanitize,$(CFLAGS)),,-static) -o $@ $(AGENT_SRCS)

$(XS_STATIC):
	CC="$(CC)" AR="$(AR)" SYSROOT="$(SYSROOT)" scripts/build-xenstore-static.sh $(O)/xenstore

$(IPTC_STATIC):
	CC="$(CC)" AR="$(AR)" SYSROOT="$(SYSROOT)" scripts/build-iptc-static.sh $(O)/iptc

# ---- tests ------------------------------------------------------------------
include tests/tests.mk

# ---- install ----------------------------------------------------------------
install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/domud/services.d
	$(INSTALL) -m 0755 $(O)/domud $(DESTDIR)$(SBINDIR)/domud
	$(INSTALL) -m 0755 $(O)/domuctl $(DESTDIR)$(BINDIR)/domuctl
	$(INSTALL) -d $(DESTDIR)$(AGENTDIR)
	$(INSTALL) -m 0755 $(O)/domud-agent $(DESTDIR)$(AGENTDIR)/domud-agent
	$(INSTALL) -m 0644 docs/domud.8 docs/domuctl.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 docs/domud.conf.5 $(DESTDIR)$(MANDIR)/man5/
	test -e $(DESTDIR)$(SYSCONFDIR)/domud/domud.conf || \
		$(INSTALL) -m 0644 config/domud.conf $(DESTDIR)$(SYSCONFDIR)/domud/domud.conf

clean:
	rm -rf $(O)

.PHONY: all install clean
