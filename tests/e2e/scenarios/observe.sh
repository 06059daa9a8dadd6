# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# Health and observability on real Xen.
# observe/watchdog: a guest arms Xen's domain watchdog (xen_wdt) and stops
# feeding it; Xen kills the domain with reason watchdog, domud counts a
# failure under restart = on-failure, says "watchdog" in status and its log,
# and starts the service again.
# observe/stats: Xen's CPU time and memory of a domain in status: CPU time
# grows while the guest spins, hardly while it idles.
# observe/devices: status counts a known disk read and known vif traffic.
# observe/start-wait: domuctl start --wait follows a memres service up to
# ready; a start that fails returns 1 with the reason.
# observe/metrics: metrics_file is rewritten with every service's series;
# domuctl metrics says the same.
# observe/events: a `domuctl events -f` started before sees that story in
# order, each change with its reason and actor, and `domuctl events wd`
# afterwards shows the same.
. /e2e/scenarios/lib/domud.sh

conf_init
mkdir -p /run/domud-metrics
printf 'metrics_file = /run/domud-metrics/domud.prom\nmetrics_interval = 2s\n' >> "$DOMUD_CONF_DIR/domud.conf"
CMDX="e2e.watchdog=4:6" svc_ini wd wd-up "autostart = yes" "restart = on-failure" \
  "restart_delay = 1s"
if ! domud_up; then
  fail observe/watchdog "domud did not start"
  exit 0
fi

# ---- observe/watchdog ----------------------------------------------------------------
domuctl events -f wd > /tmp/obs-events.out 2> /tmp/obs-events.err &
follower=$!
why=""
wait_up wd 120 || why="$why wd did not come up: $(jfield wd state);"
d0=$(jfield wd domid)
if ! wait_for 60 console_has wd "DOMU-WATCHDOG armed"; then
  why="$why the guest never armed the watchdog: $(grep DOMU-WATCHDOG /var/log/domud/wd.log | tr '\n' ' ');"
else
  t0=$(up)
  wd_back() { # restarted once, running, in a new domain
    [ "$(jfield wd restarts)" = 1 ] && [ "$(jfield wd state)" = running ] &&
      [ "$(jfield wd domid)" != "$d0" ] && return 0
    sleep 0.4; return 1
  }
  if wait_for 90 wd_back; then
    last=$(jfield wd last_exit)
    [ "$last" = watchdog ] || why="$why last_exit '$last', not watchdog;"
    grep -q "wd: watchdog" "$DOMUD_LOG" || why="$why no 'wd: watchdog' in domud's log: $(grep ' wd: ' "$DOMUD_LOG" | tail -n 3 | tr '\n' '|');"
  else
    why="$why not restarted after the watchdog: $(domuctl status wd 2>&1 | tr '\n' '|'); guest: $(grep DOMU-WATCHDOG /var/log/domud/wd.log | tr '\n' ' ');"
  fi
fi
if [ -z "$why" ]; then
  pass observe/watchdog "domain $d0 killed by Xen's watchdog $(dt "$t0" "$(up)")s after the guest stopped feeding it (armed 4 s, fed 6 s); restarted as $(jfield wd domid), last_exit watchdog, restarts 1"
else
  fail observe/watchdog "$why"
  show_log 20
fi
# ---- observe/stats -------------------------------------------------------------------
# (a memres guest burns CPU through the agent for 8 s, then idles for 8 s:
# Xen's CPU time grows by seconds, then by little; its memory is what the
# service asked for)
m_stats() { # CPU_TIME_MS MEMORY_NOW of m, from one status reply
  domuctl -j status m 2>/dev/null | sed -n 's/.*"cpu_time_ms":\([0-9]*\).*"memory_now":\([0-9]*\).*/\1 \2/p'
}
why=""
RAMDISK=$(agent_initrd) MEM=96 CMDX="e2e.agent=1" svc_ini m m-up "autostart = no" "memres = yes" \
  "" "[disk:data]" "path = $E2E_DATA_IMG" "vdev = xvdb" "access = ro" "" "[net]" "bridge = xenbr0"
