# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# e2e-init: systemd
# init/systemd: domud under systemd as dom0's init (Debian bookworm's systemd 252),
# with the unit domud ships (rootfs-overlay/lib/systemd/system/domud.service, its
# @SBINDIR@/@SYSCONFDIR@ as `make install` puts them: run.sh). dom0's /init runs the
# other suites, then execs systemd, whose e2e.service runs this one (run.sh
# build_systemd; dom0-init.sh). Each check is one line:
#   init/systemd-notify     `systemctl start domud` (Type=notify) returns once domud
#                           is ready: active, domuctl ping answers and the autostart
#                           service is there at once, STATUS= seen by systemd
#   init/systemd-reload     a service file added, `systemctl reload domud`: domud
#                           lists it, systemd back to active/running
#   init/systemd-hardening  under the unit's sandbox: the guest I/O process
#                           (domud --guest-io) runs in the unit's cgroup as nobody, a
#                           plain DomU runs, `domuctl exec` in a memres DomU answers
#   init/systemd-watchdog   domud's main loop stopped (SIGSTOP): the unit's watchdog
#                           fires, systemd restarts domud (Restart=on-failure), the
#                           new domud adopts the DomUs (same domids, no new boot),
#                           with a new guest I/O process that `domuctl exec` in the
#                           memres DomU goes through
# The test's own drop-in sets WatchdogSec=20s (the unit's is 60 s) so that the
# watchdog check takes seconds, not minutes; that is the only change to the unit.
# Not less: domud pings at half the interval, and a main-loop round of more than
# that half (a domain build: 2.4 s seen on an idle amd64, 7 s on arm64 under load)
# would make the watchdog fire before the test stops anything.
. /e2e/scenarios/lib/domud.sh

UNIT=/lib/systemd/system/domud.service
WD_S=20
if [ ! -f "$UNIT" ]; then
  for c in notify reload hardening watchdog; do fail "init/systemd-$c" "no $UNIT in dom0 (run.sh build_overlay)"; done
  exit 0
fi
if [ "$(cat /proc/1/comm)" != systemd ]; then
  for c in notify reload hardening watchdog; do fail "init/systemd-$c" "PID 1 is $(cat /proc/1/comm), not systemd"; done
  exit 0
