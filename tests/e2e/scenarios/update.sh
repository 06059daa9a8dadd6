# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 1300 (CI took 688 s on arm64, the amd64 boot and the host checks beside it)
# Guest updates (issue #25) on real Xen: one memres service `upd` with
# update = yes, a signify key and an exec health probe; versions differ by
# the manifest's command line (the same kernel and initramfs), so that a
# version can pass, panic at boot, fail its probe or crash late:
#   v2  passes                     -> committed, and stays across a restart
#   vp  rdinit=/bin/false: panics  -> rolled back (crash)
#   vu  e2e.unhealthy=1            -> rolled back (its probe fails)
#   vl  crashes (sysrq c through its agent) once its window has begun
#                                  -> rolled back
# With a reflink filesystem in dom0 (XFS in a loop image in its memory),
# upd has a data volume xvdc (update_data): every switch snapshots it and
# every rollback puts it back; update/data-snapshot checks that what v2's
# trial wrote stays once committed and what vl's wrote before its crash is
# gone after the rollback;
# then domud killed (-9) in the middle of a switch and of a trial, the
# Mender module and the SWUpdate handler driven as their tools call them,
# then upd without its data volume: update/boot-ahead (a version that
# panics while it boots ahead is rolled back, the old domain untouched),
# update/ahead (the switch boots va's domain while the old one serves) and
# bench update_downtime (from the moment the old domain stops serving to the
# new one's ready, against a restart of the same service).
. /e2e/scenarios/lib/domud.sh

STORE=/var/lib/domud/update/upd
W=/tmp/upd
rm -rf "$W" "$STORE"; mkdir -p "$W"
# amd64: the compressed bzImage (8 MiB, not vmlinux's 62: every stage copies
# and hashes it in dom0), its plain kernel cached by content after the first
K=$E2E_KERNEL
[ "$E2E_ARCH" = amd64 ] && [ -f "$E2E_IMG/vmlinuz" ] && K=$E2E_IMG/vmlinuz
R=$(agent_initrd "$W/initrd")
WINDOW=5

if ! command -v signify-openbsd > /dev/null; then
  fail update/setup "no signify-openbsd in dom0"
  exit 0
fi
signify-openbsd -G -n -p "$W/key.pub" -s "$W/key.sec" > /dev/null 2>&1
signify-openbsd -G -n -p "$W/other.pub" -s "$W/other.sec" > /dev/null 2>&1

# update_data: the data volume on XFS made with reflink=1, in a sparse loop
# image in dom0's memory (blkback's loop device over a file on it)
DATA="" data_why=""
XFS=/tmp/reflink.img XFSMNT=/mnt/reflink
if ! modprobe xfs 2> /dev/null; then data_why="no xfs module in dom0"
elif ! command -v mkfs.xfs > /dev/null; then data_why="no mkfs.xfs in dom0"
else
  umount "$XFSMNT" 2> /dev/null; rm -f "$XFS"; mkdir -p "$XFSMNT"
  truncate -s 320M "$XFS"
  t_xfs=$(ms)
  if mkfs.xfs -q -f -m reflink=1 "$XFS" > "$W/mkfs.out" 2>&1 &&
     mount -t xfs -o loop "$XFS" "$XFSMNT" >> "$W/mkfs.out" 2>&1; then
    DATA=$XFSMNT/upd-data.img
    truncate -s 4M "$DATA"
    printf 'E2E-DATA-v1\n' | dd of="$DATA" conv=notrunc 2> /dev/null
    info "update: the data volume's XFS (reflink=1) made and mounted in $(( $(ms) - t_xfs )) ms"
  else
    data_why="mkfs.xfs or its mount failed: $(tr '\n' ' ' < "$W/mkfs.out" | head -c 200)"
  fi
fi
# the first line of the data volume, and its snapshot's
data_head() { head -n 1 "$1" 2> /dev/null | tr -dc 'A-Za-z0-9-'; }