KERNEL=/nonexistent/vmlinuz svc_ini bad bad-up "autostart = no" "restart = no"
domuctl reload > /dev/null 2>&1
# ---- observe/start-wait: start --wait shows the way up and returns once the
# agent answers; a start that cannot work returns non-zero with the reason
t0=$(up)
domuctl -t 180 start --wait m > /tmp/obs-wait.out 2> /tmp/obs-wait.err; wrc=$?
wait_s=$(dt "$t0" "$(up)")
domuctl start --wait bad > /tmp/obs-bad.out 2> /tmp/obs-bad.err; brc=$?
if [ "$wrc" = 0 ] && [ "$(jfield m state)" = ready ] && grep -q "running -> ready (agent answered" /tmp/obs-wait.out &&
   grep -q "starting -> running" /tmp/obs-wait.out && [ "$brc" = 1 ] && [ -s /tmp/obs-bad.err ]; then
  pass observe/start-wait "start --wait m returned 0 in ${wait_s}s when ready ($(grep -c ' -> ' /tmp/obs-wait.out) steps shown); bad: rc 1, '$(head -n 1 /tmp/obs-bad.err)'"
else
  fail observe/start-wait "m: rc $wrc, state $(jfield m state), out: $(tr '\n' '|' < /tmp/obs-wait.out) err: $(head -c 300 /tmp/obs-wait.err); bad: rc $brc $(tr '\n' '|' < /tmp/obs-bad.out) $(head -c 300 /tmp/obs-bad.err)"
fi
if ! wait_state m ready 120; then
  why="m not ready: $(jfield m state);"
else
  sleep 3   # two samples of the listing
  set -- $(m_stats); c0=${1:-}; mem=${2:-}
  domuctl exec -t 20 --shell m -- 'end=$(($(date +%s) + 8)); while [ $(date +%s) -lt $end ]; do :; done' > /dev/null 2>&1
  sleep 3
  set -- $(m_stats); c1=${1:-}
  sleep 8
  set -- $(m_stats); c2=${1:-}
  pm=$(jfield m cpu_permille)
  if [ -z "$c0" ] || [ -z "$c1" ] || [ -z "$c2" ] || [ -z "$mem" ]; then
    why="$why no figures in status: $(domuctl -j status m 2>&1 | head -c 600);"
  else
    busy=$((c1 - c0)); idle=$((c2 - c1))
    [ "$busy" -ge 4000 ] || why="$why CPU time grew by only ${busy} ms while the guest spun 8 s;"
    [ "$idle" -le $((busy / 4)) ] || why="$why CPU time grew by ${idle} ms idle vs ${busy} ms busy;"
    # 96 MiB asked; Xen's count may add a little (video RAM, slack), or show
    # a few MiB less (ballooned pages the kernel gave back), never far off
    [ "$mem" -ge $((96 * 1048576 - 8 * 1048576)) ] && [ "$mem" -le $((96 * 1048576 + 8 * 1048576)) ] ||
      why="$why memory_now $mem for memory = 96M;"
  fi
fi
if [ -z "$why" ]; then
  pass observe/stats "cpu_time_ms $c0 -> $c1 (8 s spinning: +$busy) -> $c2 (8 s idle: +$idle), cpu_permille now ${pm:-?}; memory_now $mem for 96M"
else
  fail observe/stats "$why"
fi
# ---- observe/devices: blkback's and the vif's counters, for known traffic -----------
devs() { # READ_BYTES and the vif's TX_BYTES (the guest's sending) of m
  domuctl -j status m 2>/dev/null | sed -n 's/.*"vdev":"xvdb","read_requests":[0-9]*,"write_requests":[0-9]*,"read_bytes":\([0-9]*\).*"ifname":"vif[0-9.]*","rx_bytes":[0-9]*,"tx_bytes":\([0-9]*\).*/\1 \2/p'
}
set -- $(devs); rb0=${1:-}; tx0=${2:-}
domuctl exec -t 60 --shell m -- 'dd if=/dev/xvdb of=/dev/null bs=64k 2>/dev/null; ip addr add 10.99.0.77/24 dev eth0; ip link set eth0 up; ping -c 10 -s 1000 -W 2 10.99.0.1 > /dev/null 2>&1; true' > /dev/null 2>&1
set -- $(devs); rb1=${1:-}; tx1=${2:-}
if [ -n "$rb0" ] && [ -n "$rb1" ] && [ -n "$tx0" ] && [ -n "$tx1" ] &&
   [ $((rb1 - rb0)) -ge $((4 * 1048576)) ] && [ $((tx1 - tx0)) -ge 10000 ]; then
  pass observe/devices "xvdb read_bytes +$((rb1 - rb0)) for an 8 MiB dd; vif tx_bytes +$((tx1 - tx0)) for 10 pings of 1000 bytes"
else
  fail observe/devices "read_bytes $rb0 -> $rb1, vif tx_bytes $tx0 -> $tx1: $(domuctl -j status m 2>&1 | grep -o '"disks".*' | head -c 400)"
