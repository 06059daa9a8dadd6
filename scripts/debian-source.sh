#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Unpack a Debian source package's upstream tree, for the static builds.
#
# Uses a deb-src twin of this machine's Debian sources with package lists
# of its own, so the host's apt setup stays untouched. The security suite
# serves no sources here; the main suite's do.
#
# usage: debian-source.sh PACKAGE DIR   (unpacked into DIR/tree, once)
set -eu
pkg=$1
cache=$2
[ -d "$cache/tree" ] && [ -n "$(ls -A "$cache/tree" 2>/dev/null)" ] && exit 0
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/parts"
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
echo "debian-source: apt-get source $pkg" >&2
apt-get "$@" update -qq >&2
(cd "$cache" && apt-get "$@" source --download-only -qq "$pkg" 2>&1 | grep -v unsandboxed >&2 || true)
orig=$(ls "$cache/${pkg}"_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || { echo "debian-source: no $pkg source package" >&2; exit 1; }
mkdir -p "$cache/tree"
tar -C "$cache/tree" --strip-components=1 -xf "$orig"
