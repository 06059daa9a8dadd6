# SPDX-License-Identifier: GPL-2.0-or-later
#
# domud: a Xen Dom0 daemon that keeps DomUs running, and domuctl, its CLI.
#
#   make                  domud + domuctl + domud-agent (dynamic)
#   make STATIC=1         both fully static (threaded libxenstore built from
#                         Debian's xen source package, see scripts/)
#   make V=1              the full commands instead of one line per step
#   make check            layering, unit, golden, network, channel, sanitizer
#                         and fuzz tests (no Xen needed)
#   make e2e              end-to-end tests on real Xen under QEMU
#   make test             deps + check + e2e (what CI runs)
#   make install          DESTDIR, PREFIX, SBINDIR, SYSCONFDIR, ...
#
# The user's CC, CFLAGS, LDFLAGS and CPPFLAGS are never overwritten (Yocto sets
# them); ours are added beside them. CROSS_COMPILE=aarch64-linux-gnu- together
# with SYSROOT=dir cross-builds against a sysroot of Debian -dev packages.

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL	:= all

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
AGENTDIR	?= $(PREFIX)/lib/domud
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
SYSTEMD_UNITDIR	?= /lib/systemd/system
TMPFILESDIR	?= /usr/lib/tmpfiles.d
INITDIR		?= $(SYSCONFDIR)/init.d
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
# Mender's update modules (contrib/ota/mender): where its client looks
MENDERMODDIR	?= $(PREFIX)/share/mender/modules/v3
INSTALL		?= install

CROSS_COMPILE	?=
ifeq ($(origin CC),default)
CC		:= $(CROSS_COMPILE)gcc
CC_IS_OURS	:= 1
endif
ifeq ($(origin AR),default)
AR		:= $(CROSS_COMPILE)ar
endif
PKG_CONFIG	?= pkg-config
SYSROOT		?=

O		?= build
STATIC		?=
WERROR		?=
V		?=
VERSION		:= $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# ---- lazy answers -------------------------------------------------------------
# Nothing below asks pkg-config or the compiler while make reads this file:
# $(call memo,X) expands X_ the first time a recipe needs X, and keeps the
# answer. So `make deps`, `make clean`, `make test` and `make demo` (deps
# first, then sub-makes) never run pkg-config before deps has installed it.
memo		= $(if $(filter undefined,$(origin memo_$(1))),$(eval memo_$(1) := $$($(1)_)))$(memo_$(1))
DRYRUN		:= $(findstring n,$(firstword -$(MAKEFLAGS)))

MACHINE_	= $(shell $(CC) -dumpmachine 2>/dev/null)
MACHINE		= $(call memo,MACHINE)

ifneq ($(SYSROOT),)
TRIPLET		?= $(MACHINE)
# given to pkg-config itself: make 4.3's $(shell) does not see `export`s
PC_ENV		= PKG_CONFIG_SYSROOT_DIR='$(SYSROOT)' \
		  PKG_CONFIG_LIBDIR='$(SYSROOT)/usr/lib/$(TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig'
SYSROOT_FLAGS	:= -isystem $(SYSROOT)/usr/include
SYSROOT_LDFLAGS	= -L$(SYSROOT)/usr/lib/$(TRIPLET) -L$(SYSROOT)/lib/$(TRIPLET) \
		  -Wl,-rpath-link,$(SYSROOT)/usr/lib/$(TRIPLET) \
		  -Wl,-rpath-link,$(SYSROOT)/lib/$(TRIPLET)
endif

# A package pkg-config does not know stops the build with one line (not
# pkg-config's own paragraph per package); under -n (a dry run) nothing is
# reported and what pkg-config cannot answer is left out of the commands.
PC		= $(PC_ENV) $(PKG_CONFIG)
pc_missing	= $(shell command -v $(firstword $(PKG_CONFIG)) >/dev/null 2>&1 || \
		    { echo '!'; exit; }; \
		    for p in $(1); do $(PC) --exists $$p 2>/dev/null || echo $$p; done)