fi
show() { systemctl show -p "$1" --value domud 2>/dev/null; }
unit_is() { [ "$(systemctl show -p ActiveState,SubState --value domud 2>/dev/null | tr '\n' '/')" = "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
say_unit() { # the unit's state and the end of its output, as info lines
  info "  systemctl status: $(systemctl show -p ActiveState,SubState,Result,MainPID,NRestarts,StatusText domud 2>&1 | tr '\n' ' ')"
}

conf_init
svc_ini a a-up "autostart = yes" "stop_timeout = 30s"
MEMRES=""
if AGENT_RD=$(agent_initrd /tmp/initrd-agent-sd.img); then
  MEMRES=m
  RAMDISK=$AGENT_RD CMDX="e2e.agent=1" MEM=96 svc_ini m m-up \
    "autostart = yes" "restart = no" "memres = yes" "agent_stop_timeout = 20s"
fi
mkdir -p /etc/default /run/systemd/system/domud.service.d
printf 'DOMUD_OPTS="-f %s/domud.conf"\n' "$DOMUD_CONF_DIR" > /etc/default/domud
printf '# the e2e test'"'"'s: a watchdog that fires in seconds (the unit says 60s)\n[Service]\nWatchdogSec=%ss\n' \
  "$WD_S" > /run/systemd/system/domud.service.d/e2e-watchdog.conf
systemctl daemon-reload
info "unit: $(systemctl show -p Type,NotifyAccess,Restart,FragmentPath,DropInPaths domud | tr '\n' ' ')"

# what a process sees under the unit's sandbox (its [Service] lines, another
# ExecStart): said when domud does not start
probe() {
  sed -e 's|^Type=.*|Type=oneshot|' -e '/^ExecReload=/d' -e '/^Restart/d' -e '/^Watchdog/d' \
      -e 's|^ExecStart=.*|ExecStart=/bin/sh -c "exec > /tmp/sd-probe.out 2>\&1; ls -l /proc/xen /dev/xen; cat /proc/xen/capabilities; grep xen /proc/self/mountinfo; cat /proc/self/cgroup; for d in /dev/xen/privcmd /dev/xen/evtchn; do : < $$d \&\& echo open $$d ok; done"|' \
      "$UNIT" > /run/systemd/system/domud-probe.service
  systemctl daemon-reload
  timeout -s KILL 60 systemctl start domud-probe > /dev/null 2>&1
  while IFS= read -r l; do info "  probe: $l"; done < /tmp/sd-probe.out
}

# ---- notify ----------------------------------------------------------------------
why=""
t0=$(up)
# (a domud that fails to start is restarted, and systemctl waits for good)
timeout -s KILL 60 systemctl start domud > /tmp/sd-start.out 2>&1; rc=$?
t1=$(up)
# at once, no waiting: Type=notify means ready when start returns
st=$(systemctl is-active domud 2>&1)
domuctl -t 5 ping > /tmp/sd-ping.out 2>&1; prc=$?
domuctl -t 5 status a > /tmp/sd-a.out 2>&1; arc=$?
[ "$rc" = 0 ] || why="$why systemctl start: rc $rc $(tr '\n' ' ' < /tmp/sd-start.out);"
[ "$st" = active ] || why="$why is-active right after start: $st;"
[ "$prc" = 0 ] || why="$why domuctl ping right after start: rc $prc $(tr '\n' ' ' < /tmp/sd-ping.out);"
[ "$arc" = 0 ] || why="$why a unknown right after start: $(tr '\n' ' ' < /tmp/sd-a.out);"
stext=$(show StatusText)
[ -n "$stext" ] || why="$why no STATUS= seen by systemd;"
[ "$(show NRestarts)" = 0 ] || why="$why NRestarts $(show NRestarts) after the first start;"
pid0=$(show MainPID)
wait_up a 120 || why="$why a not running: $(jfield a state);"
if [ -z "$why" ]; then
  pass init/systemd-notify "systemctl start returned in $(dt "$t0" "$t1")s with domud ready: is-active $st, ping answered, a $(jfield a state) (domid $(jfield a domid)), MainPID $pid0, StatusText '$stext'"
else
  fail init/systemd-notify "$why"; say_unit; probe
  systemctl stop domud > /dev/null 2>&1
  for c in reload hardening watchdog; do fail "init/systemd-$c" "domud did not start"; done
  exit 0
fi

# ---- reload ----------------------------------------------------------------------
why=""
svc_ini b b-up "autostart = no"
domuctl -t 5 status b > /dev/null 2>&1 && why="$why b known before the reload;"
systemctl reload domud > /tmp/sd-reload.out 2>&1; rc=$?
[ "$rc" = 0 ] || why="$why systemctl reload: rc $rc $(tr '\n' ' ' < /tmp/sd-reload.out);"
# RELOADING=1 puts the unit in active/reload until READY=1
wait_for 30 unit_is active/running/ ||
  why="$why not back to active/running: $(systemctl show -p ActiveState,SubState --value domud | tr '\n' ' ');"
wait_for 10 domuctl -t 5 status b > /tmp/sd-b.out 2>&1 || why="$why b unknown after the reload: $(tr '\n' ' ' < /tmp/sd-b.out);"
[ "$(show MainPID)" = "$pid0" ] || why="$why MainPID $(show MainPID), was $pid0;"
if [ -z "$why" ]; then
  pass init/systemd-reload "b added, systemctl reload: domud lists b ($(jfield b state)), unit $(systemctl show -p ActiveState,SubState --value domud | tr '\n' '/' | sed 's|/$||'), same MainPID $pid0"
else
  fail init/systemd-reload "$why"; say_unit
fi

# ---- hardening -------------------------------------------------------------------
# (the guest I/O process comes with the first memres console: m's)
why=""
mx=""
if [ -n "$MEMRES" ]; then
  # (ready: its agent said hello)
  if ! wait_state m ready 180; then
    why="$why memres m not ready: $(jfield m state);"
  else
    domuctl exec -t 60 m -- echo "sd-exec-ok" > /tmp/sd-x.out 2> /tmp/sd-x.err; xrc=$?
    if [ "$xrc" = 0 ] && grep -qx sd-exec-ok /tmp/sd-x.out; then
      mx=", domuctl exec in memres m answered"
    else
      why="$why exec in m: rc $xrc out '$(head -c 200 /tmp/sd-x.out)' err '$(head -c 200 /tmp/sd-x.err)';"
    fi
  fi
else
  why="$why no agent initrd for the memres guest;"
fi
gio_pid() { sed -n 's/^guest I\/O: process \([0-9]*\),.*/\1/p' /tmp/sd-ping.out; }
gio_up() { domuctl -t 5 ping > /tmp/sd-ping.out 2>&1 && [ -n "$(gio_pid)" ]; }
wait_for 30 gio_up
gpid=$(gio_pid)
if [ -z "$gpid" ]; then
  why="$why no guest I/O process in ping: $(tr '\n' '|' < /tmp/sd-ping.out);"
else
  kill -0 "$gpid" 2>/dev/null || why="$why guest I/O process $gpid not running;"
  gcg=$(cut -d: -f3 "/proc/$gpid/cgroup" 2>/dev/null | head -n 1)
  case "$gcg" in */domud.service) ;; *) why="$why guest I/O process $gpid in cgroup '$gcg';" ;; esac
  guid=$(awk '/^Uid:/ {print $2}' "/proc/$gpid/status" 2>/dev/null)
  [ "$guid" = 65534 ] || why="$why guest I/O process uid '$guid';"
  gnnp=$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$gpid/status" 2>/dev/null)
  gsec=$(awk '/^Seccomp:/ {print $2}' "/proc/$gpid/status" 2>/dev/null)
  gpar=$(awk '{print $4}' "/proc/$gpid/stat" 2>/dev/null)
  [ "$gpar" = "$(show MainPID)" ] || why="$why guest I/O process's parent $gpar;"
