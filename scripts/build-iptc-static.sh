#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build a static libip4tc.a for STATIC=1 links.
#
# Debian's libip4tc-dev ships only libip4tc.so, so a static domud has no
# libiptc to link against. We compile libiptc/libip4tc.c (which #includes
# libiptc.c) from Debian's own iptables source package, without running
# iptables' configure.
#
# usage: build-iptc-static.sh OUTDIR   (CC, AR and SYSROOT from the env)
set -eu
out=$1
CC=${CC:-cc}
AR=${AR:-ar}
cache=${DOMUD_CACHE:-/var/cache/domud-build}/iptables-src
mkdir -p "$out"

"$(dirname "$0")/debian-source.sh" iptables "$cache"

t=$cache/tree
# libiptc needs no config.h, only the configure-generated xtables-version.h
# (libxtables soname major = vcurrent - vage from configure.ac).
cur=$(sed -n 's/^libxtables_vcurrent=//p' "$t/configure.ac")
age=$(sed -n 's/^libxtables_vage=//p' "$t/configure.ac")
mkdir -p "$out/include"
printf '#define XTABLES_VERSION "libxtables.so.%s"\n#define XTABLES_VERSION_CODE %s\n' \
	$((cur - age)) $((cur - age)) > "$out/include/xtables-version.h"
inc=""
[ -n "${SYSROOT:-}" ] && inc="-isystem $SYSROOT/usr/include"
# the CPPFLAGS of iptables' configure (regular_CPPFLAGS, largefile enabled)
# shellcheck disable=SC2086
$CC -O2 -fPIC -D_LARGEFILE_SOURCE=1 -D_LARGE_FILES -D_FILE_OFFSET_BITS=64 \
	-D_REENTRANT -DXTABLES_INTERNAL -I "$out/include" -I "$t/include" $inc -w \
	-c "$t/libiptc/libip4tc.c" -o "$out/libip4tc.o"
rm -f "$out/libip4tc.a"
$AR rcs "$out/libip4tc.a" "$out/libip4tc.o"
echo "iptc-static: $out/libip4tc.a" >&2
