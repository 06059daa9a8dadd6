# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 900
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
# observe/previous-log: after the watchdog, status shows the console's last
# lines before the failure, and `logs --previous` the whole run before.
# observe/ready-health: with ready = health, start --wait returns once the
# first probe (tcp, the guest's httpd) passed, and a service after= it is
# created only then.
# observe/health-tcp: the httpd killed, the probe is refused: unhealthy
# with the error, the service left running (no health_restart).
# observe/health-exec: a memres probe that starts failing makes the service
# unhealthy; health_restart stops it as a failure and the policy starts it
# again, healthy.
# bench idle_cpu: domud's CPU time over 20 s with 4 DomUs, metrics every
# 2 s and two probes, against xenconsoled's in the same window.
. /e2e/scenarios/lib/domud.sh

conf_init
mkdir -p /run/domud-metrics
printf 'metrics_file = /run/domud-metrics/domud.prom\nmetrics_interval = 2s\n' >> "$DOMUD_CONF_DIR/domud.conf"
# a network of domud's own, for the tcp probe (no uplink, no NAT)
printf '\n[network:lan]\nbridge = obr0\nsubnet = 10.98.0.0/24\ngateway = 10.98.0.1\nnat = no\n' >> "$DOMUD_CONF_DIR/domud.conf"
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
  # restarted, running, in a new domain: one reply read (three raced the
  # next watchdog: the guest arms it at every boot), by the clock (a count
  # of tries of slow replies ran past the suite's limit in CI)
  wd_back() {
    _st=$(domuctl -j status wd 2>/dev/null)
    case "$_st" in *'"state":"running"'*) ;; *) return 1 ;; esac
    wd_n=$(echo "$_st" | sed -n 's/.*"restarts":\([0-9]*\).*/\1/p')
    wd_d=$(echo "$_st" | sed -n 's/.*"domid":\([0-9]*\).*/\1/p')
    [ "${wd_n:-0}" -ge 1 ] && [ -n "$wd_d" ] && [ "$wd_d" != "$d0" ]
  }
  if until_s 120 wd_back; then
    last=$(jfield wd last_exit)
    [ "$last" = watchdog ] || why="$why last_exit '$last', not watchdog;"
    grep -q "wd: watchdog" "$DOMUD_LOG" || why="$why no 'wd: watchdog' in domud's log: $(grep ' wd: ' "$DOMUD_LOG" | tail -n 3 | tr '\n' '|');"
  else
    why="$why not restarted after the watchdog: $(domuctl status wd 2>&1 | tr '\n' '|'); guest: $(grep DOMU-WATCHDOG /var/log/domud/wd.log | tr '\n' ' ');"
  fi
fi
# ---- observe/previous-log (right away: wd arms the watchdog at every boot) ---
pwhy=""
if [ -z "$why" ]; then
  d1=$wd_d
  domuctl status wd > /tmp/obs-st.out 2>&1
  domuctl logs --previous wd > /tmp/obs-prev.out 2>&1; prc=$?
  domuctl logs -n 400 wd > /tmp/obs-cur.out 2>&1
  grep -q "last failure *watchdog at" /tmp/obs-st.out || pwhy="$pwhy no 'last failure watchdog' in status;"
  grep -q "^    | .*DOMU-WATCHDOG no longer fed" /tmp/obs-st.out || pwhy="$pwhy status lacks the console's last lines;"
  [ "$prc" = 0 ] || pwhy="$pwhy logs --previous: rc $prc;"
  # the run before d1's: d0's after one restart (more when the polls
  # missed the first: the guest arms the watchdog at every boot)
  dp=$(sed -n 's/.*running as domain \([0-9]*\)$/\1/p' /tmp/obs-prev.out | tail -n 1)
  [ "$wd_n" = 1 ] && [ "$dp" != "$d0" ] && pwhy="$pwhy the previous log is not domain $d0's;"
  [ -n "$dp" ] || pwhy="$pwhy the previous log names no domain;"
  grep -q "DOMU-WATCHDOG armed" /tmp/obs-prev.out || pwhy="$pwhy the previous log lacks the guest's output;"
  grep -q "running as domain $d1\$" /tmp/obs-prev.out && pwhy="$pwhy the previous log has the new run;"
  grep -q "running as domain $dp\$" /tmp/obs-cur.out && pwhy="$pwhy the current log has the old run;"
  grep -q "running as domain $d1\$" /tmp/obs-cur.out || pwhy="$pwhy the current log is not domain $d1's;"
  domuctl logs -p -f wd > /dev/null 2>&1 && pwhy="$pwhy logs -p -f was accepted;"
  if [ -z "$pwhy" ]; then
    pass observe/previous-log "status: $(grep -c '^    | ' /tmp/obs-st.out) console lines before the watchdog; logs --previous: $(wc -l < /tmp/obs-prev.out) lines of domain $dp's run, the current log domain $d1's"
  else
    fail observe/previous-log "$pwhy status: $(tr '\n' '|' < /tmp/obs-st.out | head -c 800); previous: $(tail -n 5 /tmp/obs-prev.out | tr '\n' '|')"
  fi
