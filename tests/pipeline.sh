#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make test: every phase of the test run, timed, then one table of them.
#
#   tests/pipeline.sh            deps, then three lanes side by side: the host
#                                checks (make check's parts), and per arch the
#                                e2e binaries, images and its boot of every
#                                default suite; then each arch's 4-CPU part
#                                boot, alone
#
# Why lanes: an emulated boot keeps about one of the machine's two cores busy
# (one dom0 vCPU; a guest's vCPU while it boots), so two arches' boots and the
# host checks share the machine better than they follow each other (the
# figures are in tests/e2e/README.md). E2E_LANES=serial runs everything one
# after the other, as before, for comparison.
#
# Environment: E2E_ARCHES ("amd64 arm64"), E2E_SUITES, E2E_PART_SUITES and
# CHECK_PARTS (from the Makefile), O (build), E2E_LANES (parallel|serial),
# MAKE (make). Each phase's output goes to the terminal, each line behind its
# lane's name, and whole to $O/pipeline/<phase>.log.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
MAKE=${MAKE:-make}
E2E_ARCHES=${E2E_ARCHES:-amd64 arm64}
E2E_LANES=${E2E_LANES:-parallel}
P=$O/pipeline
rm -rf "$P"; mkdir -p "$P"
T0=$(date +%s)

# phase LANE NAME CMD...: run CMD, its output behind "[LANE] ", one line in
# $P/times: lane, name, start and end (seconds since T0), exit status
phase() {
	local lane=$1 name=$2 s e rc
	shift 2
	s=$(( $(date +%s) - T0 ))
	printf '[%s] ==== %s\n' "$lane" "$name"
	"$@" > >(tee "$P/${name//[\/ ]/_}.log" | sed -u "s/^/[$lane] /") 2>&1
	rc=$?
	e=$(( $(date +%s) - T0 ))
	printf '%s\t%s\t%d\t%d\t%d\n' "$lane" "$name" "$s" "$e" "$rc" >> "$P/times"
	printf '[%s] ==== %s: %s in %ds\n' "$lane" "$name" \
		"$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")" $((e - s))
	return $rc
}

# the host checks: make check's parts, each its own phase; warnings are errors
lane_check() {
	local rc=0 p j
	for p in $("$MAKE" -s --no-print-directory print-check-parts); do
		# builds two at a time; what runs tests, one after the other
		case $p in layers|all|fuzz) j=-j2 ;; *) j= ;; esac
		phase check "check/$p" "$MAKE" --no-print-directory $j WERROR=1 "$p" || rc=1
	done
	return $rc
}

# one arch: its binaries (a cross build for arm64), its images, its boot of
# the default suites; $P/built-ARCH says the part boot may follow
lane_arch() {
	local a=$1
	phase "$a" "e2e/$a/binaries" "$MAKE" --no-print-directory -j2 WERROR=1 E2E_ARCH="$a" \
		e2e-bin || return 1
	phase "$a" "e2e/$a/images" "$MAKE" --no-print-directory E2E_ARCH="$a" e2e-images ||
		return 1
	: > "$P/built-$a"
	phase "$a" "e2e/$a/boot" "$MAKE" --no-print-directory WERROR=1 E2E_ARCH="$a" \
		e2e-run
}

# the 4-CPU part boots, one arch after the other and with nothing beside
# them: amd64's q35 machine with QEMU's VT-d once went silent for good in
# part/pci while the arm64 machine ran beside it, and passed alone; it went
# silent alone once too (QEMU idle, no line from Xen after part/sched). A
# boot silent for 150 s is stopped and booted once more, said in the output
# (run.sh: E2E_SILENCE, E2E_HANG_RETRY); a second hang fails
part_boots() {
	local a rc=0
	for a in $E2E_ARCHES; do
		[ -e "$P/built-$a" ] || continue
		phase "$a" "e2e/$a/part-boot" env E2E_SILENCE=150 E2E_HANG_RETRY=1 \
			"$MAKE" --no-print-directory WERROR=1 E2E_ARCH="$a" \
			E2E_SUITES="$E2E_PART_SUITES" e2e-run || rc=1
	done
	return $rc
}

mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

table() {
	local lane name s e rc log
	echo
	echo "==== make test: phases (wall time; lanes run side by side: $E2E_LANES)"
	printf '%-28s %-7s %7s %7s  %s\n' phase lane start wall result
	while IFS=$'\t' read -r lane name s e rc; do
		printf '%-28s %-7s %7s %7s  %s\n' "$name" "$lane" "$(mmss "$s")" "$(mmss $((e - s)))" \
			"$([ "$rc" = 0 ] && echo ok || echo "FAILED ($rc)")"
		log=$P/${name//[\/ ]/_}.log
		case "$name" in
		e2e/*boot)
			# each suite inside the boot, as dom0 timed it; then the boot's own line
			sed -n 's/^# suite \([^:]*\): done in \([0-9.]*\)s$/\1 \2/p' "$log" |
			while read -r su t; do
				printf '  %-26s %-7s %7s %7s\n' "$su" "" "" "$(mmss "${t%.*}")"
			done
			sed -n 's/^bench: boot .*dom0_ready_s=\([0-9.]*\).*total_s=\([0-9.]*\).*/\1 \2/p' "$log" |
			while read -r r t; do
				printf '  %-26s %-7s %7s %7s\n' "(dom0 ready; whole boot)" "" \
					"$(mmss "${r%.*}")" "$(mmss "${t%.*}")"
			done
			grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | sed 's/^/  /'
			# what failed or could not run, here too: CI may keep only the tail
			grep -E '^(FAIL|SKIP) ' "$log" | cut -c1-200 | sed 's/^/  /'
			;;
		*)
			# a failed host phase: its last lines
			[ "$rc" = 0 ] || tail -n 6 "$log" | cut -c1-200 | sed 's/^/  | /'
			;;
		esac
	done < "$P/times"
	printf '%-28s %-7s %7s %7s\n' total "" "" "$(mmss $(( $(date +%s) - T0 )))"
}

rc=0
phase main deps "$MAKE" --no-print-directory deps E2E_ARCH="$(case " $E2E_ARCHES " in
	*" arm64 "*) echo arm64 ;; *) echo amd64 ;; esac)" || rc=1
if [ "$E2E_LANES" = serial ]; then
	lane_check || rc=1
	for a in $E2E_ARCHES; do lane_arch "$a" || rc=1; done
else
	pids=()
	lane_check & pids+=($!)
	for a in $E2E_ARCHES; do lane_arch "$a" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
fi
part_boots || rc=1
table | tee "$P/table.txt"
exit $rc
