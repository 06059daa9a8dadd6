# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 1200
# Supervision on real Xen: ordering, restart policies, backoff and budget,
# in-guest reboot, adoption after kill -9, reload, stop order and
# keep_running, authorisation of other users on the real sockets.
. /e2e/scenarios/lib/domud.sh

MEM=96
# first line number of a pattern in domud's log (retried: see jfield)
logline() {
  for _l in 1 2 3; do
    _n=$(grep -n "$1" "$DOMUD_LOG" | head -n 1 | cut -d: -f1)
    [ -n "$_n" ] && break
  done
  echo "$_n"
}
# the domids a service ran as, in order, from domud's log
runs() { sed -n "s/.* $1: running as domain \([0-9]*\).*/\1/p" "$DOMUD_LOG" | tr '\n' ' '; }
all_domids() { for n in "$@"; do printf '%s=%s ' "$n" "$(jfield "$n" domid)"; done; }
: > "$DOMUD_LOG"

# users for supervise/authz: the domud groups are only supplementary ones;
# the initramfs root may be 0700 (it was built in a private temp dir)
chmod 755 / /bin /sbin /usr /usr/bin /usr/sbin /lib /etc /run /run/domud /tmp 2>/dev/null
chmod 1777 /tmp
grep -q '^domud:' /etc/group || {
  echo 'domud:x:2001:reader' >> /etc/group
  echo 'domud-admin:x:2002:admin' >> /etc/group
  echo 'reader:x:3001:' >> /etc/group
  echo 'admin:x:3002:' >> /etc/group
  echo 'reader:x:3001:3001::/tmp:/bin/sh' >> /etc/passwd
  echo 'admin:x:3002:3002::/tmp:/bin/sh' >> /etc/passwd
}

conf_init
svc_ini a a-up "autostart = yes" "restart = on-failure"
svc_ini b b-up "autostart = yes" "after = a" "restart = on-failure"
svc_ini c c-up "autostart = yes" "restart = on-failure"
domud_up || { fail supervise/order "domud did not start"; exit 0; }

# ---- supervise/order: b after a is running; c alongside a -------------------
if wait_state a running 120 && wait_state b running 120 && wait_state c running 120; then
  a_run=$(logline " a: running as domain"); b_create=$(logline " b: creating")
  c_create=$(logline " c: creating"); b_wait=$(logline " b: waiting for a")
  if [ -n "$a_run" ] && [ -n "$b_create" ] && [ -n "$c_create" ] && [ -n "$b_wait" ] &&
     [ "$b_create" -gt "$a_run" ] && [ "$c_create" -lt "$a_run" ]; then
    pass supervise/order "log lines: c creating #$c_create < a running #$a_run < b creating #$b_create"
  else
    fail supervise/order "a_run=$a_run b_create=$b_create c_create=$c_create b_wait=$b_wait"
    show_log 20
  fi
else
  fail supervise/order "a=$(jfield a state) b=$(jfield b state) c=$(jfield c state)"
  show_log 20
fi
base_ids=$(all_domids a b c)

# ---- supervise/poweroff-policy ------------------------------------------------
CMDX="e2e.after=poweroff:2" svc_ini onf onf-up "restart = on-failure"
CMDX="e2e.after=poweroff:2" svc_ini alw alw-up "restart = always" "restart_delay = 1s"
kill -HUP "$DOMUD_PID"
wait_for 20 sh -c "domuctl -j status onf > /dev/null 2>&1"
# one build at a time: under emulation, concurrent domain builds are when
# dom0 memory gets corrupted (tests/e2e/README.md); c and a already showed
# parallel creates
domuctl start onf > /dev/null 2>&1
wait_state onf running 120
domuctl start alw > /dev/null 2>&1
if wait_state onf running 20 && wait_state alw running 120; then
  # each powers itself off 2 s after its marker
  if wait_for 90 sh -c "[ \$(grep -c ' alw: running as domain' $DOMUD_LOG) -ge 2 ]" &&
     wait_state onf stopped 60; then
    sleep 5
    set -- $(runs alw); d1=$1; d2=$2
    if [ "$(jfield onf state)" = stopped ] && [ "$(jfield onf last_exit)" = poweroff ] &&
       [ "$(runs onf | wc -w)" = 1 ] && [ "$(jfield alw restarts)" -ge 1 ] &&
       [ -n "$d2" ] && [ "$d2" != "$d1" ]; then
      pass supervise/poweroff-policy "on-failure stayed stopped; always came back (domain $d1 -> $d2)"
    else
      fail supervise/poweroff-policy "onf=$(jfield onf state)/$(jfield onf last_exit) alw restarts=$(jfield alw restarts) $d1->$d2"
    fi
  else
    fail supervise/poweroff-policy "onf=$(jfield onf state) alw=$(jfield alw state)"
    show_log 20
  fi