pc_where	= (pkg-config$(if $(SYSROOT), in SYSROOT $(SYSROOT)))
pc_fix		= $(if $(SYSROOT),add the -dev packages to the sysroot,run 'make deps' as root)
pc_stop		= $(if $(1),$(error domud: missing $(if $(filter !,$(1)),$(firstword \
		  $(PKG_CONFIG)),$(1) $(pc_where)); $(pc_fix)))
pc_check	= $(if $(DRYRUN),,$(call pc_stop,$(strip $(call pc_missing,$(1)))))
# pkg-config's -I become -isystem: the Xen headers trip -Wsign-compare
pc_cflags	= $(call pc_check,$(1))$(patsubst -I%,-isystem %,$(shell $(PC) --cflags $(1) $(if $(DRYRUN),2>/dev/null)))
pc_libs		= $(call pc_check,$(1))$(shell $(PC) $(if $(STATIC),--static) --libs $(1) $(if $(DRYRUN),2>/dev/null))

# zlib, liblzma, libzstd: the kernel cache (libxenguest links them too);
# libseccomp: its extraction child's syscall filter (base/sandbox.c)
PKGS_CORE	:= inih yajl uuid zlib liblzma libzstd libsodium libseccomp
PKGS_XEN	:= xenlight xentoollog
PKGS_NET	:= libnl-route-3.0 libip4tc

PC_CFLAGS_	= $(call pc_cflags,$(PKGS_CORE) $(PKGS_XEN) $(PKGS_NET))
PC_CFLAGS	= $(call memo,PC_CFLAGS)

# ---- flags ----------------------------------------------------------------------
# the language and warnings, for everything we compile (the agent too)
STD_CFLAGS	:= -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wno-unused-parameter -D_GNU_SOURCE \
		   $(if $(filter-out 0 no,$(WERROR)),-Werror)
DEFS		:= -DDOMUD_VERSION='"$(VERSION)"' -DDOMUD_SYSCONFDIR='"$(SYSCONFDIR)"'
# includes are written "dir/file.h" from src/; src/base, the bottom layer,
# gets no -Isrc, so it can reach nothing but itself (tests/layers.sh checks
# the rest of the layering)
INC		= -Isrc
DOMUD_CFLAGS	= $(STD_CFLAGS) $(DEFS) $(INC) $(SYSROOT_FLAGS) $(PC_CFLAGS)
DEP_FLAGS	:= -MMD -MP
CFLAGS		?= -O2 -g

# one short line per step; V=1 prints the commands instead
ifeq ($(V),1)
Q		:=
say		:=
else
Q		:= @
say		= @printf '  %-5s %s\n' '$(1)' '$(2)'
endif

# Static Xen link (notes in docs/building.md): our threaded libxenstore.a
# first, libxenguest whole-archive so its kernel loaders stay.
XS_STATIC	:= $(O)/xenstore/libxenstore.a
IPTC_STATIC	:= $(O)/iptc/libip4tc.a
ifeq ($(STATIC),1)
ARCH_STATIC_LIBS = $(if $(findstring aarch64,$(MACHINE)),\
	-lxenctrl -lxenstore -lxenhypfs -lxendevicemodel -lxenforeignmemory \
	-lxenevtchn -lxencall -lxentoolcore -lxentoollog -lyajl_s -luuid -lfdt -lz,\
	$(PC_XEN_STATIC) -lyajl_s -luuid -lz -llzma -lzstd)
PC_XEN_STATIC_	= $(call pc_libs,xenlight xentoollog)
PC_XEN_STATIC	= $(call memo,PC_XEN_STATIC)
LIBS_XEN	= -lxlutil -lxenlight \
		  -Wl,--whole-archive -lxenguest -Wl,--no-whole-archive \
		  $(ARCH_STATIC_LIBS)
LIBS_CORE	:= -linih -lyajl_s -luuid -lz -llzma -lzstd -lsodium -lseccomp -lpthread
# Debian ships no libip4tc.a: made from its iptables source, as libxenstore
LIBS_NET	:= -lip4tc -lnl-route-3 -lnl-3
# our libxenstore.a must be found before the sysroot's unthreaded one
STATIC_LDFLAGS	:= -static -L$(O)/xenstore -L$(O)/iptc
XS_DEP		:= $(XS_STATIC) $(IPTC_STATIC)
else
LIBS_XEN_	= $(call pc_libs,$(PKGS_XEN))
LIBS_XEN	= $(call memo,LIBS_XEN)
LIBS_CORE_	= $(call pc_libs,$(PKGS_CORE))
LIBS_CORE	= $(call memo,LIBS_CORE)
LIBS_NET_	= $(call pc_libs,$(PKGS_NET))
LIBS_NET	= $(call memo,LIBS_NET)
endif