else
  fail observe/previous-log "no watchdog restart to look at"
fi
if [ -z "$why" ]; then
  pass observe/watchdog "domain $d0 killed by Xen's watchdog $(dt "$t0" "$(up)")s after the guest stopped feeding it (armed 4 s, fed 6 s); restarted as $wd_d, last_exit watchdog, restarts $wd_n"
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
  # status's figures come from Xen's listing every 2 s; cpu_permille is the
  # rate over the last two. Below 500 while the guest spins, never: a listing
  # that says so ended after the spinning did, so its figure holds all of it
  quiet() { _q=$(jfield m cpu_permille); [ -n "$_q" ] && [ "$_q" -lt 500 ]; }
  until_s 30 quiet || why="$why m's cpu_permille not below 500 after its start: '$(jfield m cpu_permille)';"
  set -- $(m_stats); c0=${1:-}; mem=${2:-}
  domuctl exec -t 20 --shell m -- 'end=$(($(date +%s) + 8)); while [ $(date +%s) -lt $end ]; do :; done' > /dev/null 2>&1
  until_s 30 quiet || why="$why m's cpu_permille not below 500 after spinning: '$(jfield m cpu_permille)';"
  set -- $(m_stats); c1=${1:-}
  sleep 8   # the idle window measured (not a wait for something)
  set -- $(m_stats); c2=${1:-}
  pm=$(jfield m cpu_permille)
  if [ -z "$c0" ] || [ -z "$c1" ] || [ -z "$c2" ] || [ -z "$mem" ]; then
    why="$why no figures in status: $(domuctl -j status m 2>&1 | head -c 600);"
  else
    busy=$((c1 - c0)); idle=$((c2 - c1))
    # the memres channel's own figures (the exec above went through it)
    domuctl -j status m 2>/dev/null | grep -qE '"channel":\{"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"frames_in":[1-9]' ||
      why="$why no channel figures: $(domuctl -j status m 2>&1 | grep -o '"channel":{[^}]*}');"

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
story=$(grep -oE '(running -> destroying \(shutdown: watchdog; by xen\)|destroying -> backoff \((destroyed|died): watchdog; by policy\)|backoff -> starting \(backoff over; by policy\)|starting -> running \(created in [0-9]+ ms: [^;]*; by domud\))' /tmp/obs-events.out | sed 's/(created in [^;]*;/(created in N ms;/' |
  sed -n '/shutdown: watchdog/,$p' | head -n 4 | sed 's/(died: /(destroyed: /' | tr '\n' '|')
