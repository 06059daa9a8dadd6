# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 900
# Faults on real Xen (issue 13). fault/outside-xl: someone else runs xl on
# domud's domains: `xl destroy` is a death (policy, "destroyed outside
# domud"), `xl pause` is reported and cleared on `xl unpause`, an `xl create`
# with a service's name is a conflict (start refused, neither adopted nor
# destroyed, across a domud restart too). fault/console-tty: a console tty
# in xenstore that is not a pty under /dev/pts is refused.
. /e2e/scenarios/lib/domud.sh

MEM=96  # svc_ini's
: > "$DOMUD_LOG"

# the whole status reply of NAME, when it is one (see jfield)
jstatus() {
  for _j in 1 2 3 4; do
    _r=$(domuctl -j status "$1" 2>/dev/null)
    case "$_r" in *'"ok":true'*'}') echo "$_r"; return 0 ;; esac
    sleep 0.2
  done
  return 1
}
# NAME's status has the text / a whole reply without it
jhas() { jstatus "$1" | grep -qF "$2"; }
jlacks() { _r=$(jstatus "$1") && ! echo "$_r" | grep -qF "$2"; }
logcount() { grep -cF "$1" "$DOMUD_LOG"; }
ok_all=1

conf_init
svc_ini o o-up "autostart = yes" "restart = on-failure" "restart_delay = 5s" "stop_timeout = 20s"
domud_up || { fail fault/outside-xl "domud did not start"; exit 0; }
if ! wait_up o 180 || ! wait_for 90 console_has o "DOMU-MARKER o-up"; then
  fail fault/outside-xl "o did not come up: $(jfield o state)"
  show_log 30
  exit 0
fi

# ---- xl destroy: a death, the restart policy, the reason ---------------------
d1=$(jfield o domid)
t0=$(up)
xl destroy o
seen=""
i=0
while [ $i -lt 120 ]; do
  r=$(jstatus o)
  case "$r" in *'"last_exit":"destroyed outside domud"'*) seen=$r; break ;; esac
  sleep 0.25; i=$((i + 1))
done
t1=$(up)
if [ -n "$seen" ] && wait_up o 180; then
  d2=$(jfield o domid)
  if echo "$seen" | grep -q '"state":"backoff"' &&
     echo "$seen" | grep -qF "\"last_error\":\"domain $d1 was destroyed outside domud\"" &&
     [ -n "$d2" ] && [ "$d2" != "$d1" ] &&
     [ "$(jfield o last_exit)" = "destroyed outside domud" ] &&
     [ "$(jfield o restarts)" -ge 1 ] &&
     runs_have o "domain $d1 was destroyed outside domud" &&
     grep -q "o: domain $d1 was destroyed outside domud" "$DOMUD_LOG"; then
    pass fault/outside-xl-destroy "domain $d1 -> $d2, seen in $(dt "$t0" "$t1")s: $(echo "$seen" | grep -o '"state":"[a-z]*"'), last_exit 'destroyed outside domud', console note, policy on-failure restarted it"
    bench outside_xl "destroy_seen_s=$(dt "$t0" "$t1")"
  else
    fail fault/outside-xl-destroy "d1=$d1 d2=$d2 at detection: $seen; now: $(jstatus o)"
    ok_all=0
  fi
else
  fail fault/outside-xl-destroy "not seen as destroyed outside, or no restart: $(jstatus o)"
  show_log 30
  ok_all=0
fi
# xl destroy pauses the domain while it takes its devices away: no report
if [ "$(logcount "domud did not pause it")" != 0 ]; then
  info "a pause was reported during xl destroy: $(grep -F "domud did not pause it" "$DOMUD_LOG" | head -n 1)"
fi