conf_init
KERNEL=$K CMDX="e2e.agent=1 e2e.mount=xvdb" RAMDISK=$R svc_ini upd up-v1 "memres = yes" "autostart = yes" \
  "restart = on-failure" "stop_timeout = 5s" "update = yes" \
  "update_key = $W/key.pub" "update_window = ${WINDOW}s" \
  "health = exec:! grep -q e2e.unhealthy /proc/cmdline" "health_interval = 2s" \
  "health_retries = 2" "health_timeout = 5s" ${DATA:+"update_data = xvdc"} \
  "" "[disk:data]" "path = $E2E_DATA_IMG" "vdev = xvdb" "access = ro" \
  ${DATA:+"[disk:state]"} ${DATA:+"path = $DATA"} ${DATA:+"vdev = xvdc"}

# mk_manifest OUT VERSION TOKEN [cmdline words]: the manifest of kernel and
# ramdisk with that command line, signed by key.sec (OUT.sig)
mk_manifest() {
  _o=$1 _v=$2 _t=$3; shift 3
  {
    printf '{"version":"%s","cmdline":"%s","files":{' "$_v" \
      "$(guest_cmdline "$_t" e2e.agent=1 "$@")"
    printf '"kernel":{"size":%s,"sha256":"%s"},' "$(wc -c < "$K" | tr -d ' ')" \
      "$(sha256sum "$K" | cut -d' ' -f1)"
    printf '"ramdisk":{"size":%s,"sha256":"%s"}' "$(wc -c < "$R" | tr -d ' ')" \
      "$(sha256sum "$R" | cut -d' ' -f1)"
    # DISK=FILE: the guest's xvdb in the slot too
    [ -n "${DISK:-}" ] && printf ',"disk:xvdb":{"size":%s,"sha256":"%s"}' \
      "$(wc -c < "$DISK" | tr -d ' ')" "$(sha256sum "$DISK" | cut -d' ' -f1)"
    printf '}}\n'
  } > "$_o"
  signify-openbsd -S -s "$W/key.sec" -m "$_o" > /dev/null 2>&1
}

stage() { # MANIFEST [RAMDISK [XVDB]]: stage kernel, ramdisk (and xvdb) with it
  domuctl -t 120 update stage upd --kernel "$K" --ramdisk "${2:-$R}" --manifest "$1" \
    ${3:+--disk "xvdb=$3"} > "$W/stage.out" 2>&1
}

active_is() { # SLOT: update status says it runs that slot, no trial
  domuctl -j update status upd > "$W/st.json" 2>/dev/null &&
    grep -q "\"active\":\"$1\"" "$W/st.json" && ! grep -q '"trial":{' "$W/st.json"
}

# new_run OLD_DOMID TOKEN SECONDS: a domain other than OLD_DOMID runs and
# its run (the current console log: a new run starts a new one) printed
# the marker TOKEN
is_new_run() { # OLD_DOMID TOKEN
  _d=$(jfield upd domid)
  [ -n "$_d" ] && [ "$_d" != "$1" ] && console_has upd "DOMU-MARKER $2"
}
new_run() { until_s "$3" is_new_run "$1" "$2"; }

# the service's events as domuctl events -f sees them: the follower first
# replays older ones, so each measure takes the first matching event since
# stamp_start by the event's own time (its [N.NNNs] since boot, domud's
# clock of the change itself); the downtime is from the moment the old
# domain stops serving (its stop, -> stopping; or the handover, -> starting
# (handover)) to the new one's ready (its agent answered)
stamp_start() {
  T_EV=$(up)
  domuctl events -f upd > "$W/ev.ts" 2>/dev/null &
  FOLLOWER=$!
}
stamp_stop() { kill "$FOLLOWER" 2>/dev/null; wait "$FOLLOWER" 2>/dev/null; }
ev_at() { # PATTERN: the seconds since boot of the first such event since stamp_start
  awk -v t0="$T_EV" -v pat="$1" '$0 ~ pat && match($0, /\[[0-9.]+s\]/) {
    t = substr($0, RSTART + 1, RLENGTH - 3) + 0; if (t >= t0) { print t; exit } }' "$W/ev.ts"
}
stopped_at() { ev_at ' -> stopping '; }
retired() { ! xl list "$1" > /dev/null 2>&1; }   # DOMID: gone from Xen
ready_at() { ev_at ' -> ready '; }
has_ready() { [ -n "$(ready_at)" ]; }
ms_from() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%d", (b - a) * 1000}'; }   # A B (seconds)

