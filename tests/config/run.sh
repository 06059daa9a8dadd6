#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden configuration tests, as OpenBSD's regress does for vmd.conf:
#   fail-NAME.ini   one service file       fail-NAME.conf  a domud.conf
#   fail-NAME.d/    a whole configuration  (domud.conf + services.d/)
# each with fail-NAME.expected: what `domud -n` must print (and exit 1).
# ok-NAME.expected: what it prints for a valid configuration made here.
# The examples in config/ must pass (exit 0).
# usage: run.sh DOMUD [--update]
set -u
domud=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# verdict(NAME, RC, WANT_RC): $tmp/out against NAME.expected
verdict() {
	[ "$update" = --update ] && cp "$tmp/out" "$here/$1.expected"
	if [ "$2" -ne "$3" ]; then
		echo "FAIL config/$1: exit $2, expected $3"; fail=$((fail + 1))
	elif ! diff -u "$here/$1.expected" "$tmp/out"; then
		echo "FAIL config/$1: output differs"; fail=$((fail + 1))
	else
		echo "PASS config/$1"; pass=$((pass + 1))
	fi
}

check() { # name, then run in $tmp/case
	(cd "$tmp/case" && "$domud" -n -f domud.conf) > "$tmp/out" 2>&1
	verdict "$1" $? 1
}

for f in "$here"/fail-*.ini "$here"/fail-*.conf "$here"/fail-*.d; do
	[ -e "$f" ] || continue
	rm -rf "$tmp/case"; mkdir -p "$tmp/case/services.d"
	base=$(basename "$f")
	case "$base" in
	*.ini)  printf '[domud]\n' > "$tmp/case/domud.conf"; cp "$f" "$tmp/case/services.d/"
		name=${base%.ini} ;;
	*.conf) cp "$f" "$tmp/case/domud.conf"; name=${base%.conf} ;;
	*.d)    rm -rf "$tmp/case"; cp -R "$f" "$tmp/case"; name=${base%.d} ;;
	esac
	check "$name"
done

# domud -n says per service whether its kernel comes from the kernel
# cache: an ELF as it is, a gzip image extracted once, and not with
# kernel_cache = no or, for all, kernel_cache_max = 0
kernels() { # name, extra domud.conf line
	rm -rf "$tmp/case"; mkdir -p "$tmp/case/services.d"
	cp "$domud" "$tmp/case/vmlinux"
	head -c 65536 /dev/zero | gzip -n -9 > "$tmp/case/Image.gz"
	printf '[domud]\nstate_dir = %s/case/state\n%b' "$tmp" "$2" \
	    > "$tmp/case/domud.conf"
	for s in elf gz gz-off; do
		k=$tmp/case/Image.gz
		[ $s = elf ] && k=$tmp/case/vmlinux
		printf '[service]\nkernel = %s\nmemory = 64M\n' "$k" \
		    > "$tmp/case/services.d/$s.ini"
	done
	echo "kernel_cache = no" >> "$tmp/case/services.d/gz-off.ini"
	"$domud" -n -f "$tmp/case/domud.conf" > "$tmp/raw" 2>&1
	rc=$?
	sed "s|$tmp/case|DIR|g" "$tmp/raw" > "$tmp/out"
	verdict "$1" $rc 0
}
kernels ok-kernels ""
kernels ok-kernels-nocache "kernel_cache_max = 0\n"

# the shipped examples must be valid (missing images are only warnings)
if "$domud" -n -f "$top/config/domud.conf" > "$tmp/out" 2>&1; then
	echo "PASS config/examples"; pass=$((pass + 1))
else
	cat "$tmp/out"; echo "FAIL config/examples"; fail=$((fail + 1))
fi
# refuses(NAME, PATTERN, command...): exits non-zero and says PATTERN
refuses() {
	name=$1 pattern=$2; shift 2
	if "$@" > "$tmp/out" 2>&1; then
		echo "FAIL config/$name: exit 0"; fail=$((fail + 1))
	elif grep -q "$pattern" "$tmp/out"; then
		echo "PASS config/$name"; pass=$((pass + 1))
	else
		cat "$tmp/out"; echo "FAIL config/$name"; fail=$((fail + 1))
	fi
}
# no config file at all is a clear error, not a crash
refuses missing-file "nonexistent.conf: cannot open: No such file" \
	"$domud" -n -f "$tmp/nonexistent.conf"
# outside a Xen control domain the daemon refuses with a clear message
if ! grep -qs control_d /proc/xen/capabilities; then
	refuses not-dom0 "not a Xen control domain" \
		"$domud" -d -f "$top/config/domud.conf"
fi
echo "config: $pass passed, $fail failed"
[ $fail -eq 0 ]