want='running -> destroying (shutdown: watchdog; by xen)|destroying -> backoff (destroyed: watchdog; by policy)|backoff -> starting (backoff over; by policy)|starting -> running (created in N ms; by domud)|'
if [ "$story" = "$want" ] && grep -q "backoff over; by policy" /tmp/obs-events.all &&
   grep -q "(autostart; by domud)" /tmp/obs-events.all; then
  pass observe/events "the follower saw $(grep -c ' -> ' /tmp/obs-events.out) events in order: $(echo "$story" | sed 's/|$//; s/|/ | /g')"
else
  fail observe/events "follower saw '$story'; wanted '$want'; its output: $(tr '\n' '|' < /tmp/obs-events.out | head -c 1500) $(head -c 200 /tmp/obs-events.err)"
fi
domuctl events -n 3 2>&1 | while IFS= read -r l; do info "  $l"; done

# ---- observe/ready-health, health-tcp, health-exec --------------------------------
health_of() { jfield "$1" health; }
health_is() { [ "$(health_of "$1")" = "$2" ]; }

domuctl stop wd > /dev/null 2>&1
AGENT_RD=$(agent_initrd)
RAMDISK=$AGENT_RD CMDX="e2e.www=web e2e.agent=1" svc_ini web web-up "autostart = no" \
  "memres = yes" "restart = no" "health = tcp:80" "health_interval = 2s" "health_timeout = 2s" \
  "health_retries = 2" "ready = health" "" "[net]" "network = lan"
svc_ini late late-up "autostart = no" "after = web"
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini hx hx-up "autostart = no" "memres = yes" \
  "health = exec: test ! -e /sick" "health_interval = 2s" "health_timeout = 5s" \
  "health_retries = 2" "health_restart = yes" "restart = on-failure" "restart_delay = 1s"
domuctl reload > /dev/null 2>&1
domuctl start hx > /dev/null 2>&1
domuctl -t 240 start --wait web > /tmp/obs-web.out 2> /tmp/obs-web.err & webwait=$!
sleep 1
domuctl start late > /dev/null 2>&1
why=""
wait "$webwait"; wrc=$?
st_web=$(jfield web state) st_late=$(jfield late state)
[ "$wrc" = 0 ] || why="$why start --wait web: rc $wrc $(head -c 300 /tmp/obs-web.err);"
grep -q "running -> ready (health: passed" /tmp/obs-web.out || why="$why start --wait did not show the probe: $(tr '\n' '|' < /tmp/obs-web.out);"
domuctl events > /tmp/obs-hev.out 2>&1
rline=$(grep -n " web .*running -> ready (health: passed" /tmp/obs-hev.out | tail -n 1 | cut -d: -f1)
sline=$(grep -n " late .*waiting -> starting" /tmp/obs-hev.out | tail -n 1 | cut -d: -f1)
if [ -z "$rline" ] || [ -z "$sline" ] || [ "$sline" -lt "$rline" ]; then
  why="$why late was not created after web's first healthy probe (ready at line ${rline:-none}, late starting at ${sline:-none}): $(grep -E ' (web|late) ' /tmp/obs-hev.out | tail -n 8 | tr '\n' '|');"
fi
[ "$(health_of web)" = healthy ] || why="$why web's health: $(health_of web);"
if [ -z "$why" ]; then
  pass observe/ready-health "start --wait web returned when the tcp probe passed (state $st_web); late went from waiting to starting only after that (event lines $rline < $sline)"
else
  fail observe/ready-health "$why"
fi
# the httpd goes away: the probe is refused, twice: unhealthy, left running
why=""
wait_up late 180 > /dev/null
domuctl exec -t 20 --shell web -- 'kill $(pidof httpd)' > /dev/null 2>&1
if until_s 40 health_is web unhealthy; then
  domuctl status web > /tmp/obs-hweb.out 2>&1
  grep -q "last probe *failed in [0-9]* ms: connect to port 80: Connection refused" /tmp/obs-hweb.out ||
    why="$why status does not say why: $(grep -i 'probe\|health' /tmp/obs-hweb.out | tr '\n' '|');"
  domuctl events web > /tmp/obs-hweb.ev 2>&1
  grep -q "healthy -> unhealthy (health: 2 failed: connect to port 80: Connection refused; by health)" /tmp/obs-hweb.ev ||
    why="$why no unhealthy event: $(tail -n 3 /tmp/obs-hweb.ev | tr '\n' '|');"
  sleep 3
  [ "$(jfield web state)" = ready ] && [ "$(jfield web restarts)" = 0 ] || why="$why web was not left running: $(jfield web state), restarts $(jfield web restarts);"