fi
da=$(jfield a domid)
{ [ -n "$da" ] && xl list "$da" > /dev/null 2>&1; } || why="$why a's domain '$da' not there;"
console_has a "DOMU-MARKER a-up" || why="$why a's console has no marker;"
if [ -z "$why" ]; then
  pass init/systemd-hardening "guest I/O process $gpid (child of domud, cgroup $gcg, uid $guid, NoNewPrivs $gnnp, Seccomp $gsec), DomU a runs (domid $da)$mx"
else
  fail init/systemd-hardening "$why"; say_unit
fi

# ---- watchdog --------------------------------------------------------------------
why=""
pid0=$(show MainPID)
n0=$(show NRestarts)
da=$(jfield a domid)
ra=$(jfield a restarts)
boots=$(runs_count a "DOMU-MARKER a-up")
dm=$(jfield m domid)
domuctl -t 5 ping > /tmp/sd-ping.out 2>&1
# (a round longer than the watchdog's interval would have restarted domud before)
info "before SIGSTOP: $(grep '^main loop:' /tmp/sd-ping.out)"
gpid0=$(gio_pid)
t0=$(up)
kill -STOP "$pid0"
# systemd: watchdog timeout, SIGABRT, restart after RestartSec=2s; a new MainPID
new_pid() { p=$(show MainPID); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$pid0" ]; }
if ! wait_for 60 new_pid; then
  why="$why no new MainPID 60 s after SIGSTOP (MainPID $(show MainPID));"
  kill -CONT "$pid0" 2>/dev/null
fi
t1=$(up)
pid1=$(show MainPID)
wait_for 60 unit_is active/running/ || why="$why not active again: $(systemctl is-active domud);"
wait_for 30 domuctl -t 5 ping > /tmp/sd-ping.out 2>&1 || why="$why the new domud does not answer;"
t2=$(up)
n1=$(show NRestarts)
[ "$n1" -gt "$n0" ] 2>/dev/null || why="$why NRestarts $n0 -> $n1;"
kill -0 "$pid0" 2>/dev/null && why="$why the stopped domud $pid0 is still there;"
wait_up a 60 || why="$why a not running after the restart: $(jfield a state);"
da1=$(jfield a domid); ra1=$(jfield a restarts)
[ "$da1" = "$da" ] || why="$why a's domid $da -> $da1;"
[ "$ra1" = "$ra" ] || why="$why a's restarts $ra -> $ra1;"
boots1=$(runs_count a "DOMU-MARKER a-up")
[ "$boots1" = "$boots" ] || why="$why a booted again (markers $boots -> $boots1);"
wait_for 30 gio_up
gpid1=$(gio_pid)
[ -n "$gpid1" ] || why="$why no guest I/O process under the new domud: $(tr '\n' '|' < /tmp/sd-ping.out);"
# the memres DomU adopted too: the same domain, its agent answers through the new
# guest I/O process
mx=""
if [ -n "$MEMRES" ]; then
  if ! wait_state m ready 120; then
    why="$why m not ready after the restart: $(jfield m state);"
  else
    [ "$(jfield m domid)" = "$dm" ] || why="$why m's domid $dm -> $(jfield m domid);"
    domuctl exec -t 60 m -- echo "sd-exec-again" > /tmp/sd-x.out 2> /tmp/sd-x.err; xrc=$?
    if [ "$xrc" = 0 ] && grep -qx sd-exec-again /tmp/sd-x.out; then
      mx="; memres m adopted (domid $dm), exec answered"
    else
      why="$why exec in m after the restart: rc $xrc out '$(head -c 200 /tmp/sd-x.out)' err '$(head -c 200 /tmp/sd-x.err)';"
    fi
  fi
fi
# the old guest I/O process (KillMode=process leaves it) ends with its parent
if [ -n "$gpid0" ] && [ "$gpid0" != "$gpid1" ]; then
  wait_for 20 gone "$gpid0" || why="$why the old guest I/O process $gpid0 outlived its domud;"
fi
if [ -z "$why" ]; then
  pass init/systemd-watchdog "SIGSTOP of $pid0 (WatchdogSec=${WD_S}s, the test's drop-in): new MainPID $pid1 after $(dt "$t0" "$t1")s, answering after $(dt "$t0" "$t2")s, NRestarts $n0 -> $n1; a adopted: domid $da, restarts $ra, no new boot; guest I/O process $gpid0 -> $gpid1$mx"
else
  fail init/systemd-watchdog "$why"; say_unit
fi

# ---- the end: domud stops its DomUs and exits --------------------------------------
t0=$(up)
systemctl stop domud > /tmp/sd-stop.out 2>&1 || info "systemctl stop domud: $(tr '\n' ' ' < /tmp/sd-stop.out)"
info "systemctl stop domud: $(dt "$t0" "$(up)")s, then $(systemctl is-active domud); domains left: $(domids | tr '\n' ' ')"
rm -rf /run/systemd/system/domud.service.d /etc/default/domud
systemctl daemon-reload