# ---- xl pause / xl unpause: reported once, left alone, cleared --------------
# the second run's marker
wait_for 90 sh -c "[ \$(cat /var/log/domud/o.log.prev /var/log/domud/o.log 2>/dev/null | grep -c 'DOMU-MARKER o-up') -ge 2 ]"
d2=$(jfield o domid)
before=$(logcount "domud did not pause it")
t0=$(up)
xl pause o
if wait_for 20 jhas o '"paused":true'; then
  t1=$(up)
  sleep 5       # several more looks: still one report
  st=$(jstatus o)
  n=$(( $(logcount "domud did not pause it") - before ))
  xl unpause o
  t2=$(up)
  if wait_for 10 jlacks o '"paused"'; then
    t3=$(up)
    printf 'RUN echo UNPAUSED-%s\n' "$d2" > "$(console_tty "$d2")"
    if echo "$st" | grep -q '"state":"running"' && echo "$st" | grep -q '"xen_state":"paused"' &&
       echo "$st" | grep -q "\"domid\":$d2," && [ "$n" = 1 ] &&
       grep -q "o: domain $d2 runs again (unpaused)" "$DOMUD_LOG" &&
       [ "$(jfield o xen_state)" = running ] && [ "$(jfield o domid)" = "$d2" ] &&
       wait_for 20 console_has o "UNPAUSED-$d2"; then
      pass fault/outside-xl-pause "paused seen in $(dt "$t0" "$t1")s (one warning, domain $d2 left paused and running), cleared $(dt "$t2" "$t3")s after xl unpause, the guest answers"
      bench outside_xl "pause_seen_s=$(dt "$t0" "$t1") unpause_seen_s=$(dt "$t2" "$t3")"
    else
      fail fault/outside-xl-pause "warnings=$n while paused: $st; now: $(jstatus o)"
      ok_all=0
    fi
  else
    fail fault/outside-xl-pause "not cleared after xl unpause: $(jstatus o)"
    ok_all=0
  fi
else
  fail fault/outside-xl-pause "not reported: $(jstatus o); xl: $(xl list o 2>&1 | tail -n 1)"
  xl unpause o 2>/dev/null
  ok_all=0
fi