else
  why="$why web's health stayed $(health_of web): $(domuctl status web 2>&1 | grep -i 'probe\|health' | tr '\n' '|');"
fi
if [ -z "$why" ]; then
  pass observe/health-tcp "httpd killed: $(grep 'last probe' /tmp/obs-hweb.out | tr -s ' ' | sed 's/^ //'); still $(jfield web state)"
else
  fail observe/health-tcp "$why"
fi
# a memres probe that starts failing: health_restart, a failure, healthy again
why=""
hx_back() {
  [ "$(jfield hx restarts)" = 1 ] && [ "$(jfield hx state)" = ready ] && [ "$(health_of hx)" = healthy ]
}
if ! wait_state hx ready 180 || ! until_s 30 health_is hx healthy; then
  why="hx not healthy: $(jfield hx state) $(health_of hx);"
else
  h0=$(jfield hx domid)
  domuctl exec hx -- touch /sick > /dev/null 2>&1
  if until_s 240 hx_back; then
    [ "$(jfield hx last_exit)" = unhealthy ] || why="$why last_exit $(jfield hx last_exit);"
    [ "$(jfield hx domid)" != "$h0" ] || why="$why the same domain;"
    domuctl events hx > /tmp/obs-hx.ev 2>&1
    for want in "healthy -> unhealthy (health: 2 failed: exit 1; by health)" \
        "running -> stopping (unhealthy; by health)" "-> backoff (" "unhealthy: health: 2 failed: exit 1; by policy)" \
        "running -> healthy (health: passed; by health)"; do
      grep -qF -- "$want" /tmp/obs-hx.ev || why="$why no '$want' in the events;"
    done
  else
    why="$why hx did not come back healthy: $(jfield hx state), restarts $(jfield hx restarts), health $(health_of hx), last_exit $(jfield hx last_exit);"
  fi
fi
if [ -z "$why" ]; then
  pass observe/health-exec "/sick made the probe fail: unhealthy, stopped by health_restart (domain $h0), restarted by the policy as $(jfield hx domid), healthy again"
else
  fail observe/health-exec "$why $(tail -n 8 /tmp/obs-hx.ev 2>/dev/null | tr '\n' '|')"
fi

# ---- bench idle_cpu: 4 DomUs, metrics every 2 s, two probes -----------------------
domuctl start m > /dev/null 2>&1
n_up=0
is_up() { case "$(jfield "$1" state)" in running|ready) return 0 ;; esac; return 1; }
for s in web late hx m; do until_s 60 is_up "$s" && n_up=$((n_up + 1)); done
sleep 4
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
xc=$(pidof xenconsoled | cut -d' ' -f1)
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
a0=$(cpu_ticks "$DOMUD_PID"); x0=$(cpu_ticks "$xc"); t0=$(up)
sleep 20
a1=$(cpu_ticks "$DOMUD_PID"); x1=$(cpu_ticks "$xc"); t1=$(up)
if [ -n "$a0" ] && [ -n "$a1" ] && [ -n "$x0" ] && [ -n "$x1" ]; then
  d_ms=$(( (a1 - a0) * 1000 / hz )); x_ms=$(( (x1 - x0) * 1000 / hz ))
  bench idle_cpu "domud_ms=$d_ms xenconsoled_ms=$x_ms seconds=$(dt "$t0" "$t1") services_up=$n_up metrics_interval=2s probes=2 domud_permille=$(awk -v a="$d_ms" -v t="$(dt "$t0" "$t1")" 'BEGIN{printf "%.1f", a/t}')"
fi
domud_down 90
true