# switch to what is staged, wait for the verdict: its exit status
switch_wait() {
  domuctl update switch upd > "$W/switch.out" 2>&1 || return 9
  domuctl update wait upd --timeout $((WINDOW + 150)) > "$W/wait.out" 2>&1
}

if ! domud_up || ! wait_up upd 120 || ! wait_for 60 console_has upd "DOMU-MARKER up-v1"; then
  fail update/setup "upd did not come up"
  show_log 30
  exit 0
fi
domid1=$(jfield upd domid)

# ---- update/verify: what does not verify is refused, nothing started -------
# v2 brings its own copy of the data disk (xvdb)
DISK=$E2E_DATA_IMG
mk_manifest "$W/v2.json" 2 up-v2 e2e.mount=xvdb
DISK=
cp "$R" "$W/flipped"
printf '\377' | dd of="$W/flipped" bs=1 seek=100 conv=notrunc 2>/dev/null
v_ok=1 why=""
stage "$W/v2.json" "$W/flipped" "$E2E_DATA_IMG" && { v_ok=0; why="$why flipped byte staged;"; }
grep -qi 'sha-256\|sha256\|digest' "$W/stage.out" || { v_ok=0; why="$why flipped: $(head -c 200 "$W/stage.out");"; }
cp "$W/v2.json" "$W/bad.json"
signify-openbsd -S -s "$W/other.sec" -m "$W/bad.json" > /dev/null 2>&1
stage "$W/bad.json" "$R" "$E2E_DATA_IMG" && { v_ok=0; why="$why other key staged;"; }
grep -qi 'signature\|key' "$W/stage.out" || { v_ok=0; why="$why other key: $(head -c 200 "$W/stage.out");"; }
cp "$W/v2.json" "$W/nosig.json"
stage "$W/nosig.json" "$R" "$E2E_DATA_IMG" && { v_ok=0; why="$why unsigned staged;"; }
left=$(find "$STORE" -mindepth 1 -maxdepth 1 -type d | wc -l)
if [ $v_ok = 1 ] && [ "$left" = 0 ] && active_is a && [ "$(jfield upd domid)" = "$domid1" ] &&
   [ "$(domuctl events upd 2>/dev/null | grep -c refused)" -ge 3 ]; then
  pass update/verify "flipped byte, other key, no signature: refused, nothing left, domain $domid1 untouched"
else
  fail update/verify "$why left=$left domid=$(jfield upd domid)/$domid1"
  show_log 20
fi

# ---- update/commit: v2 passes its probes for the window, stays across a restart
# the trial writes its data volume (through its agent, as its first act)
guest_data() { # MARK [then more shell]
  domuctl exec -t 10 upd -- sh -c "printf '$1\\n' | dd of=/dev/xvdc conv=fsync 2> /dev/null${2:+; $2}" \
    > /dev/null 2>&1
}
rc=9 t_sw=$(ms) snap_v2="" data_v2=""
if stage "$W/v2.json" "$R" "$E2E_DATA_IMG"; then
  d0=$(jfield upd domid); t_sw=$(ms)
  if domuctl update switch upd > "$W/switch.out" 2>&1; then
    new_run "$d0" up-v2 240 || true
    if [ -n "$DATA" ]; then
      snap_v2=$(data_head "$DATA.domud-snap")
      until_s 30 guest_data E2E-DATA-v2 || true
    fi
    domuctl update wait upd --timeout $((WINDOW + 150)) > "$W/wait.out" 2>&1; rc=$?
    [ -n "$DATA" ] && data_v2="$(data_head "$DATA") snapshot=$(data_head "$DATA.domud-snap")"
  fi
