# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 900
# memres tools on real Xen (issue #8, in part): logs -f through domud, cp both ways
# byte for byte (and a clear error for a missing path), and the idle timeout (an
# unused memres DomU stops; the next exec brings it back).
. /e2e/scenarios/lib/domud.sh

MEM=96
: > "$DOMUD_LOG"

conf_init
echo "run_images = /e2e" >> "$DOMUD_CONF_DIR/domud.conf"
if ! AGENT_RD=$(agent_initrd /tmp/initrd-agent.img); then
  fail memres/cp-roundtrip "no agent cpio in /e2e"
  exit 0
fi
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini t t-up \
  "autostart = yes" "restart = no" "memres = yes"
RAMDISK=$AGENT_RD CMDX="e2e.vxn=1" svc_ini vx vx-up \
  "autostart = no" "restart = no" "memres = yes" "agent = vxn" "agent_stop_timeout = 20s"
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini idle idle-up \
  "autostart = no" "restart = no" "memres = yes" "idle_timeout = 20s"
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini nap nap-up \
  "autostart = no" "restart = no" "memres = yes" "idle_timeout = 10s" "idle_action = pause"
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini sb sb-up \
  "autostart = no" "restart = no" "memres = yes" "standby = yes"
# sb without a standby: the cold start beside sb's, in the same part
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini sbc sbc-up \
  "autostart = no" "restart = no" "memres = yes"
if ! domud_up || ! wait_state t ready 240; then
  fail memres/cp-roundtrip "t is '$(jfield t state)', not ready"
  show_log 20
  domud_down 60
  exit 0
fi

# ---- memres/logs-follow: what the guest writes reaches a follower as it comes ---------
domuctl logs -f -n 1 t > /tmp/follow.out 2>&1 &
fpid=$!
# following: the last line of the log has come
wait_for 20 test -s /tmp/follow.out || info "logs -f printed nothing in 20 s"
mark="FOLLOW-$(ms)"
domuctl exec -t 20 --shell t -- "echo $mark > /dev/hvc0; printf '\\033[31mred\\n' > /dev/hvc0" > /dev/null 2>&1
t=$(ms)
wait_for 20 grep -q "$mark" /tmp/follow.out; rf=$?
f_ms=$(( $(ms) - t ))
kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
why=""
[ $rf = 0 ] || why="$why the mark did not reach the follower: $(tail -c 200 /tmp/follow.out | tr '\n' '|');"
grep -q "$(printf '\033')" /tmp/follow.out && why="$why a raw ESC reached the follower;"
grep -q 'red' /tmp/follow.out || why="$why the line after the escape is missing;"
if [ -z "$why" ]; then
  pass memres/logs-follow "a line the guest wrote reached 'domuctl logs -f' within ${f_ms} ms; its escape neutralised"
else
  fail memres/logs-follow "$why"
fi

# ---- memres/console-attach: type a line, the guest answers; exec works meanwhile -------
x="HI$$"
# the shell in the guest computes 6*7: an answer, not an echo of what was typed
# (typed through a fifo held open here: each step waits for what it needs)
rm -f /tmp/con.in; mkfifo /tmp/con.in
domuctl console t < /tmp/con.in > /tmp/con.out 2> /tmp/con.err &
cpid=$!
exec 7> /tmp/con.in
why=""
wait_for 30 grep -q "attached to t" /tmp/con.err || why="$why not attached in 30 s: $(tr '\n' ' ' < /tmp/con.err);"
printf 'echo %s-$((6*7))\n' "$x" >&7
wait_for 30 grep -q "$x-42" /tmp/con.out
domuctl exec -t 30 t -- echo during > /tmp/con-exec.out 2>&1; rex=$?
printf '\035' >&7
exec 7>&-
wait "$cpid"; rcon=$?
grep -q "$x-42" /tmp/con.out || why="$why no answer '$x-42' from the guest: $(tail -c 300 /tmp/con.out | tr '\n\r' '||');"
[ $rcon = 0 ] || why="$why domuctl console exited $rcon;"
grep -q "detached from t" /tmp/con.err || why="$why no detach: $(tr '\n' ' ' < /tmp/con.err);"
[ $rex = 0 ] && [ "$(cat /tmp/con-exec.out)" = during ] || why="$why exec during the attach: rc=$rex '$(cat /tmp/con-exec.out)';"
[ "$(jfield t state)" = ready ] || why="$why t is '$(jfield t state)' afterwards;"
if [ -z "$why" ]; then
  pass memres/console-attach "typed 'echo $x-\$((6*7))', the guest's shell answered '$x-42'; exec answered during the attach; Ctrl-] detached"
