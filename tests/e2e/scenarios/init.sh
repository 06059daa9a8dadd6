# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# init/sysvinit: the init script domud ships (rootfs-overlay/etc/init.d/domud)
# drives domud in dom0 as sysvinit or BusyBox init would: status before start,
# start (domud forks; the script waits for it), start again (a no-op), status,
# reload (a new service appears), stop with a DomU running (the script returns
# once domud has stopped it and exited), status after.
. /e2e/scenarios/lib/domud.sh

conf_init
svc_ini a a-up "autostart = yes" "stop_timeout = 30s"
INIT=/etc/init.d/domud
if [ ! -x /usr/sbin/domud.init ]; then
  fail init/sysvinit "no init script in /usr/sbin/domud.init (E2E_BIN)"
  exit 0
fi
mkdir -p /etc/init.d /etc/default
cp /usr/sbin/domud.init "$INIT"
printf 'DOMUD_OPTS="-v -f %s/domud.conf"\n' "$DOMUD_CONF_DIR" > /etc/default/domud
why=""
run_init() { # VERB: its output in /tmp/init.out, its status in $irc
  "$INIT" "$1" > /tmp/init.out 2>&1; irc=$?
  info "$INIT $1: rc $irc: $(tr '\n' ' ' < /tmp/init.out)"
}

run_init status
[ "$irc" = 3 ] || why="$why status before start: rc $irc, not 3;"
run_init start
[ "$irc" = 0 ] || why="$why start: rc $irc;"
pid=$(cat /run/domud/domud.pid 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  why="$why no domud after start;"
else
  wait_up a 120 || why="$why a did not come up: $(jfield a state);"
  run_init start
  { [ "$irc" = 0 ] && grep -q "already running (pid $pid)" /tmp/init.out; } || why="$why second start: rc $irc;"
  run_init status
  { [ "$irc" = 0 ] && grep -q "running (pid $pid)" /tmp/init.out; } || why="$why status while running: rc $irc;"
  svc_ini b b-up "autostart = no"
  run_init reload
  [ "$irc" = 0 ] || why="$why reload: rc $irc;"
  domuctl list 2>/dev/null | grep -q '^b ' || why="$why b not listed after the reload;"
  da=$(jfield a domid)
  t0=$(up)
  run_init stop
  [ "$irc" = 0 ] || why="$why stop: rc $irc;"
  stop_s=$(dt "$t0" "$(up)")
  kill -0 "$pid" 2>/dev/null && why="$why domud still there after stop returned;"
  [ -n "$da" ] && xl list "$da" > /dev/null 2>&1 && why="$why a's domain $da still there after stop returned;"
  run_init status
  [ "$irc" = 3 ] || why="$why status after stop: rc $irc, not 3;"
fi
rm -f "$INIT" /etc/default/domud
if [ -z "$why" ]; then
  pass init/sysvinit "status 3 / start (pid $pid) / start again / status 0 / reload (b listed) / stop with a running in ${stop_s}s (a's domain $da gone) / status 3"
else
  fail init/sysvinit "$why"
fi
