#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Host-side tests of src/net (bridges, leases, DOMUD-* chains), each case in a
# network namespace of its own (unshare -n): this machine's interfaces and
# iptables are never touched. Rules are read back with iptables-legacy-save:
# libiptc drives the legacy x_tables, which plain `iptables` (nft) does not show.
#   golden/NAME/     domud.conf + services.d + "active" (services whose DomU is up)
#   golden/NAME.expected   the rule set nettool prints for it
# usage: run.sh NETTOOL [--update]
set -u
if [ "${1:-}" = --case ]; then
	shift
	case_name=$1 nettool=$2 tmp=$3 here=$4
else
	nettool=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	update=${2:-}
	here=$(cd "$(dirname "$0")" && pwd)
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
		echo "FAIL net/setup: needs root and unshare -n"; exit 1
	fi
	command -v iptables-legacy-save >/dev/null ||
		{ echo "FAIL net/setup: iptables-legacy-save missing (package iptables)"; exit 1; }
	pass=0 fail=0
	for c in golden-two-nets golden-single kernel-two-nets kernel-single \
	    bridge-create bridge-adopt idempotent drift remove undo leases; do
		tmp=$(mktemp -d)
		out=$(unshare -n "$0" --case "$c" "$nettool" "$tmp" "$here" "${update:-}" 2>&1)
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "PASS net/$c"; pass=$((pass + 1))
		else
			echo "FAIL net/$c"; echo "$out" | sed 's/^/    /'; fail=$((fail + 1))
		fi
		rm -rf "$tmp"
	done
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
fi

# ---- inside the namespace ---------------------------------------------------
export XTABLES_LOCKFILE=$tmp/xtables.lock	# ours, not the host's
ip link set lo up
die() { echo "$*"; exit 1; }
setup() { # golden config NAME into $tmp/c
	rm -rf "$tmp/c"; cp -r "$here/golden/$1" "$tmp/c"; mkdir -p "$tmp/c/state"
	sed -i "s|@STATE@|$tmp/c/state|" "$tmp/c/domud.conf"
	active=$(cat "$tmp/c/active")
}
nt() { "$nettool" -f "$tmp/c/domud.conf" "$@"; }
ours() { # our lines as iptables-legacy-save shows them, table by table
	for t in nat filter; do iptables-legacy-save -t $t | grep -e '^-A' | grep DOMUD; done
}
saved() { iptables-legacy-save | grep -v -e '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }

case "$case_name" in
golden-*)
	n=${case_name#golden-}; setup "$n"
	# shellcheck disable=SC2086
	nt rules $active > "$tmp/out" 2>/dev/null || die "nettool rules failed"
	[ "${5:-}" = --update ] && cp "$tmp/out" "$here/golden/$n.expected"
	diff -u "$here/golden/$n.expected" "$tmp/out"
	;;
kernel-*)
	# what the kernel holds after an apply is what the golden file says
	n=${case_name#kernel-}; setup "$n"
	# shellcheck disable=SC2086
	nt up $active 2>"$tmp/log" || { cat "$tmp/log"; die "up failed"; }
	grep '^-A' "$here/golden/$n.expected" > "$tmp/want"
	ours > "$tmp/have"
	diff -u "$tmp/want" "$tmp/have" || die "kernel rules differ from golden/$n.expected"
	# shellcheck disable=SC2086
	nt check $active || die "check reports drift right after an apply"
	;;
bridge-create)
	setup two-nets
	# shellcheck disable=SC2086
	nt up $active 2>"$tmp/log" || { cat "$tmp/log"; die "up failed"; }
	ip -d link show dbr0 | grep -q ' bridge ' || die "dbr0 is not a bridge"
	ip link show dbr0 | grep -q '<.*UP.*>' || die "dbr0 is not up"
	ip -4 addr show dbr0 | grep -q 'inet 10.77.0.1/24' || die "dbr0 lacks 10.77.0.1/24"
	ip -4 addr show dbr1 | grep -q 'inet 10.78.0.254/24' || die "dbr1 lacks its gateway 10.78.0.254/24"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || die "ip_forward is not on"
	grep -q "bridge dbr0 created" "$tmp/log" || die "no 'created' in the log"
	;;