else
  fail memres/console-attach "$why"
  show_log 10
fi

# ---- memres/cp-roundtrip: dom0 -> guest -> dom0, byte for byte --------------------------
dd if=/dev/urandom of=/tmp/cp.in bs=1k count=200 2>/dev/null
printf '\000\017\376===END===\n' >> /tmp/cp.in
t=$(ms)
domuctl cp /tmp/cp.in t:/tmp/cp.bin > /tmp/cp1.out 2>&1; r1=$?
up_ms=$(( $(ms) - t ))
gsum=$(domuctl exec -t 60 t -- md5sum /tmp/cp.bin 2>/dev/null | awk '{print $1}')
t=$(ms)
rm -f /tmp/cp.out
domuctl cp t:/tmp/cp.bin /tmp/cp.out > /tmp/cp2.out 2>&1; r2=$?
down_ms=$(( $(ms) - t ))
rm -f /tmp/cp.missing
domuctl cp t:/nonexistent/file /tmp/cp.missing > /tmp/cp3.out 2>&1; r3=$?
domuctl cp /tmp/cp.in t:/nonexistent-dir/x > /tmp/cp4.out 2>&1; r4=$?
domuctl cp /tmp/no-such-local t:/tmp/x > /tmp/cp5.out 2>&1; r5=$?
lsum=$(md5sum < /tmp/cp.in | awk '{print $1}')
size=$(wc -c < /tmp/cp.in | tr -d ' ')
why=""
[ $r1 = 0 ] || why="$why to the guest: rc=$r1 $(tr '\n' ' ' < /tmp/cp1.out);"
[ "$gsum" = "$lsum" ] || why="$why md5 in the guest '$gsum' != '$lsum';"
[ $r2 = 0 ] || why="$why from the guest: rc=$r2 $(tr '\n' ' ' < /tmp/cp2.out);"
cmp -s /tmp/cp.in /tmp/cp.out || why="$why the copy back differs;"
[ $r3 = 1 ] && grep -q "No such file" /tmp/cp3.out || why="$why missing guest path: rc=$r3 '$(tr '\n' ' ' < /tmp/cp3.out)';"
[ -e /tmp/cp.missing ] && why="$why a failed copy left /tmp/cp.missing;"
ls /tmp/cp.missing.domuctl-* > /dev/null 2>&1 && why="$why a failed copy left its temporary file;"
[ $r4 = 1 ] || why="$why missing guest directory: rc=$r4;"
[ $r5 = 1 ] && grep -q "No such file" /tmp/cp5.out || why="$why missing local file: rc=$r5;"
if [ -z "$why" ]; then
  pass memres/cp-roundtrip "$size bytes (NUL, ^O, 0xfe, ===END===) to the guest in ${up_ms} ms and back in ${down_ms} ms, identical; missing paths: '$(head -n 1 /tmp/cp3.out)'"
  bench cp "bytes=$size to_guest_kib_s=$(( size * 1000 / 1024 / (up_ms + 1) )) from_guest_kib_s=$(( size * 1000 / 1024 / (down_ms + 1) ))"
else
  fail memres/cp-roundtrip "$why"