fi
domuctl status m 2>&1 | while IFS= read -r l; do info "  $l"; done
# the start timing breakdown of one memres service (PV on amd64, PVH on arm64)
ls_json=$(domuctl -j status m 2>/dev/null | sed -n 's/.*"last_start":{\([^}]*\)}.*/\1/p' | tr -d '"' | tr ',:' ' =')
bench start_breakdown "service=m $ls_json"
# ---- observe/top: batch mode, two rounds ----------------------------------------------
domuctl top -n 2 -d 1 > /tmp/obs-top.out 2>&1; trc=$?
if [ "$trc" = 0 ] && [ "$(grep -c '^SERVICE' /tmp/obs-top.out)" = 2 ] &&
   grep -qE '^m +ready +[0-9]+ +[0-9.]+ ' /tmp/obs-top.out && grep -qE '^wd +[a-z]+ ' /tmp/obs-top.out; then
  pass observe/top "2 rounds: $(sed -n '1,/^$/p' /tmp/obs-top.out | grep -c .) lines each; $(grep -m1 '^m ' /tmp/obs-top.out | tr -s ' ')"
else
  fail observe/top "rc $trc: $(tr '\n' '|' < /tmp/obs-top.out | head -c 600)"
fi

# ---- observe/metrics -----------------------------------------------------------------
# (the file node_exporter's textfile collector reads; the harness runs
# promtool on it, from the METRICS lines, as observe/metrics-promtool)
why=""
wait_for 10 test -s /run/domud-metrics/domud.prom || why="no metrics file;"
sleep 3   # one more rewrite, with m's figures
cp /run/domud-metrics/domud.prom /tmp/obs.prom 2>/dev/null
grep -qE '^domud_service_restarts_total\{service="wd"\} [1-9]' /tmp/obs.prom || why="$why wd's restarts not counted;"
# (wd's guest arms the watchdog at every boot: it keeps being restarted)
for want in 'domud_service_state{service="wd",state=' \
    'domud_service_cpu_seconds_total{service="m"}' 'domud_service_memory_bytes{service="m"}' \
    'domud_service_ready{service="m"} 1' 'domud_build_info{version='; do
  grep -qF "$want" /tmp/obs.prom || why="$why no '$want';"
done
m1=$(domuctl metrics 2>/dev/null | grep -c '^domud_')
[ "$m1" -gt 20 ] || why="$why domuctl metrics gave $m1 series;"
if [ -z "$why" ]; then
  pass observe/metrics "$(grep -c '^domud_' /tmp/obs.prom) series in the file, $m1 from domuctl metrics"
else
  fail observe/metrics "$why $(head -c 400 /tmp/obs.prom)"
fi
while IFS= read -r l; do _e2e_say "METRICS $l"; done < /tmp/obs.prom
domuctl stop m > /dev/null 2>&1

# ---- observe/events ------------------------------------------------------------------
sleep 1
kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null
domuctl events wd > /tmp/obs-events.all 2>&1
# the story after the start: Xen's watchdog, the policy, the new domain
# (the backoff's reason is the event that ended the domain: its death or
# domud's destroy, whichever libxl reported first)
story=$(grep -oE '(running -> destroying \(shutdown: watchdog; by xen\)|destroying -> backoff \((destroyed|died): watchdog; by policy\)|backoff -> starting \(backoff over; by policy\)|starting -> running \(created; by domud\))' /tmp/obs-events.out |
  sed -n '/shutdown: watchdog/,$p' | head -n 4 | sed 's/(died: /(destroyed: /' | tr '\n' '|')
want='running -> destroying (shutdown: watchdog; by xen)|destroying -> backoff (destroyed: watchdog; by policy)|backoff -> starting (backoff over; by policy)|starting -> running (created; by domud)|'
if [ "$story" = "$want" ] && grep -q "backoff over; by policy" /tmp/obs-events.all &&
   grep -q "(autostart; by domud)" /tmp/obs-events.all; then
  pass observe/events "the follower saw $(grep -c ' -> ' /tmp/obs-events.out) events in order: $(echo "$story" | sed 's/|$//; s/|/ | /g')"
else
  fail observe/events "follower saw '$story'; wanted '$want'; its output: $(tr '\n' '|' < /tmp/obs-events.out | head -c 1500) $(head -c 200 /tmp/obs-events.err)"
fi
domuctl events -n 3 2>&1 | while IFS= read -r l; do info "  $l"; done
domud_down 60
true