else
  fail supervise/poweroff-policy "did not start: onf=$(jfield onf state) alw=$(jfield alw state)"
  show_log 20
fi
domuctl stop alw > /dev/null 2>&1
wait_state alw stopped 60

# ---- supervise/crash-loop: growing backoff, then failed; others untouched ----
# (an arm64 guest's panic does not reach Xen as a crash: Linux on arm has no
# Xen panic notifier, the domain just spins, so there is nothing to restart)
if [ "$(uname -m)" = aarch64 ]; then
  skip supervise/crash-loop "an arm64 guest's panic does not reach Xen as a crash (no Xen panic notifier on arm)"
else
  CMDX="e2e.after=crash:1" svc_ini crashy crashy-up "restart = on-failure" \
    "restart_delay = 1s" "restart_delay_max = 8s" "restart_limit = 3" "restart_window = 10m"
  kill -HUP "$DOMUD_PID"
  wait_for 20 sh -c "domuctl -j status crashy > /dev/null 2>&1"
  before=$(all_domids a b c)
  t0=$(up)
  domuctl start crashy > /dev/null 2>&1
  seen=""
  i=0
  while [ $i -lt 400 ]; do
    st=$(domuctl -j status crashy 2>/dev/null)
    s=$(echo "$st" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p')
    nr=$(echo "$st" | sed -n 's/.*"next_restart_ms":\([0-9]*\).*/\1/p')
    rs=$(echo "$st" | sed -n 's/.*"restarts":\([0-9]*\).*/\1/p')
    [ "$s" = backoff ] && [ -n "$nr" ] && case " $seen " in *" r$rs:"*) ;; *) seen="$seen r$rs:$nr" ;; esac
    [ "$s" = failed ] && break
    sleep 0.5; i=$((i + 1))
  done
  delays=$(grep -o "crashy: crash; restarting in [0-9]*s" "$DOMUD_LOG" | grep -o "[0-9]*s$" | tr '\n' ' ')
  reason=$(jfield crashy failed_reason)
  if [ "$s" = failed ] && [ "$delays" = "1s 2s 4s " ] && echo "$reason" | grep -q "restarted 3 times" &&
     [ "$(all_domids a b c)" = "$before" ]; then
    pass supervise/crash-loop "backoff $delays then failed after $(dt "$t0" "$(up)")s: $reason; status saw$seen"
    bench crash_loop "backoff_s=$(echo $delays | tr -d 's' | tr ' ' ',') to_failed_s=$(dt "$t0" "$(up)")"
  else
    fail supervise/crash-loop "state=$s delays='$delays' reason='$reason' others: $(all_domids a b c) vs $before"
    show_log 20
  fi
fi