fi
# ---- memres/run-disk: a program from a hot-plugged image; the disk goes afterwards ----
dt_=$(jfield t domid)
disks() { xl block-list "$dt_" 2>/dev/null | tail -n +2 | grep -c . ; }
domuctl run -t 60 t --disk /e2e/run.img -- hello a b > /tmp/run1.out 2> /tmp/run1.err; rr1=$?
n1=$(disks)
domuctl run -t 60 t --disk /e2e/run.img -- fail > /tmp/run2.out 2> /tmp/run2.err; rr2=$?
n2=$(disks)
domuctl run -t 60 t --disk /e2e/run.img -- no-such-program > /dev/null 2> /tmp/run3.err; rr3=$?
n3=$(disks)
# domud killed in the middle of a run: the next one detaches the leftover disk
domuctl run -t 120 t --disk /e2e/run.img -- sleep 60 > /dev/null 2>&1 &
wait_for 30 sh -c "[ \$(xl block-list $dt_ 2>/dev/null | tail -n +2 | grep -c .) -ge 1 ]"; ra=$?
kill -9 "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
domud_up || info "domud did not come back"
wait_for 60 sh -c "[ \$(xl block-list $dt_ 2>/dev/null | tail -n +2 | grep -c .) -eq 0 ]"; rl=$?
why=""
[ $rr1 = 7 ] && grep -q "RUN-HELLO a b" /tmp/run1.out || why="$why hello: rc=$rr1 '$(cat /tmp/run1.out /tmp/run1.err | tr '\n' ' ')';"
[ "$n1" = 0 ] || why="$why $n1 disks left after hello;"
[ $rr2 = 3 ] && grep -q RUN-FAIL /tmp/run2.err || why="$why fail: rc=$rr2 '$(tr '\n' ' ' < /tmp/run2.err)';"
[ "$n2" = 0 ] || why="$why $n2 disks left after a failing program;"
[ $rr3 = 127 ] || why="$why a missing program: rc=$rr3 '$(tr '\n' ' ' < /tmp/run3.err)';"
[ "$n3" = 0 ] || why="$why $n3 disks left after a missing program;"
[ $ra = 0 ] || why="$why the disk of the interrupted run never showed up;"
[ $rl = 0 ] || why="$why the leftover disk stayed after domud's restart;"
grep -q "a run disk xvd. was left attached: detaching it" "$DOMUD_LOG" || why="$why no leftover note in the log;"
if [ -z "$why" ]; then
  pass memres/run-disk "hello from the image: exit 7 and its output; a failing program (3) and a missing one (127) too; no disk left after each; after kill -9 in a run, the restarted domud detached the leftover"
else
  fail memres/run-disk "$why"
  show_log 20
fi
wait_state t ready 60 || info "t not ready after the restart: $(jfield t state)"

# ---- memres/run-images: only images from run_images, never a Dom0 file or a link ----
ln -sf /etc/shadow /e2e/shadow.img
domuctl run -t 30 t --disk /etc/shadow -- cat /dev/xvdq > /tmp/run5.out 2> /tmp/run5.err; rr5=$?
domuctl run -t 30 t --disk /e2e/shadow.img -- cat /dev/xvdq > /tmp/run6.out 2> /tmp/run6.err; rr6=$?
n6=$(disks)
rm -f /e2e/shadow.img
why=""
[ $rr5 != 0 ] && grep -q "run images come from /e2e only" /tmp/run5.err || why="$why /etc/shadow: rc=$rr5 '$(tr '\n' ' ' < /tmp/run5.err)';"
[ $rr6 != 0 ] && grep -q "symbolic link" /tmp/run6.err || why="$why a link in /e2e: rc=$rr6 '$(tr '\n' ' ' < /tmp/run6.err)';"
[ "$n6" = 0 ] || why="$why $n6 disks attached;"
if [ -z "$why" ]; then
  pass memres/run-images "/etc/shadow refused ('$(head -n 1 /tmp/run5.err)'), a link to it in the image directory refused; nothing attached"
else
  fail memres/run-images "$why"
fi

