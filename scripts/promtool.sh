#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# promtool from Debian's prometheus package, unpacked (never installed: the
# package would set up and start a Prometheus server). Prints its path.
#
# usage: promtool.sh   (cached under DOMUD_CACHE, /var/cache/domud-build)
set -eu
cache=${DOMUD_CACHE:-/var/cache/domud-build}/prometheus
tool=$cache/root/usr/bin/promtool
if [ ! -x "$tool" ]; then
	mkdir -p "$cache"
	rm -f "$cache"/prometheus_*.deb
	(cd "$cache" && { apt-get download -qq prometheus 2>&1 | grep -v unsandboxed >&2; }) || true
	deb=$(find "$cache" -maxdepth 1 -name "prometheus_*.deb" | head -n 1)
	[ -n "$deb" ] || { echo "promtool: could not download Debian's prometheus package" >&2; exit 1; }
	dpkg -x "$deb" "$cache/root"
	rm -f "$deb"
fi
echo "$tool"