# ---- supervise/reboot: an in-guest reboot is the same service, no failure -----
CMDX="e2e.after=reboot:2" svc_ini rb rb-up "restart = no"
kill -HUP "$DOMUD_PID"
wait_for 20 sh -c "domuctl -j status rb > /dev/null 2>&1"
domuctl start rb > /dev/null 2>&1
if wait_state rb running 120; then
  if wait_for 90 sh -c "[ \$(grep -c ' rb: running as domain' $DOMUD_LOG) -ge 2 ]"; then
    sleep 1
    set -- $(runs rb); d1=$1; d2=$2
    if [ -n "$d2" ] && [ "$d2" != "$d1" ] && [ "$(jfield rb restarts)" = 0 ] && [ "$(jfield rb state)" = running ] &&
       grep -q "rb: rebooted by the guest" "$DOMUD_LOG"; then
      pass supervise/reboot "domain $d1 -> $d2, restart=no, restarts=0"
    else
      fail supervise/reboot "d=$d1->$d2 restarts=$(jfield rb restarts) state=$(jfield rb state)"
    fi
  else
    fail supervise/reboot "no second run; state=$(jfield rb state)"
    show_log 20
  fi
else
  fail supervise/reboot "rb=$(jfield rb state)"
fi
domuctl stop rb > /dev/null 2>&1
wait_state rb stopped 60

# ---- supervise/adopt: kill -9 and restart, three times ----------------------
ok=1 why=""
base_ids=$(all_domids a b c)
ua=$(jfield a uptime)
for round in 1 2 3; do
  kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
  t0=$(up)
  domud_up || { ok=0; why="round $round: no restart"; break; }
  wait_state a running 30 && wait_state b running 30 && wait_state c running 30 ||
    { ok=0; why="round $round: not running"; }
  bench adopt "round=$round seconds=$(dt "$t0" "$(up)") services=3"
  ids=$(all_domids a b c)
  [ "$ids" = "$base_ids" ] || { ok=0; why="round $round: domids $ids vs $base_ids"; }
  u=$(jfield a uptime)
  [ -n "$u" ] && [ "$u" -ge "$ua" ] || { ok=0; why="round $round: uptime $ua -> $u"; }
  ua=$u
  # console capture goes on: the guest answers a line, the new domud logs it
  printf 'RUN echo ADOPTED-%s\n' "$round" > "$(console_tty "$(jfield a domid)")"
  wait_for 20 console_has a "ADOPTED-$round" || { ok=0; why="round $round: no console"; }
done
creates=$(grep -c ": creating" "$DOMUD_LOG")
# (no destroy of domud's own doing in the adoptions: the history's lines,
# "event: ... -> destroying", tell of the services before them)
if [ $ok = 1 ] && ! tail -n 200 "$DOMUD_LOG" | grep -v " event: " | grep -q "destroying"; then
  pass supervise/adopt "3 rounds, same domids ($base_ids), uptime kept, console captured"
else
  fail supervise/adopt "$why (creates=$creates)"
  show_log 20
fi

# ---- supervise/reload: only the changed service restarts; broken keeps old ---
ida=$(jfield a domid); idb=$(jfield b domid); idc=$(jfield c domid)
sed -i 's/^memory = .*/memory = 112M/' "$DOMUD_CONF_DIR/services.d/c.ini"
echo "description = only how domud treats it" >> "$DOMUD_CONF_DIR/services.d/a.ini"
kill -HUP "$DOMUD_PID"
if wait_for 120 sh -c "[ \"\$(domuctl -j status c | sed -n 's/.*\"domid\":\([0-9]*\).*/\1/p')\" != $idc ] && domuctl -j status c | grep -q '\"state\":\"running\"'"; then
  if [ "$(jfield a domid)" = "$ida" ] && [ "$(jfield b domid)" = "$idb" ] &&
     [ "$(jfield a description)" = "only how domud treats it" ]; then
    cp "$DOMUD_CONF_DIR/services.d/a.ini" /tmp/a.ini.good
    echo "colour = blue" >> "$DOMUD_CONF_DIR/services.d/a.ini"
    domuctl reload > /tmp/reload.out 2>&1; rc=$?
    kill -HUP "$DOMUD_PID"; sleep 2
    if [ $rc = 1 ] && grep -q "services.d/a.ini:[0-9]*: unknown key 'colour'" /tmp/reload.out &&
       grep -q "keeping the running configuration" "$DOMUD_LOG" &&
       [ "$(jfield a domid)" = "$ida" ] && [ "$(jfield a description)" = "only how domud treats it" ]; then
      pass supervise/reload "c restarted ($idc -> $(jfield c domid)), a and b untouched; broken file: $(grep -o 'a.ini:[0-9]*: unknown key' /tmp/reload.out)"
    else
      fail supervise/reload "broken reload: rc=$rc $(tr '\n' '|' < /tmp/reload.out)"
    fi
    cp /tmp/a.ini.good "$DOMUD_CONF_DIR/services.d/a.ini"
    kill -HUP "$DOMUD_PID"
  else
    fail supervise/reload "a=$(jfield a domid)/$ida b=$(jfield b domid)/$idb"
  fi