# ---- memres/run-client-gone: the client of a run dies; the disk still goes ----
dt_=$(jfield t domid)
domuctl run -t 120 t --disk /e2e/run.img -- sleep 60 > /dev/null 2>&1 &
cpid=$!
wait_for 30 sh -c "[ \$(xl block-list $dt_ 2>/dev/null | tail -n +2 | grep -c .) -ge 1 ]"; ra=$?
sleep 1
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
wait_for 30 sh -c "[ \$(xl block-list $dt_ 2>/dev/null | tail -n +2 | grep -c .) -eq 0 ]"; rl=$?
domuctl run -t 60 t --disk /e2e/run.img -- hello again > /tmp/run4.out 2> /tmp/run4.err; rr4=$?
n4=$(disks)
why=""
[ $ra = 0 ] || why="$why the run's disk never showed up;"
[ $rl = 0 ] || why="$why the disk stayed after its client died;"
[ $rr4 = 7 ] && grep -q "RUN-HELLO again" /tmp/run4.out || why="$why the next run: rc=$rr4 '$(cat /tmp/run4.out /tmp/run4.err | tr '\n' ' ')';"
[ "$n4" = 0 ] || why="$why $n4 disks left after the next run;"
if [ -z "$why" ]; then
  pass memres/run-client-gone "domuctl killed mid-run: the command was cancelled and the disk detached; the next run on the same vdev range ran (exit 7) and left no disk"
else
  fail memres/run-client-gone "$why"
  show_log 20
fi

# bench (with vxn below): `exec -- true` from a fresh domuctl through the agent
: > /tmp/agr
for i in 1 2 3 4 5 6 7 8 9 10; do
  t0_=$(ms); domuctl exec -t 30 t -- true > /dev/null 2>&1 && echo $(( $(ms) - t0_ )) >> /tmp/agr
done
domuctl stop t > /dev/null 2>&1
wait_state t stopped 90 || info "t did not stop"

# ---- memres/vxn-compat: a guest speaking vxn's legacy markers, driven by domud ---------
domuctl start vx > /dev/null 2>&1
why=""
if ! wait_state vx ready 240; then
  why="vx never became ready ($(jfield vx state));"
else
  out=$(domuctl exec -t 60 --shell vx -- 'echo hello-vxn; echo to-stderr >&2; exit 3' 2>/tmp/vx.err); rv=$?
  [ $rv = 3 ] || why="$why exit $rv, not 3 ($(tr '\n' ' ' < /tmp/vx.err));"
  printf '%s\n' "$out" | grep -q '^hello-vxn$' || why="$why output '$out';"
  # vxn merges stderr into stdout, one command at a time: two in a row
  o2=$(domuctl exec -t 60 vx -- echo 'a b' "c'd" 2>&1); r2=$?
  [ $r2 = 0 ] && [ "$o2" = "a b c'd" ] || why="$why argv quoting: rc=$r2 '$o2';"
  domuctl ping vx > /tmp/vx-ping.out 2>&1 || why="$why ping: $(cat /tmp/vx-ping.out);"
  # bench: the same through vxn's markers (one line of base64, a shell in
  # the guest), beside the agent's frames measured above
  : > /tmp/vxr
  for i in 1 2 3 4 5 6 7 8 9 10; do
    t0_=$(ms); domuctl exec -t 30 vx -- true > /dev/null 2>&1 && echo $(( $(ms) - t0_ )) >> /tmp/vxr
  done
  vx_med=$(median < /tmp/vxr); ag_med=$(median < /tmp/agr)
  bench exec_vs_vxn "agent_median_ms=$ag_med vxn_markers_median_ms=$vx_med n=$(wc -l < /tmp/agr)/$(wc -l < /tmp/vxr) ratio=$(awk -v a="$ag_med" -v b="$vx_med" 'BEGIN{if (b > 0) printf "%.2f", a/b; else print "?"}')"
  domuctl stop vx > /dev/null 2>&1
  wait_state vx stopped 90 || why="$why did not stop: $(jfield vx state);"
  [ "$(jfield vx last_stop_phase)" = agent ] || why="$why stopped by '$(jfield vx last_stop_phase)', not ===SHUTDOWN===;"
fi
if [ -z "$why" ]; then
  pass memres/vxn-compat "===PONG=== made it ready; a command came back with its output and exit 3; argv quoted; ping; stopped through ===SHUTDOWN==="
else
  fail memres/vxn-compat "$why"
  tail -n 20 /var/log/domud/vx.log 2>/dev/null | tr -d '\r' | while IFS= read -r l; do info "  vx.log: $l"; done
