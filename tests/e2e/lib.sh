# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2034  # variables here are for the scenarios
# Helpers for the e2e scenario scripts; sourced by dom0's /init (busybox sh) before
# each scenario. Scenarios report with pass/fail/bench/info: those lines go straight
# to the console (even from inside $(...)) and the host harness collects them.
#
#   pass AREA/NAME [details]     -> "E2E: PASS AREA/NAME details"
#   fail AREA/NAME [why]         -> "E2E: FAIL AREA/NAME why"
#   bench NAME k=v...            -> "E2E: bench: NAME k=v..."
#   info TEXT                    -> "E2E: INFO TEXT"  (shown as "# TEXT" on the host)
#   wait_for SECONDS CMD...      poll CMD every 0.1 s until it succeeds (returns 1 on timeout)
#   up                           seconds since dom0 boot (/proc/uptime, 10 ms resolution)
#   dt A B                       B - A, two decimals
#   guest_cmdline TOKEN [words]  kernel command line for the test guest
#   guest_xl_cfg NAME TOKEN [words]   an xl config for the test guest (stdout)
#   xl_start/xl_stop/con_log/con_wait/con_send   plain-xl guests with a console reader
#   xl_baseline NAME [words]     xl create -p + unpause the test guest, print the seconds
#                                from create to its marker on the console, destroy it
#   console_tty DOMID            the guest console's PTY (from xenstore)
#   domids                       ids of all domains but dom0
#   power_cut [words]            the board loses its power: "E2E-POWER-CUT" on the
#                                console, then at once SysRq b (reboot, nothing synced);
#                                run.sh boots the machine again over the same /persist
#                                disk and runs the scenario again with E2E_BOOT + 1
#
# Variables: E2E_ARCH (amd64|arm64), E2E_GUEST_TYPE (pv|pvh), E2E_IMG (guest image dir),
# E2E_KERNEL (fastest kernel to boot the guest from), E2E_INITRD, E2E_DATA_IMG,
# E2E_GUEST_MEM (MiB), E2E_SUITE (name of the running scenario), E2E_BOOT and
# E2E_BOOTS (this boot's number and the most there are: 1 and 1 unless the scenario
# says "# e2e-boots: N"; then /persist is the disk that outlives the power cuts).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
# shellcheck disable=SC1091
[ -f /e2e/env ] && . /e2e/env
E2E_ARCH=${E2E_ARCH:-amd64}
E2E_GUEST_TYPE=${E2E_GUEST_TYPE:-pv}
E2E_IMG=/var/lib/domud/images/busybox
E2E_INITRD=$E2E_IMG/initrd.cpio.gz
E2E_DATA_IMG=$E2E_IMG/data.img
E2E_GUEST_MEM=${E2E_GUEST_MEM:-128}
# amd64: the bare ELF kernel builds ~5x faster than Debian's xz-compressed bzImage
if [ -f "$E2E_IMG/vmlinux" ]; then E2E_KERNEL=$E2E_IMG/vmlinux; else E2E_KERNEL=$E2E_IMG/vmlinuz; fi
E2E_RESULTS=/tmp/e2e-results
E2E_BOOT=${E2E_BOOT:-1}
E2E_BOOTS=${E2E_BOOTS:-1}

# write to the console itself: reports must reach the harness even from $(...)
_e2e_say() {
  if [ -w /dev/console ]; then echo "E2E: $*" > /dev/console; else echo "E2E: $*"; fi
}
pass() { _e2e_say "PASS $*"; echo "PASS $1" >> "$E2E_RESULTS"; }
fail() { _e2e_say "FAIL $*"; echo "FAIL $1" >> "$E2E_RESULTS"; }
# a scenario that cannot run on this arch: AREA/NAME and the reason, never silence
skip() { _e2e_say "SKIP $*"; echo "SKIP $1" >> "$E2E_RESULTS"; }
bench() { _e2e_say "bench: $*"; }
info() { _e2e_say "INFO $*"; }

up() { cut -d' ' -f1 /proc/uptime; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
wait_for() {
  case "$1" in
    *.*) _e2e_wf=$(awk -v s="$1" 'BEGIN{printf "%d", s * 10}') ;;
    *) _e2e_wf=$(( $1 * 10 )) ;;
  esac
  shift
  while [ "$_e2e_wf" -gt 0 ]; do
    "$@" && return 0
    sleep 0.1; _e2e_wf=$((_e2e_wf - 1))
  done
  return 1
}

console_tty() { xenstore-read "/local/domain/$1/console/tty" 2>/dev/null; }
domids() { xl list 2>/dev/null | awk 'NR>1 && $2!=0 {print $2}'; }

guest_cmdline() { # TOKEN [more words]
  _e2e_tok=$1; shift
  echo "console=hvc0 loglevel=4 e2e.marker=$_e2e_tok${*:+ $*}"
}