else
  fail supervise/reload "c=$(jfield c domid)/$idc $(jfield c state)"
  show_log 20
fi

# ---- supervise/authz: other users on the real sockets ------------------------
sleep 1
# the groups must exist when domud makes its sockets: restart it (adopting)
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null; domud_up
su -s /bin/sh reader -c "domuctl list" > /tmp/r1.out 2>&1; r1=$?
su -s /bin/sh reader -c "domuctl stop c" > /tmp/r2.out 2>&1; r2=$?
st_c=$(jfield c state)
su -s /bin/sh admin -c "domuctl stop c" > /tmp/r3.out 2>&1; r3=$?
if [ $r1 = 0 ] && grep -q "^c " /tmp/r1.out && [ $r2 = 5 ] &&
   grep -q "needs root or the admin group" /tmp/r2.out && [ "$st_c" = running ] &&
   [ $r3 = 0 ] && wait_state c stopped 60; then
  pass supervise/authz "reader: list ok, stop refused ($(cat /tmp/r2.out | head -c 80)); admin (supplementary group): stop ok"
else
  fail supervise/authz "r1=$r1 r2=$r2 r3=$r3 c=$st_c: $(cat /tmp/r1.out /tmp/r2.out /tmp/r3.out | tr '\n' '|' | head -c 300)"
  ls -la /run/domud | while IFS= read -r l; do info "  $l"; done
fi

# ---- supervise/stop-order: keep_running leaves the DomUs up for the next
# domud, which adopts them; without it SIGTERM stops them, in reverse order
# (a and b as they run; c, which authz's admin stopped, stays stopped: no
# boots of their own)
printf 'keep_running = yes\n' >> "$DOMUD_CONF_DIR/domud.conf"
domuctl reload > /dev/null 2>&1
kept=$(all_domids a b)
domud_down 60
left=$(xl list 2>/dev/null | awk 'NR>1 && $2!=0' | wc -l)
domud_up && wait_state a running 30 && wait_state b running 30
again=$(all_domids a b) c_st=$(jfield c state)
sed -i '/keep_running/d' "$DOMUD_CONF_DIR/domud.conf"
domuctl reload > /dev/null 2>&1
mark=$(wc -l < "$DOMUD_LOG")
domud_down 120
tail -n +"$mark" "$DOMUD_LOG" > /tmp/stop.log
sb=$(grep -n " b: stopped" /tmp/stop.log | head -n 1 | cut -d: -f1)
sa=$(grep -n " a: stopped" /tmp/stop.log | head -n 1 | cut -d: -f1)
if [ "$left" = 2 ] && [ "$kept" = "$again" ] && [ "$c_st" = stopped ] && [ -n "$sa" ] && [ -n "$sb" ] &&
   [ "$sb" -lt "$sa" ] && [ -z "$(domids)" ]; then
  pass supervise/stop-order "keep_running left 2 DomUs, adopted again ($again), c still stopped; then b stopped before a"
else
  fail supervise/stop-order "keep_running: left=$left kept=$kept again=$again c=$c_st; order a=$sa b=$sb; domains: $(domids | tr '\n' ' ')"
  info "  domud.conf: $(tr '\n' ' ' < "$DOMUD_CONF_DIR/domud.conf")"
  tail -n 10 /tmp/stop.log | while IFS= read -r l; do info "  $l"; done
fi
true