fi
sw_ms=$(( $(ms) - t_sw ))
# its xvdb is the slot's copy (blkback's params), mounted by the guest
vbd_from_slot() {
  xenstore-ls -f /local/domain/0/backend/vbd 2>/dev/null | grep '/params' |
    grep -q "/update/upd/"
}
if [ $rc = 0 ] && console_has upd "DOMU-MARKER up-v2" && active_is b &&
   grep -q '"result":"committed"' "$W/st.json" && vbd_from_slot &&
   console_has upd "DOMU-DISK E2E-DISK-MARKER"; then
  domud_down 90
  domud_up
  if wait_up upd 120 && until_s 60 console_has upd "DOMU-MARKER up-v2" && active_is b; then
    pass update/commit "v2 (its own xvdb from the slot, mounted) committed after ${WINDOW}s healthy (switch to verdict $((sw_ms / 1000))s), runs again after a domud restart"
  else
    fail update/commit "after the restart: $(tr -d '\n' < "$W/st.json" | head -c 300)"
  fi
else
  fail update/commit "rc=$rc vbd_from_slot=$(vbd_from_slot && echo yes || echo no) $(cat "$W/stage.out" "$W/switch.out" "$W/wait.out" 2>/dev/null | tr '\n' ' ' | head -c 400)"
  show_log 30
fi

# the trial's window has begun: its probe passed
window_started() {
  domuctl -j update status upd 2>/dev/null | grep -q '"window_started":true'
}

# late: the guest crashes once its window has begun (through its agent),
# with a data volume after writing it
crash_late() {
  domuctl update switch upd > "$W/switch.out" 2>&1 || return 9
  until_s 120 window_started || return 8
  if [ -n "$DATA" ]; then
    snap_vl=$(data_head "$DATA.domud-snap")
    guest_data E2E-DATA-vl 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger'
  else
    domuctl exec -t 10 upd -- sh -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger' \
      > /dev/null 2>&1
  fi
  domuctl update wait upd --timeout $((WINDOW + 150)) > "$W/wait.out" 2>&1
}

# rollback NAME TOKEN REASON_PATTERN [cmdline words]: a version that fails
# (LATE=1: it crashes within its window)
rollback_case() {
  _n=$1 _t=$2 _why=$3; shift 3
  mk_manifest "$W/$_t.json" "$_t" "$_t" "$@"
  _old=$(jfield upd domid)
  if [ "${LATE:-0}" = 1 ]; then
    if stage "$W/$_t.json" && crash_late; then _rc=0; else _rc=$?; fi
  elif stage "$W/$_t.json" && switch_wait; then _rc=0; else _rc=$?; fi
  if [ "$_rc" = 1 ] && grep -qi "$_why" "$W/wait.out" && active_is b &&
     new_run "$_old" up-v2 240 &&
     bad=a; active_is a && bad=b
  domuctl logs upd --slot "$bad" > "$W/slotlog.out" 2>&1 && [ -s "$W/slotlog.out" ] &&
     grep -q '"state":"bad"' "$W/st.json"; then
    pass "update/$_n" "rolled back to v2 ($(head -c 160 "$W/wait.out" | tr '\n' ' ')), slot a bad, its log kept"
  else
    fail "update/$_n" "rc=$_rc $(cat "$W/stage.out" "$W/wait.out" 2>/dev/null | tr '\n' ' ' | head -c 300) $(tr -d '\n' < "$W/st.json" | head -c 300)"
    show_log 30
  fi
}

# Linux on arm has no Xen panic notifier: an arm64 guest that panics would
# hang (and its probe's deadline end the trial, a minute later); with
# panic=1, as guests are often set up, it reboots, and a reboot ends a trial
if [ "$E2E_ARCH" = arm64 ]; then PANIC_WHY=reboot LATE_WHY=reboot
else PANIC_WHY=crash LATE_WHY=crash; fi
rollback_case rollback-panic up-vp "$PANIC_WHY" rdinit=/bin/false panic=1
grep -qi 'panic\|kill init' "$W/slotlog.out" ||
  info "update/rollback-panic: the kept log has no panic line: $(tail -n 3 "$W/slotlog.out" | tr '\n' ' ')"