fi

# ---- memres/idle: unused for idle_timeout it stops; the next exec starts it again -------
domuctl start idle > /dev/null 2>&1
why=""
if ! wait_state idle ready 240; then
  why="idle never became ready ($(jfield idle state));"
else
  t=$(up)
  wait_state idle stopped 120 || why="$why not stopped after its idle_timeout ($(jfield idle state));"
  t_idle=$(dt "$t" "$(up)")
  grep -q "idle: idle for 20s: stopping" "$DOMUD_LOG" || why="$why no 'idle for' in the log;"
  [ "$(jfield idle last_stop_phase)" = agent ] || why="$why stopped by '$(jfield idle last_stop_phase)', not the agent;"
  t=$(ms)
  out=$(domuctl exec -t 60 idle -- echo back 2>/tmp/idle.err); re=$?
  wake_ms=$(( $(ms) - t ))
  [ $re = 0 ] && [ "$out" = back ] || why="$why exec after idle: rc=$re out='$out' $(tr '\n' ' ' < /tmp/idle.err);"
  [ "$(jfield idle state)" = ready ] || why="$why state after the exec: $(jfield idle state);"
fi
if [ -z "$why" ]; then
  pass memres/idle "stopped ${t_idle}s after ready (idle_timeout 20s, through its agent); 'exec echo back' started it again and answered in ${wake_ms} ms"
else
  fail memres/idle "$why"
  show_log 20
fi

# ---- memres/idle-pause: idle_action = pause keeps the guest, paused; the next exec
# resumes it where it was (same domain, its memory intact) --------------------------
domuctl start nap > /dev/null 2>&1
why=""
if ! wait_state nap ready 240; then
  why="nap never became ready ($(jfield nap state));"
else
  dn=$(jfield nap domid)
  domuctl exec nap -- sh -c 'echo kept > /nap-state' > /dev/null 2>&1
  t=$(up)
  wait_for 40 sh -c "domuctl -j status nap | grep -q '\"idle\":\"paused\"'" || why="$why not paused after its idle_timeout;"
  t_nap=$(dt "$t" "$(up)")
  xl list "$dn" 2>/dev/null | awk 'NR==2{print $5}' | grep -q p || why="$why Xen does not show domain $dn paused: $(xl list "$dn" 2>&1 | tail -n 1);"
  # (status's figures come from the listing every 2 s: one after the pause)
  sleep 3; c0=$(jfield nap cpu_time_ms); sleep 5; c1=$(jfield nap cpu_time_ms)
  [ -n "$c0" ] && [ "$c0" = "$c1" ] || why="$why CPU time moved while paused: $c0 -> $c1;"
  [ "$(jfield nap paused)" = "" ] || why="$why reported as someone else's pause;"
  t=$(ms)
  out=$(domuctl exec -t 60 nap -- cat /nap-state 2>/tmp/nap.err); re=$?
  resume_ms=$(( $(ms) - t ))
  [ $re = 0 ] && [ "$out" = kept ] || why="$why exec after the pause: rc=$re out='$out' $(tr '\n' ' ' < /tmp/nap.err);"
  [ "$(jfield nap domid)" = "$dn" ] || why="$why a new domain: $(jfield nap domid);"
  domuctl events nap 2>/dev/null | grep -q "paused -> ready (exec; by uid 0)" || why="$why no resume event;"
fi
if [ -z "$why" ]; then
  pass memres/idle-pause "paused ${t_nap}s after its last exec (idle_timeout 10s), CPU time flat; 'exec cat' resumed domain $dn and answered 'kept' in ${resume_ms} ms"
  bench idle_wake "pause_resume_exec_ms=$resume_ms stop_restart_exec_ms=${wake_ms:-?} ratio=$(awk -v a="$resume_ms" -v b="${wake_ms:-0}" 'BEGIN{if (b > 0) printf "%.3f", a/b; else print "?"}')"
else
  fail memres/idle-pause "$why"
  show_log 20
