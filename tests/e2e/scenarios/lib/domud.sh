# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Helpers for scenarios that drive domud (sourced after /e2e/lib.sh).
#
#   svc_ini NAME TOKEN [ini lines...]  write a service for the test guest
#   domud_up CONF [domud binary]        start domud -d in the background, wait
#                                        for its control socket
#   domud_down                          SIGTERM, wait until it has exited
#   jfield NAME FIELD                   a string or number from status --json
#   wait_state NAME STATE SECONDS       poll status until NAME is in STATE
#   wait_up NAME SECONDS                like wait_state NAME running, but gives up
#                                        at once when NAME has failed
#   console_has NAME PATTERN            grep the service's console log
#   svc_run NAME TAG CMD [SECONDS]      run CMD in the service's guest through its
#                                        console (the guest's RUN); its output goes
#                                        to /tmp/run-TAG.out; returns CMD's status
#                                        (124: no answer within SECONDS, default 30)
#   domud_rules                         our part of iptables-legacy-save: the DOMUD
#                                        chains, their rules and the hooks, counters
#                                        stripped
#   agent_initrd [OUT]                  the test guest's initramfs with domud-agent
#                                        appended (/e2e/agent.cpio); prints its path
#                                        (for RAMDISK=; the guest needs e2e.agent=1)
#   ms                                  milliseconds since dom0 boot (10 ms steps)
#   rss_kib PID                         VmRSS of PID in KiB
#   median                              the median of numbers on stdin (one a line)
DOMUD_CONF_DIR=/tmp/domud-conf
DOMUD_LOG=/tmp/domud.log
DOMUD_BIN=${DOMUD_BIN:-domud}

conf_init() { # fresh configuration directory
  rm -rf "$DOMUD_CONF_DIR"; mkdir -p "$DOMUD_CONF_DIR/services.d"
  printf '[domud]\nconsole_log_max = 256K\n' > "$DOMUD_CONF_DIR/domud.conf"
  rm -f /var/log/domud/*.log /var/log/domud/*.log.1 /var/log/domud/*.log.prev /var/log/domud/*.log.prev.1
}

svc_ini() { # NAME TOKEN [extra lines]; the guest's cmdline gets e2e.* words from $CMDX,
  # the ramdisk is $RAMDISK if set (e.g. agent_initrd's), else the test guest's
  _n=$1; _t=$2; shift 2
  {
    echo "[service]"
    echo "type = $E2E_GUEST_TYPE"
    echo "kernel = ${KERNEL:-$E2E_KERNEL}"
    echo "ramdisk = ${RAMDISK:-$E2E_INITRD}"
    echo "cmdline = $(guest_cmdline "$_t" ${CMDX:-})"
    echo "memory = ${MEM:-$E2E_GUEST_MEM}M"
    for l in "$@"; do echo "$l"; done
  } > "$DOMUD_CONF_DIR/services.d/$_n.ini"
}

domud_up() { # [binary]; $DOMUD_FLAGS: more options (-I)
  _b=${1:-$DOMUD_BIN}
  # shellcheck disable=SC2086 # options, split on purpose
  "$_b" -d -v $DOMUD_FLAGS -f "$DOMUD_CONF_DIR/domud.conf" >> "$DOMUD_LOG" 2>&1 &
  DOMUD_PID=$!
  if ! wait_for 20 domuctl -t 2 ping > /dev/null 2>&1; then
    info "domud did not answer; its log:"
    tail -n 20 "$DOMUD_LOG" | while IFS= read -r l; do info "  $l"; done
    return 1
  fi
  return 0
}

domud_alive() { kill -0 "$DOMUD_PID" 2>/dev/null && [ "$(awk '{print $3}' /proc/"$DOMUD_PID"/stat 2>/dev/null)" != Z ]; }

domud_down() { # SIGTERM: services stop; wait for the daemon to exit
  kill -TERM "$DOMUD_PID" 2>/dev/null
  wait_for "${1:-90}" sh -c "! kill -0 $DOMUD_PID 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$DOMUD_PID/stat)\" = Z ]"
  _rc=$?
  wait "$DOMUD_PID" 2>/dev/null
  return $_rc
}

# one service's field from `domuctl --json status NAME` (single-line JSON).
# Retried: under emulation a dom0 process now and then dies of a segfault
# that has nothing to do with it (see run.sh), and a check should not.
jfield() {
  for _j in 1 2 3 4; do
    _r=$(domuctl -j status "$1" 2>/dev/null)
    case "$_r" in
    *'"ok":true'*'}') ;;            # a whole reply
    *) continue ;;
    esac
    case "$_r" in
    *"\"$2\":"*) ;;
    *) _v=""; break ;;              # the field is absent: an answer too
    esac
    _v=$(echo "$_r" | sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[0-9-]*\).*/\1/p" | tr -d '"')
    [ -n "$_v" ] && break
  done
  echo "$_v"
}