rollback_case rollback-unhealthy up-vu "probe\|health" e2e.unhealthy=1
snap_vl=""
LATE=1 rollback_case rollback-late up-vl "$LATE_WHY" panic=1

# ---- update/data-snapshot: v2's trial wrote E2E-DATA-v2 and was committed
# (kept, snapshot gone); vl's wrote E2E-DATA-vl and crashed (rolled back:
# v2's data again, before v2's domain started; snapshot gone)
if [ -z "$DATA" ]; then
  skip update/data-snapshot "$data_why"
else
  data_vl="$(data_head "$DATA") snapshot=$(data_head "$DATA.domud-snap")"
  ev=$(domuctl events upd 2>/dev/null)
  if [ "$snap_v2" = E2E-DATA-v1 ] && [ "$data_v2" = "E2E-DATA-v2 snapshot=" ] &&
     [ "$snap_vl" = E2E-DATA-v2 ] && [ "$data_vl" = "E2E-DATA-v2 snapshot=" ] &&
     echo "$ev" | grep -q 'data xvdc snapshotted (reflink)' &&
     echo "$ev" | grep -q 'data xvdc restored'; then
    pass update/data-snapshot "xvdc on XFS (reflink): v2's write kept at its commit, vl's undone by its rollback, no snapshot left"
  else
    fail update/data-snapshot "during v2: snapshot '$snap_v2'; after its commit: $data_v2; during vl: snapshot '$snap_vl'; after its rollback: $data_vl; events: $(echo "$ev" | grep -c 'data xvdc') data lines"
  fi
fi

# ---- update/kill-anywhere: domud -9 in a switch and in a trial --------------
# After each, the next domud must end with one version running and no trial:
# the trial cut short goes back to v2 (or its domain goes on and is judged).
ka_ok=1 ka_why=""
for point in switch trial; do
  mk_manifest "$W/k-$point.json" "k-$point" "up-k$point"
  stage "$W/k-$point.json" || { ka_ok=0; ka_why="$ka_why $point: stage: $(head -c 100 "$W/stage.out");"; continue; }
  domuctl update switch upd > /dev/null 2>&1
  if [ $point = trial ]; then
    until_s 90 console_has upd "DOMU-MARKER up-k$point" || true
  fi
  kill -9 "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
  domud_up
  if until_s $((WINDOW + 120)) sh -c '
      domuctl -j update status upd > /tmp/upd/ka.json 2>/dev/null &&
      ! grep -q "\"trial\":{" /tmp/upd/ka.json &&
      domuctl -j status upd 2>/dev/null | grep -Eq "\"state\":\"(running|ready)\""'; then
    act=$(sed -n 's/.*"active":"\([ab]\)".*/\1/p' /tmp/upd/ka.json)
    if [ -n "$DATA" ] && [ -e "$DATA.domud-snap" ]; then
      ka_ok=0; ka_why="$ka_why $point: a data snapshot left with no trial;"
    fi
    info "update/kill-anywhere: killed in the $point: active slot $act, $(sed -n 's/.*"result":"\([a-z-]*\)".*/\1/p' /tmp/upd/ka.json)"
  else
    ka_ok=0; ka_why="$ka_why $point: $(tr -d '\n' < /tmp/upd/ka.json | head -c 200);"
  fi
done
if [ $ka_ok = 1 ]; then
  pass update/kill-anywhere "killed in a switch and in a trial: each time one version runs, no trial left"
else
  fail update/kill-anywhere "$ka_why"
  show_log 30
fi

