#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what building and testing domud needs on Debian (bookworm).
# Idempotent: only missing packages are installed.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-dev
libxen-dev libinih-dev libyajl-dev uuid-dev libnl-3-dev libnl-route-3-dev
libiptc-dev check libsubunit-dev zlib1g-dev liblzma-dev libzstd-dev libsodium-dev libseccomp-dev musl-tools
cppcheck clang-tidy systemd shellcheck qemu-system-x86 cpio kmod e2fsprogs xz-utils binutils dpkg-dev iptables iproute2 util-linux"
[ "${E2E_ARCH:-amd64}" = arm64 ] && PKGS="$PKGS qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "deps: ok"
