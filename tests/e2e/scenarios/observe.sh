# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# Health and observability on real Xen.
# observe/watchdog: a guest arms Xen's domain watchdog (xen_wdt) and stops
# feeding it; Xen kills the domain with reason watchdog, domud counts a
# failure under restart = on-failure, says "watchdog" in status and its log,
# and starts the service again.
# observe/events: a `domuctl events -f` started before sees that story in
# order, each change with its reason and actor, and `domuctl events wd`
# afterwards shows the same.
. /e2e/scenarios/lib/domud.sh

conf_init
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
# ---- observe/events ------------------------------------------------------------------
sleep 1
kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null
domuctl events wd > /tmp/obs-events.all 2>&1
# the story after the start: Xen's watchdog, the policy, the new domain
story=$(grep -oE '(running -> destroying \(shutdown: watchdog; by xen\)|destroying -> backoff \(destroyed: watchdog; by policy\)|backoff -> starting \(backoff over; by policy\)|starting -> running \(created; by domud\))' /tmp/obs-events.out |
  sed -n '/shutdown: watchdog/,$p' | tr '\n' '|')
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