bridge-adopt)
	setup two-nets
	ip link add dbr0 type bridge || die "ip link add"
	idx=$(ip -o link show dbr0 | cut -d: -f1)
	ip link add dbr1 type veth peer name dbr1p || die "ip link add veth"
	# shellcheck disable=SC2086
	nt up web 2>"$tmp/log" && die "up succeeded although dbr1 is no bridge"
	grep -q "dbr1: exists and is not a bridge" "$tmp/log" ||
		{ cat "$tmp/log"; die "the error does not name dbr1"; }
	ours | grep -q 'web tcp:8080' && die "a rule of web stayed after the failed start"
	ip link del dbr1
	nt up web 2>"$tmp/log" || { cat "$tmp/log"; die "up failed"; }
	[ "$(ip -o link show dbr0 | cut -d: -f1)" = "$idx" ] || die "dbr0 was made anew, not adopted"
	ip link show dbr0 | grep -q '<.*UP.*>' || die "adopted dbr0 is not up"
	ip -4 addr show dbr0 | grep -q 'inet 10.77.0.1/24' || die "adopted dbr0 lacks its address"
	grep -q "bridge dbr0 created" "$tmp/log" && die "claims to have created dbr0"
	:
	;;
idempotent)
	setup two-nets
	for i in 1 2 3; do
		# shellcheck disable=SC2086
		nt up $active 2>/dev/null || die "up $i failed"
		saved > "$tmp/save$i"
	done
	diff -u "$tmp/save1" "$tmp/save3" || die "a third apply changed the rules"
	for h in "-A PREROUTING .*-j DOMUD-DNAT" "-A OUTPUT .*-j DOMUD-DNAT" \
	    "-A POSTROUTING -j DOMUD-POSTROUTING" "-A FORWARD -j DOMUD-FORWARD"; do
		[ "$(grep -c -e "$h" "$tmp/save3")" = 1 ] || die "hook '$h' is not there exactly once"
	done
	[ "$(ours | grep -c -v -e '^-A \(PREROUTING\|OUTPUT\|POSTROUTING\|FORWARD\) ')" = \
	    "$(grep -c '^-A DOMUD' "$here/golden/two-nets.expected")" ] || die "rule count differs"
	;;
drift)
	setup two-nets
	# shellcheck disable=SC2086
	nt up $active 2>/dev/null || die "up failed"
	saved > "$tmp/before"
	iptables-legacy -t nat -D DOMUD-DNAT 2
	iptables-legacy -I FORWARD -j DOMUD-FORWARD
	iptables-legacy -A DOMUD-FORWARD -s 192.0.2.1 -j ACCEPT
	iptables-legacy -t nat -D POSTROUTING -j DOMUD-POSTROUTING
	# what Xen's vif-bridge does on hotplug: an ACCEPT ahead of our hook
	iptables-legacy -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT
	# and a DROP ahead of our hook in OUTPUT: that one is drift
	iptables-legacy -t nat -I OUTPUT -d 192.0.2.9 -j DROP 2>/dev/null ||
		iptables-legacy -t nat -I OUTPUT -d 192.0.2.9 -j RETURN
	# shellcheck disable=SC2086
	nt check $active > "$tmp/drift" 2>/dev/null && die "check saw no drift"
	for want in 'nat: missing: -A DOMUD-DNAT -p tcp -m tcp --dport 8080 .*web' \
	    'filter: FORWARD jumps to DOMUD-FORWARD 2 times' \
	    'filter: DOMUD-FORWARD: rule .* is not ours to have' \
	    'nat: hook missing in POSTROUTING'; do
		grep -q -e "$want" "$tmp/drift" || { cat "$tmp/drift"; die "not reported: $want"; }
	done
	grep -q 'hook missing in FORWARD' "$tmp/drift" &&
		die "an ACCEPT ahead of the FORWARD hook was called drift"
	grep -q 'hook missing in OUTPUT' "$tmp/drift" ||
		die "a rule that drops ahead of the OUTPUT hook was not reported"
	# shellcheck disable=SC2086
	nt fix $active > /dev/null 2>&1 || die "fix failed"
	# shellcheck disable=SC2086
	nt check $active || die "drift left after fix"
	iptables-legacy-save -t nat | grep -A1 -e '-A OUTPUT .*DOMUD-DNAT' |
		grep -q 192.0.2.9 || die "the OUTPUT hook was not put ahead of the foreign rule"
	# the foreign rules stay; without them, the rule set is as before
	iptables-legacy -D FORWARD -m physdev --physdev-is-bridged -j ACCEPT || die "foreign ACCEPT lost"
	iptables-legacy -t nat -D OUTPUT -d 192.0.2.9 -j DROP 2>/dev/null ||
		iptables-legacy -t nat -D OUTPUT -d 192.0.2.9 -j RETURN || die "foreign rule lost"
	saved > "$tmp/after"
	diff -u "$tmp/before" "$tmp/after" || die "fix did not restore the rule set"
	;;
