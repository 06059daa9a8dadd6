#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build a threaded static libxenstore.a for STATIC=1 links.
#
# Xen's tools/libs/store/Makefile adds -DUSE_PTHREAD only to the shared
# object: the libxenstore.a that Debian (and Yocto's xen-tools) ship has no
# watch reader thread, so in a static program libxl's xenstore watches never
# fire and domain creation times out waiting for the console tty. We compile
# xs.c and xs_lib.c from Debian's own xen source package with USE_PTHREAD.
#
# usage: build-xenstore-static.sh OUTDIR   (CC, AR and SYSROOT from the env)
set -eu
out=$1
CC=${CC:-cc}
AR=${AR:-ar}
cache=${DOMUD_CACHE:-/var/cache/domud-build}/xen-src
mkdir -p "$out"

if [ ! -d "$cache/tree/tools/libs/store" ]; then
	mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/parts"
	# a deb-src twin of this machine's Debian sources, package lists of our
	# own: the host's apt setup stays untouched. The security suite serves
	# no sources here; the main suite's xen 4.17 source does.
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
	echo "xenstore-static: apt-get source xen" >&2
	apt-get "$@" update -qq >&2
	(cd "$cache" && apt-get "$@" source --download-only -qq xen 2>&1 | grep -v unsandboxed >&2 || true)
	orig=$(ls "$cache"/xen_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$orig" ] || { echo "xenstore-static: no xen source package" >&2; exit 1; }
	mkdir -p "$cache/tree"
	tar -C "$cache/tree" --strip-components=1 -xf "$orig"
fi

t=$cache/tree
inc=""
[ -n "${SYSROOT:-}" ] && inc="-isystem $SYSROOT/usr/include"
for src in tools/libs/store/xs.c tools/xenstore/xs_lib.c; do
	# shellcheck disable=SC2086
	$CC -O2 -fPIC -DUSE_PTHREAD -DXEN_RUN_STORED='"/run/xenstored"' \
		-DXEN_LIB_STORED='"/var/lib/xenstored"' -I "$t/tools/include" \
		-I "$t/tools/xenstore" $inc -w -c "$t/$src" \
		-o "$out/$(basename "$src" .c).o"
done
rm -f "$out/libxenstore.a"
$AR rcs "$out/libxenstore.a" "$out/xs.o" "$out/xs_lib.o"
echo "xenstore-static: $out/libxenstore.a (threaded)" >&2