# ---- update/ota-mender, update/ota-swupdate: the adapters as their tools
# call them (tests/ota/drive.sh), each a whole update to its verdict
OTA_CONTRIB=/e2e/ota OTA_WORK=/tmp/domud-ota
export OTA_CONTRIB OTA_WORK
. /e2e/ota/drive.sh
for tool in mender swupdate; do
  mk_manifest "$W/o-$tool.json" "o-$tool" "up-o$tool"
  d0=$(jfield upd domid)
  if "ota_$tool" upd "$K" "$R" "$W/o-$tool.json" "$W/o-$tool.json.sig" > "$W/ota.out" 2>&1 &&
     new_run "$d0" "up-o$tool" 10 &&
     domuctl -j update status upd > "$W/st.json" 2>/dev/null &&
     grep -q "\"result\":\"committed\"" "$W/st.json" && ! grep -q '"trial":{' "$W/st.json"; then
    pass "update/ota-$tool" "version o-$tool staged, switched and committed through the $tool adapter"
  else
    fail "update/ota-$tool" "$(tail -n 8 "$W/ota.out" | tr '\n' ' ' | head -c 400)"
  fi
done

# ---- update/ahead, update/boot-ahead, bench update_downtime ----------------
# A switch makes the new domain ahead while the old one serves, where two
# domains of the service can exist at once: not with its data volume (a
# writable disk of its own). upd without it (a reload: a domain change, so
# the restart it makes, the bench's restart half: stop, build, boot); its
# default update_ahead = boot (memres, no network) boots the new domain
# under its standby name until its agent answers. update/boot-ahead: a
# version that panics at boot is rolled back before the old domain is
# touched. update/ahead: va booted ahead, then the handover (the bench's
# switch half: the old domain renamed aside to power off there, the new one
# renamed and unpaused): from the handover's event (-> starting) to the new
# one's ready event (its agent answered); the restart half from its stop
# event (-> stopping) to the same
KERNEL=$K CMDX="e2e.agent=1 e2e.mount=xvdb" RAMDISK=$R svc_ini upd up-v1 "memres = yes" "autostart = yes" \
  "restart = on-failure" "stop_timeout = 5s" "update = yes" \
  "update_key = $W/key.pub" "update_window = ${WINDOW}s" \
  "health = exec:! grep -q e2e.unhealthy /proc/cmdline" "health_interval = 2s" \
  "health_retries = 2" "health_timeout = 5s" \
  "" "[disk:data]" "path = $E2E_DATA_IMG" "vdev = xvdb" "access = ro"
rs="" sw="" sw_all="" a_why=""
d0=$(jfield upd domid)
stamp_start
# the reload's restart (upd's disks changed) is the restart half
domuctl reload > "$W/reload.out" 2>&1 || a_why="reload: $(head -c 200 "$W/reload.out");"
if new_run "$d0" up-oswupdate 240 && until_s 120 has_ready; then
  t_rd=$(ready_at); t_stop=$(stopped_at)
  [ -n "$t_stop" ] && [ -n "$t_rd" ] && rs=$(ms_from "$t_stop" "$t_rd")
else
  a_why="$a_why the restart without the data volume did not run o-swupdate;"
fi
stamp_stop

# update/boot-ahead: vq panics at boot (amd64: Xen sees the crash; arm64,
# with panic=1: a reboot); the old domain serves on throughout
mk_manifest "$W/vq.json" vq up-vq rdinit=/bin/false panic=1
d0=$(jfield upd domid) b_why=""
if stage "$W/vq.json"; then
  stamp_start
  domuctl update switch upd > "$W/switch.out" 2>&1 || b_why="switch: $(head -c 200 "$W/switch.out");"
  domuctl update wait upd --timeout $((WINDOW + 300)) > "$W/wait.out" 2>&1; brc=$?
  stamp_stop
  [ "$brc" = 1 ] || b_why="$b_why wait: rc $brc $(head -c 200 "$W/wait.out");"
  grep -q "while it booted ahead" "$W/wait.out" ||
    b_why="$b_why the reason is not the boot ahead's: $(head -c 200 "$W/wait.out");"
  [ "$(jfield upd domid)" = "$d0" ] || b_why="$b_why upd is domain $(jfield upd domid), not $d0;"
  [ -n "$(stopped_at)" ] && b_why="$b_why the old domain was stopped: $(grep ' -> stopping ' "$W/ev.ts" | tail -n 1);"
  grep -q "boots ahead while domain $d0 serves" "$DOMUD_LOG" || b_why="$b_why domud did not boot it ahead;"
  bad=a; active_is a && bad=b
  domuctl logs upd --slot "$bad" > "$W/slotlog.out" 2>&1
  [ -s "$W/slotlog.out" ] || b_why="$b_why no log of the failed boot;"
