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

if [ ! -f "$cache/tree/libiptc/libip4tc.c" ]; then
	mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/parts"
	# a deb-src twin of this machine's Debian sources, package lists of our
	# own: the host's apt setup stays untouched (as build-xenstore-static.sh).
	: > "$cache/parts/src.sources"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk 'BEGIN{RS=""; ORS="\n\n"} !/security/ {sub(/Types: deb\n/, "Types: deb-src\n"); print}' "$f" \
			>> "$cache/parts/src.sources"
	done
	if [ -f /etc/apt/sources.list ]; then
		sed -n '/security/d; s/^deb /deb-src /p' /etc/apt/sources.list > "$cache/parts/src.list"
	fi
	set -- -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$cache/parts" \
		-oDir::State::Lists="$cache/apt/lists" -oDir::Cache="$cache/apt/cache" \
		-oDebug::NoLocking=1
	echo "iptc-static: apt-get source iptables" >&2
	apt-get "$@" update -qq >&2
	(cd "$cache" && apt-get "$@" source --download-only -qq iptables 2>&1 | grep -v unsandboxed >&2 || true)
	orig=$(ls "$cache"/iptables_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$orig" ] || { echo "iptc-static: no iptables source package" >&2; exit 1; }
	mkdir -p "$cache/tree"
	tar -C "$cache/tree" --strip-components=1 -xf "$orig"
fi

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