# Objects are rebuilt when a flag that is baked into them changes (make
# install SYSCONFDIR=... after a plain make, WERROR=1, other CFLAGS).
FLAGS_ID	= $(CC) | $(AGENT_CC) | $(CPPFLAGS) | $(CFLAGS) | $(LDFLAGS) | $(VERSION) | \
		  $(SYSCONFDIR) | $(WERROR) | $(STATIC) | $(SYSROOT)
FLAGS_STAMP	:= $(O)/flags.stamp
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D); printf '%s\n' '$(subst ','\'',$(FLAGS_ID))' | cmp -s - $@ || \
		printf '%s\n' '$(subst ','\'',$(FLAGS_ID))' > $@
FORCE:

# ---- domud, domuctl -------------------------------------------------------------
BASE_SRCS	:= $(wildcard src/base/*.c)
PROTO_SRCS	:= $(wildcard src/proto/*.c)
CTL_SRCS	:= $(filter-out src/ctl/domuctl.c,$(wildcard src/ctl/*.c))
CONF_SRCS	:= $(wildcard src/conf/*.c)
CORE_SRCS	:= $(filter-out src/core/domud.c,$(wildcard src/core/*.c))
XEN_SRCS	:= $(wildcard src/xen/*.c)
BOOT_SRCS	:= $(wildcard src/boot/*.c)
NET_SRCS	:= $(wildcard src/net/*.c)
CHAN_SRCS	:= $(wildcard src/chan/*.c)
LIB_OBJS	:= $(patsubst src/%.c,$(O)/%.o,$(BASE_SRCS) $(PROTO_SRCS) $(CTL_SRCS) \
		   $(CONF_SRCS) $(CORE_SRCS) $(XEN_SRCS) $(BOOT_SRCS) $(NET_SRCS) $(CHAN_SRCS))
LIBDOMUD	:= $(O)/libdomud.a

all: $(O)/domud $(O)/domuctl $(O)/domud-agent

$(O)/base/%.o: INC :=

$(O)/%.o: src/%.c $(FLAGS_STAMP)
	$(call say,CC,$*.o)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(DOMUD_CFLAGS) $(CFLAGS) $(DEP_FLAGS) -c $< -o $@

$(LIBDOMUD): $(LIB_OBJS)
	$(call say,AR,$(@F))
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(O)/domud: $(O)/core/domud.o $(LIBDOMUD) $(XS_DEP)
	$(call say,LD,$(@F))
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(STATIC_LDFLAGS) $(SYSROOT_LDFLAGS) -o $@ \
		$(O)/core/domud.o $(LIBDOMUD) $(LIBS_XEN) $(LIBS_NET) $(LIBS_CORE) \
		2> $@.ldwarn || { cat $@.ldwarn; exit 1; }
	@grep -v -e 'statically linked applications requires' -e 'in function' $@.ldwarn >&2 || true

$(O)/domuctl: $(O)/ctl/domuctl.o $(LIBDOMUD)
	$(call say,LD,$(@F))
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(STATIC_LDFLAGS) $(SYSROOT_LDFLAGS) -o $@ \
		$(O)/ctl/domuctl.o $(LIBDOMUD) $(LIBS_CORE)

# The guest side of the memres channel: libc and the frame codec only, so it
# gets no -Isrc, no sysroot and no pkg-config flags: only frame.h is
# reachable (and its own headers). Static unless sanitized.
AGENT_SRCS	:= $(wildcard src/agent/*.c) src/chan/frame.c
AGENT_CFLAGS	= $(STD_CFLAGS) -DDOMUD_VERSION='"$(VERSION)"' -Isrc/chan
# Every memres initramfs carries the agent: against musl (Debian's
# musl-tools) it is a tenth of its static glibc size. Only for a native
# build with our own compiler and no sanitizer; AGENT_CC= picks another.
MUSL_GCC_	= $(shell command -v musl-gcc 2>/dev/null)
MUSL_GCC	= $(call memo,MUSL_GCC)
AGENT_CC	?= $(if $(and $(CC_IS_OURS),$(if $(CROSS_COMPILE),,1),$(if \
		   $(findstring -fsanitize,$(CFLAGS)),,1),$(MUSL_GCC)),musl-gcc,$(CC))
$(O)/domud-agent: $(AGENT_SRCS) $(wildcard src/agent/*.h) src/chan/frame.h $(FLAGS_STAMP)
	$(call say,CCLD,$(@F) ($(notdir $(firstword $(AGENT_CC)))))
	$(Q)$(AGENT_CC) $(CPPFLAGS) $(AGENT_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		$(if $(findstring -fsanitize,$(CFLAGS)),,-static) -o $@ $(AGENT_SRCS)

$(XS_STATIC):
	$(call say,GEN,$(@:$(O)/%=%))
	$(Q)CC="$(CC)" AR="$(AR)" SYSROOT="$(SYSROOT)" scripts/build-xenstore-static.sh $(O)/xenstore

$(IPTC_STATIC):
	$(call say,GEN,$(@:$(O)/%=%))
	$(Q)CC="$(CC)" AR="$(AR)" SYSROOT="$(SYSROOT)" scripts/build-iptc-static.sh $(O)/iptc

# ---- tests ------------------------------------------------------------------
include tests/tests.mk

# header dependencies, written by -MMD beside each object
-include $(wildcard $(O)/*.d $(O)/*/*.d $(O)/tests/*/*.d)

# ---- install ----------------------------------------------------------------
# SYSCONFDIR is both where the default configuration is installed and where
# domud looks for it (-DDOMUD_SYSCONFDIR; the stamp above rebuilds on change)
install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/domud/services.d \
		$(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(INITDIR) \
		$(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(O)/domud $(DESTDIR)$(SBINDIR)/domud
	$(INSTALL) -m 0755 $(O)/domuctl $(DESTDIR)$(BINDIR)/domuctl
	$(INSTALL) -d $(DESTDIR)$(AGENTDIR)
	$(INSTALL) -m 0755 $(O)/domud-agent $(DESTDIR)$(AGENTDIR)/domud-agent
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 rootfs-overlay/etc/bash_completion.d/domuctl \
		$(DESTDIR)$(BASHCOMPDIR)/domuctl
	$(INSTALL) -d $(DESTDIR)$(MENDERMODDIR)
	$(INSTALL) -m 0755 contrib/ota/mender/domud-guest \
		$(DESTDIR)$(MENDERMODDIR)/domud-guest
	$(call overlay,etc/init.d/domud,$(INITDIR)/domud,0755)
	$(call overlay,lib/systemd/system/domud.service,$(SYSTEMD_UNITDIR)/domud.service,0644)
	$(call overlay,usr/lib/tmpfiles.d/domud.conf,$(TMPFILESDIR)/domud.conf,0644)
	$(call overlay,etc/domud/services.d/example.ini.sample,$(SYSCONFDIR)/domud/services.d/example.ini.sample,0644)
	@# the administrator's own settings are never overwritten
	test -e $(DESTDIR)$(SYSCONFDIR)/domud/domud.conf || \
		$(call overlay,etc/domud/domud.conf,$(SYSCONFDIR)/domud/domud.conf,0644)
	test -e $(DESTDIR)$(SYSCONFDIR)/default/domud || \
		$(call overlay,etc/default/domud,$(SYSCONFDIR)/default/domud,0644)

# rootfs-overlay/FILE to DESTDIR/DEST with mode MODE; @SBINDIR@, @BINDIR@
# and @SYSCONFDIR@ in it become the install paths
overlay = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' rootfs-overlay/$(1) > $(DESTDIR)$(2) && \
	chmod $(3) $(DESTDIR)$(2)
MAN8		:= $(wildcard docs/*.8)
MAN5		:= $(wildcard docs/*.5)

clean:
	rm -rf $(O)

.PHONY: all install clean FORCE
