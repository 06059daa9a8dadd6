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

"$(dirname "$0")/debian-source.sh" xen "$cache"

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
