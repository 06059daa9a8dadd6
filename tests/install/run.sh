#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make install: exactly the files (and modes) of tests/install/files.txt, the
# same list the Yocto recipe packages; the systemd unit passes
# `systemd-analyze verify` without a word; the init script and the bash
# completion parse, and the completion offers the command table's verbs.
#   tests/install/run.sh O
set -u
O=$1
T=$(mktemp -d /tmp/domud-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
npass=0; nfail=0
pass() { echo "PASS install/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL install/$1: $2"; nfail=$((nfail + 1)); }

if make -s O="$O" install DESTDIR="$T/root" PREFIX=/usr > "$T/log" 2>&1; then
	(cd "$T/root" && find . \( -type f -o -type l \) -printf '%P %m\n' | LC_ALL=C sort) > "$T/files"
	if diff -u tests/install/files.txt "$T/files" > "$T/diff"; then
		pass layout
	else
		fail layout "$(tr '\n' '|' < "$T/diff")"
	fi
else
	fail layout "make install: $(tail -n 5 "$T/log" | tr '\n' '|')"
fi

# the unit, its ExecStart pointing at the binary just built
mkdir -p "$T/unit"
sed -e "s|@SBINDIR@|$(cd "$O" && pwd)|g" -e 's|@SYSCONFDIR@|/etc|g' \
	rootfs-overlay/lib/systemd/system/domud.service > "$T/unit/domud.service"
if ! command -v systemd-analyze > /dev/null; then
	fail systemd-unit "no systemd-analyze (make deps installs it)"
elif systemd-analyze verify --man=no "$T/unit/domud.service" > "$T/verify" 2>&1 &&
	[ ! -s "$T/verify" ]; then
	pass systemd-unit
else
	fail systemd-unit "$(tr '\n' '|' < "$T/verify")"
fi

# the init script: POSIX sh, clean under shellcheck
if sh -n rootfs-overlay/etc/init.d/domud &&
	{ ! command -v shellcheck > /dev/null ||
	  shellcheck -s sh -e SC1091 rootfs-overlay/etc/init.d/domud > "$T/sc" 2>&1; }; then
	pass init-script
else
	fail init-script "$(tr '\n' '|' < "$T/sc" 2>/dev/null)"
fi

# bash completion: the verbs of `domuctl -h`, with no daemon to ask
got=$(PATH="$(cd "$O" && pwd):$PATH" bash -c '
	. rootfs-overlay/etc/bash_completion.d/domuctl
	COMP_WORDS=(domuctl ""); COMP_CWORD=1; _domuctl
	echo "${COMPREPLY[*]}"
	COMP_WORDS=(domuctl net --c); COMP_CWORD=2; _domuctl
	echo "${COMPREPLY[*]}"' 2>&1)
# (each once: update has a line per subcommand)
want_verbs=$("$O/domuctl" -h 2>&1 | awk '/^commands:/ { c = 1; next } c && NF && !seen[$1]++ { print $1 }' | tr '\n' ' ')
first=$(printf '%s\n' "$got" | head -n 1)
if [ "$first " = "$want_verbs" ] && printf '%s\n' "$got" | tail -n 1 | grep -qx -- '--check' &&
	printf '%s\n' "$first" | grep -qw exec; then
	pass bash-completion
else
	fail bash-completion "offered '$got', the verbs are '$want_verbs'"
fi
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