remove)
	setup two-nets
	iptables-legacy -A FORWARD -s 192.0.2.7 -j DROP
	iptables-legacy -t nat -A POSTROUTING -s 192.0.2.8 -j MASQUERADE
	# shellcheck disable=SC2086
	nt up $active 2>/dev/null || die "up failed"
	nt remove 2>/dev/null || die "remove failed"
	iptables-legacy-save | grep -q DOMUD && { iptables-legacy-save; die "DOMUD left behind"; }
	iptables-legacy-save -t filter | grep -q -e '-s 192.0.2.7/32 -j DROP' || die "a foreign filter rule was lost"
	iptables-legacy-save -t nat | grep -q -e '-s 192.0.2.8/32 -j MASQUERADE' || die "a foreign nat rule was lost"
	nt remove 2>/dev/null || die "a second remove failed"
	;;
undo)
	# a failure while a service's network is set up leaves no rule of it
	setup two-nets
	nt up db 2>/dev/null || die "up db failed"
	saved > "$tmp/before"
	mkfifo "$tmp/held.fifo"
	# -o: the lock stays with flock itself, and goes when it is killed; its
	# holder says "held PID" once flock has the lock (read waits up to 10 s
	# for that), then waits for nothing but its own kill (its tail writes
	# to /dev/null: tail -f ends once the reader of its output is gone)
	flock -o "$XTABLES_LOCKFILE" sh -c 'echo "held $$"; exec tail -f /dev/null > /dev/null' \
		> "$tmp/held.fifo" & lockpid=$!
	held=$(timeout 10 head -n 1 "$tmp/held.fifo")
	case $held in "held "[0-9]*) ;; *) die "flock did not take the xtables lock in 10 s" ;; esac
	nt up web 2>"$tmp/log" && die "up web succeeded under a held xtables lock"
	kill "$lockpid" "${held#held }" 2>/dev/null; wait 2>/dev/null
	grep -q "web: network lan: xtables lock .*still held" "$tmp/log" ||
		{ cat "$tmp/log"; die "the error does not say what failed"; }
	saved > "$tmp/after"
	diff -u "$tmp/before" "$tmp/after" || die "rules changed by a failed start"
	nt up db web 2>/dev/null || die "up after the lock was released failed"
	ours | grep -q 'web tcp:8080:80' || die "web's forward missing after a good start"
	;;
leases)
	setup two-nets
	nt leases > "$tmp/l1" 2>/dev/null || die "leases"
	nt leases > "$tmp/l2" 2>/dev/null || die "leases"
	diff -u "$tmp/l1" "$tmp/l2" || die "leases changed between runs"
	grep -q '^db 10.78.0.10 ' "$tmp/l1" || die "db lacks its fixed address"
	grep -q '^idle 10.77.0.2 ' "$tmp/l1" || die "idle: first free address expected"
	grep -q '^web 10.77.0.3 ' "$tmp/l1" || die "web: next free address expected"
	webmac=$(awk '$1=="web"{print $3}' "$tmp/l1")
	# a new service with a fixed address and web's MAC: web keeps its
	# address, and its auto MAC moves to a saved tie-break
	cat > "$tmp/c/services.d/new.ini" <<-INI
	[service]
	kernel = /boot/none
	memory = 64M
	[net]
	network = lan
	ip = 10.77.0.200
	mac = $webmac
	INI
	nt leases > "$tmp/l3" 2>/dev/null || die "leases"
	grep -q '^web 10.77.0.3 ' "$tmp/l3" || die "web's address changed"
	newmac=$(awk '$1=="web"{print $3}' "$tmp/l3")
	[ "$newmac" != "$webmac" ] || die "web kept a MAC now fixed for another"
	grep -q '"service":"web".*"tiebreak":1' "$tmp/c/state/leases.json" || die "tie-break not saved"
	rm "$tmp/c/services.d/new.ini"
	nt leases > "$tmp/l4" 2>/dev/null || die "leases"
	[ "$(awk '$1=="web"{print $3}' "$tmp/l4")" = "$newmac" ] || die "web's MAC changed again"
	rm "$tmp/c/services.d/idle.ini"
	nt leases > /dev/null 2>&1 || die "leases"
	grep -q '"service":"idle"' "$tmp/c/state/leases.json" && die "idle's lease was not reaped"
	grep -q '"service":"new"' "$tmp/c/state/leases.json" && die "new's lease was not reaped"
	grep -q '"service":"web"' "$tmp/c/state/leases.json" || die "web's lease was lost"
	:
	;;
*)
	die "unknown case $case_name"
	;;
esac