fi
# ---- memres/standby: standby = yes keeps the next domain built and paused; a
# start is a rename and an unpause, and the one after is built while it runs --
why=""
if ! until_s 240 sh -c "domuctl -j status sb | grep -q '\"standby\":\"ready\"'"; then
  why="no standby built: $(domuctl -j status sb 2>&1 | tr -d '\n' | cut -c1-300);"
else
  # the peer: the same guest started cold, start to exec answered
  t=$(ms)
  domuctl -t 180 start --wait sbc > /dev/null 2>/tmp/sbc.err || why="$why sbc start --wait: $(tr '\n' ' ' < /tmp/sbc.err);"
  out=$(domuctl exec -t 120 sbc -- echo back 2>>/tmp/sbc.err)
  sbc_exec_ms=$(( $(ms) - t ))
  [ "$out" = back ] || { why="$why sbc exec: '$out';"; sbc_exec_ms="?"; }
  sbc_run_ms=$(jfield sbc to_running_ms)
  domuctl stop sbc > /dev/null 2>&1; wait_state sbc stopped 90 || why="$why sbc did not stop;"
  sbd=$(jfield sb standby_domid)
  xs=$(xl list 2>/dev/null | awk -v d="$sbd" '$2 == d {print $1, $5, $6}')
  case "$xs" in "sb@standby "*p*" 0.0") ;; *) why="$why domain $sbd in xl list: '$xs' (not sb@standby, paused, never run);" ;; esac
  t=$(ms)
  domuctl -t 180 start --wait sb > /dev/null 2>/tmp/sb.err || why="$why start --wait: $(tr '\n' ' ' < /tmp/sb.err);"
  out=$(domuctl exec -t 120 sb -- echo back 2>/tmp/sb.err); re=$?
  sb_exec_ms=$(( $(ms) - t ))
  [ $re = 0 ] && [ "$out" = back ] || why="$why exec after the start: rc=$re out='$out' $(tr '\n' ' ' < /tmp/sb.err);"
  [ "$(jfield sb domid)" = "$sbd" ] || why="$why runs as domain $(jfield sb domid), not the standby $sbd;"
  domuctl -j status sb | grep -q '"from_standby":true' || why="$why last_start.from_standby is not true;"
  sb_run_ms=$(jfield sb to_running_ms)
  xl list 2>/dev/null | awk -v d="$sbd" '$2 == d {print $1}' | grep -qx sb || why="$why Xen does not call domain $sbd 'sb';"
  # the next one is built while it runs, under the standby name again
  until_s 240 sh -c "domuctl -j status sb | grep -q '\"standby\":\"ready\"'" || why="$why no second standby: $(jfield sb standby);"
  sbd2=$(jfield sb standby_domid)
  [ -n "$sbd2" ] && [ "$sbd2" != "$sbd" ] || why="$why second standby domid '$sbd2';"
  domuctl events sb 2>/dev/null | grep -q "its standby renamed and unpaused" || why="$why no start-from-standby event;"
fi
if [ -z "$why" ]; then
  pass memres/standby "standby domain $sbd waited paused (never run); 'start' made it sb, running in ${sb_run_ms} ms, and 'exec echo back' answered ${sb_exec_ms} ms after the start; the next standby is domain $sbd2"
  bench standby "start_to_running_ms=$sb_run_ms cold_to_running_ms=${sbc_run_ms:-?} start_to_exec_ms=$sb_exec_ms cold_start_exec_ms=$sbc_exec_ms ratio=$(awk -v a="$sb_exec_ms" -v b="$sbc_exec_ms" 'BEGIN{if (b + 0 > 0) printf "%.3f", a/b; else print "?"}') cold=the_same_guest_without_standby_just_before"
else
  fail memres/standby "$why"
  show_log 20
fi
domud_down 120 || info "domud did not exit on SIGTERM"
# a standby is never left behind: the next domud would only destroy it
left=$(xl list 2>/dev/null | awk '$1 ~ /@standby$/ {print $1 "(" $2 ")"}')
if [ -n "$left" ]; then
  fail memres/standby-exit "left after domud's exit: $left"
else
  pass memres/standby-exit "no standby domain left after domud's exit"
fi
true