guest_xl_cfg() { # NAME TOKEN [more kernel command-line words]
  _e2e_name=$1; _e2e_tok=$2; shift 2
  cat <<EOF
name = "$_e2e_name"
type = "$E2E_GUEST_TYPE"
kernel = "$E2E_KERNEL"
ramdisk = "$E2E_INITRD"
extra = "$(guest_cmdline "$_e2e_tok" "$@")"
memory = $E2E_GUEST_MEM
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
}

# Guests under plain xl, with one console reader (cat) per guest writing to a file:
#   xl_start NAME CFGFILE   xl create -p, start the reader, unpause; prints the domid
#   con_log NAME            the file the guest's console goes to
#   con_wait NAME SECONDS PATTERN   wait for an extended regex on the console
#   con_send NAME LINE      write LINE to the guest's console (its /init echoes it,
#                           or runs it when it starts with "RUN ")
#   xl_stop NAME            stop the reader, xl destroy
con_log() { echo "/tmp/con-$1.log"; }
con_wait() { wait_for "$2" grep -qE "$3" "$(con_log "$1")"; }
con_send() {
  _e2e_d=$(xl domid "$1" 2>/dev/null) || return 1
  printf '%s\n' "$2" > "$(console_tty "$_e2e_d")"
}
xl_start() {
  _s_log=$(con_log "$1")
  : > "$_s_log"
  _s_c0=$(up)
  if ! xl create -p "$2" > "/tmp/xl-$1.log" 2>&1; then
    sed 's/^/xl create: /' "/tmp/xl-$1.log" >&2
    xl destroy "$1" > /dev/null 2>&1
    return 1
  fi
  # how long xl's create took (bench compares it with domud's create_ms)
  dt "$_s_c0" "$(up)" > "/tmp/xl-$1.create_s"
  _s_d=$(xl domid "$1" 2>/dev/null)
  if ! wait_for 10 console_tty "$_s_d" > /dev/null; then
    echo "xl_start: no console tty for domain $_s_d" >&2
    xl destroy "$1" > /dev/null 2>&1
    return 1
  fi
  _s_tty=$(console_tty "$_s_d")
  stty -F "$_s_tty" raw -echo 2>/dev/null
  cat "$_s_tty" >> "$_s_log" 2>/dev/null &
  echo $! > "/tmp/con-$1.pid"
  xl unpause "$1" || return 1
  echo "$_s_d"
}
xl_stop() {
  [ -f "/tmp/con-$1.pid" ] && kill "$(cat "/tmp/con-$1.pid")" 2>/dev/null
  rm -f "/tmp/con-$1.pid"
  xl destroy "$1" > /dev/null 2>&1
  return 0
}

# xl_baseline NAME [words]: the reference path with plain xl, for benchmarks against
# domud. Prints the seconds from `xl create -p` to "DOMU-MARKER <token>" on the
# guest's console (one reader on the PTY: cat), then destroys the guest.
xl_baseline() {
  _b_name=$1; shift
  _b_tok="xlb-$_b_name-$$"
  guest_xl_cfg "$_b_name" "$_b_tok" "$@" > "/tmp/xlb-$_b_name.cfg"
  _b_t0=$(up)
  xl_start "$_b_name" "/tmp/xlb-$_b_name.cfg" > /dev/null || return 1
  _b_rc=1
  if con_wait "$_b_name" 90 "DOMU-MARKER $_b_tok"; then _b_t1=$(up); _b_rc=0; fi
  xl_stop "$_b_name"
  if [ "$_b_rc" = 0 ]; then
    dt "$_b_t0" "$_b_t1"; echo
  else
    echo "xl_baseline: no marker from $_b_name; console:" >&2
    tail -n 20 "$(con_log "$_b_name")" >&2
  fi
  return "$_b_rc"
}

# power_cut [words]: what a power failure does to the board, as dom0's disk sees it:
# SysRq b restarts at once, with no sync and no unmount (what the kernel had not
# written to the disk is lost; what it had is there: QEMU's own cache outlives it).
# Xen then restarts the machine, QEMU (-no-reboot) exits, run.sh sees the marker and
# boots again. Only before a scenario's last boot; returns 1 (after a fail) otherwise.
power_cut() {
  if [ "$E2E_BOOT" -ge "$E2E_BOOTS" ]; then
    fail e2e/power-cut "no boot follows this one (boot $E2E_BOOT of $E2E_BOOTS: the scenario needs '# e2e-boots: N')"
    return 1
  fi
  echo "E2E-POWER-CUT boot=$E2E_BOOT/$E2E_BOOTS uptime=$(up)${1:+ $*}" > /dev/console
  echo b > /proc/sysrq-trigger
  # the machine is gone now; if SysRq b did nothing, run.sh stops QEMU
  # 10 s after the marker: wait for that, on a FIFO nobody writes
  rm -f /tmp/.power-cut; mkfifo /tmp/.power-cut && read -r _ < /tmp/.power-cut
  fail e2e/power-cut "dom0 still running after SysRq b"
  return 1
}