# ---- fault/console-tty: a console tty that is not a pty is refused ----------
d=$(jfield o domid)
tty=$(console_tty "$d")
xenstore-write "/local/domain/$d/console/tty" /etc/passwd
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
if domud_up && wait_state o running 30 && [ "$(jfield o domid)" = "$d" ] &&
   wait_for 10 grep -q "console tty /etc/passwd from xenstore resolves to /etc/passwd, not a pty under /dev/pts/: refused" "$DOMUD_LOG" &&
   ! readlink /proc/"$DOMUD_PID"/fd/* 2>/dev/null | grep -q /etc/passwd; then
  pass fault/console-tty "adopted domain $d runs, its tty /etc/passwd refused: $(grep -o "o: no console: .*" "$DOMUD_LOG" | tail -n 1)"
else
  fail fault/console-tty "o=$(jfield o state)/$(jfield o domid) (was $d); log: $(grep -F "console" "$DOMUD_LOG" | tail -n 3 | tr '\n' '|')"
fi
# the real one back, and a domud that captures it again
xenstore-write "/local/domain/$d/console/tty" "$tty"
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
domud_up && wait_state o running 30

# ---- fault/adopt-paused: adoption unpauses only what never ran ----------------
# A domain paused by xl while no domud watched stays paused and is reported;
# one domud left paused between build and unpause (vCPUs never ran) is
# unpaused. The second is made here as domud would have left it: xl create
# -p with the service's name and UUID, plus domud's tag.
d=$(jfield o domid)
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
xl pause o
domud_up
if wait_state o running 30 && [ "$(jfield o domid)" = "$d" ] &&
   wait_for 15 jhas o '"paused":true' &&
   grep -q "o: adopted domain $d is paused, and not by domud: left paused" "$DOMUD_LOG" &&
   xl list o | awk 'NR == 2 {exit !($5 ~ /p/)}'; then
  a_ok=1
else
  a_ok=0; a_why="xl-paused domain $d: $(jstatus o); xl: $(xl list o | tail -n 1)"
fi
xl unpause o
uuid=$(xl list -v o | awk 'NR == 2 {print $7}')
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
xl destroy o
{ guest_xl_cfg o o-half; echo "uuid = \"$uuid\""; } > /tmp/half-o.cfg
b_ok=0
if xl create -p /tmp/half-o.cfg > /tmp/xl-half.log 2>&1; then
  hd=$(xl domid o)
  printf '{"v":1,"service":"o"}\n' > "/var/lib/xen/userdata-d.$hd.$uuid.domud"
  t_before=$(xl list o | awk 'NR == 2 {print $6}')
  domud_up
  if wait_state o running 30 && [ "$(jfield o domid)" = "$hd" ] &&
     grep -q "o: adopted running domain $hd" "$DOMUD_LOG" &&
     ! grep -q "adopted domain $hd is paused" "$DOMUD_LOG" &&
     wait_for 10 sh -c "xl list o | awk 'NR == 2 {exit (\$5 ~ /p/)}'" &&
     wait_for 90 console_has o "DOMU-MARKER o-half"; then
    b_ok=1
  else
    b_why="never-ran domain $hd (cpu time $t_before): $(jstatus o); xl: $(xl list o | tail -n 1)"
  fi
else
  b_why="xl create -p: $(tr '\n' ' ' < /tmp/xl-half.log)"
  domud_up
fi
if [ $a_ok = 1 ] && [ $b_ok = 1 ]; then
  pass fault/adopt-paused "xl-paused domain $d adopted, left paused and reported; a never-run paused domain $hd (cpu time ${t_before}s) adopted and unpaused"
else
  fail fault/adopt-paused "${a_why:-} ${b_why:-}"
  show_log 20
fi

# ---- xl create with the service's name: a conflict ---------------------------
domuctl stop o > /dev/null 2>&1
wait_state o stopped 60
guest_xl_cfg o other-up > /tmp/other-o.cfg
if ! xl create /tmp/other-o.cfg > /tmp/xl-other.log 2>&1; then
  fail fault/outside-xl-create "xl create: $(tr '\n' ' ' < /tmp/xl-other.log)"
  ok_all=0
else
  xd=$(xl domid o 2>/dev/null)
  t0=$(up)
  wait_for 10 jhas o "\"conflict_domid\":$xd"; t1=$(up)
  st1=$(jstatus o)
  domuctl start o > /tmp/start.out 2>&1; rc=$?
  st2=$(jstatus o)
  # across a domud restart: adoption reports it at once, leaves it alone
  kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
  domud_up
  st3=$(jstatus o)
  xd2=$(xl domid o 2>/dev/null)
  if echo "$st1" | grep -qF "\"conflict\":\"domain $xd has this name but is not domud's (another UUID)\"" &&
     [ $rc = 1 ] && grep -qF "start refused: domain $xd has this name but is not domud's" /tmp/start.out &&
     echo "$st2" | grep -q '"state":"stopped"' && echo "$st2" | grep -q '"last_exit":"refused"' &&
     ! echo "$st2" | grep -q '"domid"' &&
     echo "$st3" | grep -q "\"conflict_domid\":$xd" && echo "$st3" | grep -q '"state":"stopped"' &&
     [ "$xd2" = "$xd" ] &&
     ! grep -Eq "domain $xd was half made|adopted running domain $xd" "$DOMUD_LOG"; then
    xl destroy o
    t2=$(up)
    if wait_for 10 jlacks o '"conflict"' && grep -q "o: conflict over: domain $xd" "$DOMUD_LOG" &&
       domuctl start o > /dev/null 2>&1 && wait_up o 180; then
      pass fault/outside-xl-create "xl's domain $xd seen as a conflict in $(dt "$t0" "$t1")s; start refused ($(head -n 1 /tmp/start.out)); kept across a domud restart; gone $(dt "$t2" "$(up)")s after xl destroy, then o starts as domain $(jfield o domid)"
      bench outside_xl "conflict_seen_s=$(dt "$t0" "$t1")"
    else
      fail fault/outside-xl-create "after xl destroy: $(jstatus o)"
      ok_all=0
    fi
  else
    fail fault/outside-xl-create "xd=$xd/$xd2 rc=$rc out='$(tr '\n' ' ' < /tmp/start.out)' st1=$st1 st2=$st2 st3=$st3"
    show_log 20
    xl destroy o 2>/dev/null
    ok_all=0
  fi
fi

if [ $ok_all = 1 ]; then
  pass fault/outside-xl "xl destroy, xl pause/unpause and xl create under domud, each seen in status"
else
  fail fault/outside-xl "see the fault/outside-xl-* lines"
fi
domud_down 120
true