else
  b_why="stage of vq: $(head -c 200 "$W/stage.out");"
fi
if [ -z "$b_why" ]; then
  pass update/boot-ahead "vq failed its boot ahead ($(sed -n 's/.*(version vq): \(.*while it booted ahead\).*/\1/p' "$W/wait.out" | head -n 1 | head -c 120)): rolled back, domain $d0 served on untouched, $(wc -l < "$W/slotlog.out") lines of its boot kept"
else
  fail update/boot-ahead "$b_why"
  show_log 30
fi

mk_manifest "$W/va.json" va up-va
d0=$(jfield upd domid)
if stage "$W/va.json"; then
  stamp_start; t_sw=$(up)
  if domuctl update switch upd > "$W/switch.out" 2>&1 && new_run "$d0" up-va 240 &&
     until_s 120 has_ready; then
    t_rd=$(ready_at); sw_all=$(ms_from "$t_sw" "$t_rd"); t_ho=$(ev_at ' -> starting .handover')
    [ -n "$t_ho" ] && sw=$(ms_from "$t_ho" "$t_rd")
    # booted ahead, then the handover: the old domain was never stopped
    # as the service's (it retired aside), the start was the standby's
    [ -n "$t_ho" ] || a_why="$a_why no handover: $(grep -- '-> stopping\|-> starting' "$W/ev.ts" | tail -n 1 | head -c 200);"
    [ -z "$(stopped_at)" ] || a_why="$a_why the old domain was stopped first: $(grep -- ' -> stopping ' "$W/ev.ts" | tail -n 1 | head -c 200);"
    [ -n "$(ev_at 'standby renamed and unpaused')" ] ||
      a_why="$a_why the start was not the standby's: $(grep -- '-> running\|-> ready' "$W/ev.ts" | tail -n 1 | head -c 200);"
    grep -q "domain [0-9]* booted ahead in" "$DOMUD_LOG" || a_why="$a_why va was not booted ahead;"
    grep -q "update: domain $d0 retires" "$DOMUD_LOG" || a_why="$a_why domain $d0 did not retire;"
    # it powers off aside and is destroyed; no domain of it is left
    until_s 60 retired "$d0" || a_why="$a_why domain $d0 is still there: $(xl list | tr -s ' ' | tr '\n' ';' | head -c 200);"
  else
    a_why="$a_why switch to va: $(tr '\n' ' ' < "$W/switch.out" | head -c 200);"
  fi
  domuctl update wait upd --timeout $((WINDOW + 150)) > "$W/wait.out" 2>&1 ||
    a_why="$a_why va not committed: $(tr '\n' ' ' < "$W/wait.out" | head -c 200);"
  stamp_stop
else
  a_why="$a_why stage of va: $(head -c 200 "$W/stage.out");"
fi
if [ -z "$a_why" ] && [ -n "$sw" ]; then
  pass update/ahead "va's domain booted ahead while o-swupdate served, then the handover: domain $d0 retired aside and went ($(sed -n "s/.*retiring domain $d0 destroyed: //p" "$DOMUD_LOG" | head -n 1)), va committed"
else
  fail update/ahead "$a_why sw=$sw"
  show_log 30
fi
if [ -n "$sw" ] && [ -n "$rs" ]; then
  bench update_downtime "switch_ms=$sw restart_ms=$rs ratio=$(awk -v a="$sw" -v b="$rs" 'BEGIN{printf "%.2f", b ? a / b : 0}') switch_total_ms=$sw_all how=booted-ahead:retire+rename+unpause,restart:stop+create+boot to=ready"
else
  info "update_downtime: no figure (switch_ms=$sw restart_ms=$rs)"
fi

domud_down 90
if [ -n "$DATA" ]; then umount "$XFSMNT" 2> /dev/null; rm -f "$XFS"; fi
true