until_s() { # SECONDS CMD...: CMD every 0.5 s until it succeeds, by the clock
  # (wait_for counts tries: a slow CMD stretches its bound)
  _end=$(awk -v a="$(up)" -v b="$1" 'BEGIN{print a + b}'); shift
  while :; do
    "$@" && return 0
    awk -v a="$(up)" -v b="$_end" 'BEGIN{exit !(a >= b)}' && return 1
    sleep 0.5
  done
}

wait_state() { # NAME STATE SECONDS; every domuctl costs dom0 CPU: poll at 2 Hz
  _w=$(( $3 * 2 ))
  while [ "$_w" -gt 0 ]; do
    [ "$(jfield "$1" state)" = "$2" ] && return 0
    sleep 0.5; _w=$((_w - 1))
  done
  return 1
}

wait_up() { # NAME SECONDS
  _w=$(( $2 * 2 ))
  while [ "$_w" -gt 0 ]; do
    case "$(jfield "$1" state)" in
    running) return 0 ;;
    failed) return 1 ;;
    esac
    sleep 0.5; _w=$((_w - 1))
  done
  return 1
}

# state of NAME in a saved `domuctl -j list` reply
list_state() { sed -n "s/.*\"name\":\"$2\",\"state\":\"\([a-z]*\)\".*/\1/p" "$1"; }

console_has() { grep -q "$2" "/var/log/domud/$1.log" 2>/dev/null; }
# the same in this run's log and the run before's (each new domain of a
# service starts a new log; the one before is NAME.log.prev)
runs_have() { cat "/var/log/domud/$1.log.prev" "/var/log/domud/$1.log" 2>/dev/null | grep -q "$2"; }
# how many lines of this run and the run before match
runs_count() { cat "/var/log/domud/$1.log.prev" "/var/log/domud/$1.log" 2>/dev/null | grep -c "$2"; }

show_log() { # tail of domud's log as INFO lines (at least 40)
  _s=${1:-40}; [ "$_s" -lt 40 ] && _s=40
  tail -n "$_s" "$DOMUD_LOG" | while IFS= read -r l; do info "  domud: $l"; done
  # a dead xenstored breaks every libxl context at once (EBADF everywhere)
  info "  xenstored: $(pidof xenstored || echo not running) xenconsoled: $(pidof xenconsoled || echo not running)"
  dmesg | grep -E 'segfault|general protection|Out of memory' | tail -n 5 |
    while IFS= read -r l; do info "  kernel: $l"; done
}

# svc_run NAME TAG CMD [SECONDS]: the guest runs "CMD" (with sh -c) and prints its
# output between two lines of its own, <<TAG and >>TAG rc=N; TAG must be unique
# in the service's console log (a-z0-9-)
svc_run() {
  _rd=$(jfield "$1" domid)
  _rt=$(console_tty "$_rd")
  [ -n "$_rt" ] || { echo "svc_run: $1 has no console" > "/tmp/run-$2.out"; return 124; }
  printf 'RUN echo "<<%s"; %s; echo ">>%s rc=$?"\n' "$2" "$3" "$2" > "$_rt"
  if ! wait_for "${4:-30}" grep -q ">>$2 rc=" "/var/log/domud/$1.log"; then
    echo "svc_run: no answer from $1 in ${4:-30}s" > "/tmp/run-$2.out"
    return 124
  fi
  tr -d '\r' < "/var/log/domud/$1.log" | sed -n "/^<<$2\$/,/^>>$2 rc=/p" | sed '1d;$d' > "/tmp/run-$2.out"
  _rr=$(tr -d '\r' < "/var/log/domud/$1.log" | sed -n "s/^>>$2 rc=\([0-9]*\).*/\1/p" | head -n 1)
  return "${_rr:-125}"
}

domud_rules() { # our chains and hooks as iptables-legacy-save shows them, no counters
  iptables-legacy-save 2>/dev/null | grep -E '^\*|DOMUD' | sed 's/ \[[0-9]*:[0-9]*\]$//'
}

# Uncompressed: a cpio appended to the gzip'd one fails twice (libxenguest's
# gunzip of PV ramdisks trusts the size in the file's last 4 bytes: "inflate
# failed"; the kernel then wants the next archive 4-byte aligned after the gzip
# stream: "invalid magic at start of compressed archive"). cpio pads to 512.
agent_initrd() { # [OUT]: the kernel unpacks concatenated archives in order
  _ai=${1:-/tmp/initrd-agent.img}
  [ -s /e2e/agent.cpio ] || { echo "agent_initrd: no /e2e/agent.cpio" >&2; return 1; }
  { gzip -dc "$E2E_INITRD" && cat /e2e/agent.cpio; } > "$_ai" || return 1
  echo "$_ai"
}

ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "?"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# the guest I/O process's pid, as domuctl ping says
gio_pid() { domuctl ping 2>/dev/null | sed -n 's/^guest I\/O: process \([0-9]*\),.*/\1/p'; }
# exec with its wall time in ms in $EX_MS, status in $EX_RC; output to files
ex_timed() { # OUT ERR domuctl-exec-args...
  _o=$1; _e=$2; shift 2
  _t=$(ms)
  domuctl exec "$@" > "$_o" 2> "$_e"; EX_RC=$?
  EX_MS=$(( $(ms) - _t ))
}
