# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 600
# domud drives real DomUs through libxl: autostart, status, graceful stop,
# stop timeout, a file-backed disk, admission, daemon stop.
. /e2e/scenarios/lib/domud.sh

conf_init
# alpha obeys shutdown and mounts a disk; beta ignores shutdown requests.
# alpha boots Debian's compressed bzImage, as users' images are: its domain
# build is the long part of a create, which must not stall domud.
BZ=$E2E_IMG/vmlinuz
KERNEL=$BZ CMDX="e2e.mount=xvdb" svc_ini alpha alpha-up "autostart = yes" "stop_timeout = 60s" \
  "restart = no" "" "[disk:data]" "path = $E2E_DATA_IMG" "vdev = xvdb" "access = ro" \
  "" "[net]" "bridge = xenbr0"
CMDX="e2e.ignore_shutdown=1" svc_ini beta beta-up "autostart = yes" "stop_timeout = 5s" \
  "restart = no"
# far more than Xen has free: refused, never started
MEM=65536 svc_ini huge huge-up "autostart = no"
# a compressed kernel for the kernel cache's fallback: Debian's bzImage on
# amd64; arm64's is a plain Image, so a gzip of it (libxl takes both)
KFB=$BZ
if [ "$E2E_ARCH" = arm64 ]; then
  KFB=/tmp/kfb-Image.gz
  gzip -1 -c "$E2E_KERNEL" > "$KFB" 2>/dev/null || gzip -c "$E2E_KERNEL" > "$KFB"
fi
KERNEL=$KFB svc_ini kfb kfb-up "autostart = no" "restart = no" "stop_timeout = 20s"

if ! domud -n -f "$DOMUD_CONF_DIR/domud.conf" > /tmp/check.out 2>&1; then
  fail lifecycle/config "domud -n: $(tr '\n' ' ' < /tmp/check.out)"
fi

t0=$(up)
if ! domud_up; then
  fail lifecycle/autostart "domud did not start"
  exit 0
fi

# ---- lifecycle/autostart: both come up, created side by side ----------------
# Each poll also times a control request: the socket must answer while the
# domains are being built.
both_starting=0 max_ms=0 polls=0
i=0
while [ $i -lt 240 ]; do
  ta=$(up)
  domuctl -t 20 -j list > /tmp/l.json 2>/dev/null
  ms=$(awk -v a="$ta" -v b="$(up)" 'BEGIN{printf "%d", (b-a)*1000}')
  sa=$(list_state /tmp/l.json alpha); sb=$(list_state /tmp/l.json beta)
  if [ "$sa" = starting ] || [ "$sb" = starting ]; then
    polls=$((polls + 1)); [ "$ms" -gt "$max_ms" ] && max_ms=$ms
  fi
  [ "$sa" = starting ] && [ "$sb" = starting ] && both_starting=1
  [ "$sa" = running ] && [ "$sb" = running ] && break
  sleep 1; i=$((i + 1))
done
bench control_latency_during_create "max_ms=$max_ms polls=$polls kernel=bzImage+$(basename "$E2E_KERNEL")"
if [ "$sa" = running ] && [ "$sb" = running ] && [ $both_starting = 1 ] &&
   wait_for 60 console_has alpha "DOMU-MARKER alpha-up" &&
   wait_for 60 console_has beta "DOMU-MARKER beta-up"; then
  # alpha's compressed kernel went through the kernel cache, undone by its
  # child (domud --kernel-extract, as nobody): a failure there is "fallback"
  ka=$(domuctl -j status alpha 2>/dev/null | sed -n 's/.*"last_start":{[^}]*"kernel":"\([a-z-]*\)".*/\1/p')
  case "$E2E_ARCH:$ka" in
  amd64:extracted | amd64:cached | arm64:extracted | arm64:cached | arm64:as-is)
    pass lifecycle/autostart "both running in $(dt "$t0" "$(up)")s, created in parallel; alpha's kernel $ka" ;;
  *)
    fail lifecycle/autostart "alpha's kernel: '$ka' ($(grep "alpha: kernel cache" "$DOMUD_LOG" | tail -n 1 | cut -c1-200))" ;;
  esac
else
  fail lifecycle/autostart "alpha=$sa beta=$sb both_starting=$both_starting"
  show_log 30
fi

# ---- lifecycle/status: list and status, human and JSON, match Xen ---------
da=$(jfield alpha domid); xa=$(xl domid alpha 2>/dev/null)
u1=$(jfield alpha uptime)
domuctl list > /tmp/list.out 2>&1
domuctl status alpha > /tmp/status.out 2>&1
domuctl -j list > /tmp/list.json 2>&1
# the uptime moves on (whole seconds)
wait_for 5 sh -c "[ \"\$(domuctl -j status alpha | sed -n 's/.*\"uptime\":\([0-9]*\).*/\1/p')\" -gt '${u1:-0}' ]"
u2=$(jfield alpha uptime)
if [ -n "$da" ] && [ "$da" = "$xa" ] &&
   grep -Eq "^alpha +running +$da " /tmp/list.out &&
   grep -Eq "^beta +running " /tmp/list.out &&
   grep -Eq "^huge +stopped " /tmp/list.out &&
   grep -q "domid *$da" /tmp/status.out && grep -q "uptime" /tmp/status.out &&
   grep -q '"name":"alpha","state":"running"' /tmp/list.json &&
   [ -n "$u1" ] && [ -n "$u2" ] && [ "$u2" -gt "$u1" ] && [ "$u2" -lt 3600 ] &&
   [ "$(jfield alpha last_exit)" = none ]; then
  pass lifecycle/status "alpha domid=$da uptime $u1 -> ${u2}s"
else
  fail lifecycle/status "domid=$da xl=$xa uptime=$u1/$u2 list: $(tr '\n' '|' < /tmp/list.out)"
fi

# ---- lifecycle/vif: the DomU's vif is on the bridge, with its stable MAC ----
mac=$(xenstore-read "/local/domain/0/backend/vif/$da/0/mac" 2>/dev/null)
br=$(sed -n 's/^INTERFACE=//p' "/sys/class/net/vif$da.0/master/uevent" 2>/dev/null)
if [ "$br" = xenbr0 ] && echo "$mac" | grep -q '^00:16:3e:' &&
   wait_for 15 sh -c "xenstore-read /local/domain/0/backend/vif/$da/0/hotplug-status | grep -q connected"; then
  pass lifecycle/vif "vif$da.0 on xenbr0, mac $mac"
else
  fail lifecycle/vif "bridge='$br' mac='$mac'"
fi

# ---- lifecycle/single-instance: a second domud refuses to run ---------------
domud -d -f "$DOMUD_CONF_DIR/domud.conf" > /tmp/second.out 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "another domud is running (pid $DOMUD_PID)" /tmp/second.out &&
   domuctl ping > /dev/null 2>&1; then
  pass lifecycle/single-instance "$(cat /tmp/second.out)"
else
  fail lifecycle/single-instance "rc=$rc $(cat /tmp/second.out)"
fi

# ---- lifecycle/disk: the file-backed disk is mounted in the guest ----------
if wait_for 30 console_has alpha "DOMU-DISK E2E-DISK-MARKER"; then
  pass lifecycle/disk "xvdb mounted read-only, marker read"
else
  fail lifecycle/disk "no DOMU-DISK line; console: $(tail -n 5 /var/log/domud/alpha.log | tr '\n' '|')"
fi

# ---- lifecycle/logs: escape sequences from the guest are neutralised -------
# the guest prints a clear-screen sequence; domud is the console's only reader
printf 'RUN printf "\\033[2JESC-TEST\\n"\n' > "$(console_tty "$da")"
esc=$(printf '\033')
if wait_for 20 console_has alpha "ESC-TEST" &&
   domuctl logs -n 50 alpha > /tmp/logs.out 2>&1 &&
   grep -q "DOMU-MARKER alpha-up" /tmp/logs.out &&
   grep -qF '^[[2JESC-TEST' /tmp/logs.out && ! grep -q "$esc" /tmp/logs.out &&
   domuctl logs --raw alpha > /tmp/logs.raw 2>&1 && grep -q "$esc\[2JESC-TEST" /tmp/logs.raw; then
  pass lifecycle/logs "$(wc -l < /tmp/logs.out) lines, escapes shown as ^[ unless --raw"
else
  fail lifecycle/logs "$(tail -n 3 /tmp/logs.out | tr '\n' '|')"
fi

# ---- lifecycle/admission: too big for Xen: refused with the reason ----------
domuctl start huge > /tmp/huge.out 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "not enough memory" /tmp/huge.out &&
   [ "$(jfield huge state)" = stopped ] && [ "$(jfield huge last_exit)" = refused ] &&
   [ "$(jfield alpha state)" = running ] && [ "$(jfield beta state)" = running ] &&
   ! xl domid huge > /dev/null 2>&1; then
  pass lifecycle/admission "$(head -n 1 /tmp/huge.out)"
else
  fail lifecycle/admission "rc=$rc: $(tr '\n' ' ' < /tmp/huge.out) huge=$(jfield huge state)"
fi

# ---- lifecycle/stop-graceful: alpha obeys shutdown within stop_timeout ------
t1=$(up)
domuctl stop alpha > /dev/null 2>&1
if wait_state alpha stopped 60 && [ "$(jfield alpha last_exit)" = stopped ] &&
   ! xl domid alpha > /dev/null 2>&1; then
  pass lifecycle/stop-graceful "stopped in $(dt "$t1" "$(up)")s (stop_timeout 60s)"
else
  fail lifecycle/stop-graceful "state=$(jfield alpha state) last_exit=$(jfield alpha last_exit)"
  show_log
fi

# ---- lifecycle/stop-timeout: beta ignores it and is destroyed after 5 s -----
t1=$(up)
domuctl stop beta > /dev/null 2>&1
# right after the request it is being stopped; that it stays so until the
# stop_timeout is the elapsed time and last_exit below
mid=$(jfield beta state)
if wait_state beta stopped 60; then
  el=$(dt "$t1" "$(up)")
  ex=$(jfield beta last_exit)
  domuctl status beta > /tmp/beta.out 2>&1
  if [ "$mid" = stopping ] && [ "$ex" = "destroyed after stop_timeout" ] &&
     awk -v e="$el" 'BEGIN{exit !(e >= 5)}' && grep -q "destroyed after stop_timeout" /tmp/beta.out &&
     ! xl domid beta > /dev/null 2>&1; then
    pass lifecycle/stop-timeout "destroyed after ${el}s (stop_timeout 5s)"
  else
    fail lifecycle/stop-timeout "mid=$mid last_exit=$ex after ${el}s"
  fi
else
  fail lifecycle/stop-timeout "beta=$(jfield beta state)"
  show_log
fi

# ---- beta again, for the restart below (domud's create to marker against
# xl's is bench's create_to_marker: five runs each, in turns, in one boot)
domuctl start beta > /dev/null 2>&1
wait_for 180 console_has beta "DOMU-MARKER beta-up" || info "beta did not come back: $(jfield beta state)"

# ---- lifecycle/kernel-fallback: the kernel cache cannot be written -----------
# (a file where its directory should be): the start goes on with the image
# as it is, which libxl extracts itself, and says so
rm -rf /var/lib/domud/kernels; : > /var/lib/domud/kernels
domuctl start kfb > /tmp/kfb.out 2>&1; rc=$?
if [ $rc = 0 ] && wait_for 240 console_has kfb "DOMU-MARKER kfb-up"; then
  kf=$(domuctl -j status kfb 2>/dev/null | sed -n 's/.*"last_start":{[^}]*"kernel":"\([a-z-]*\)".*/\1/p')
  if [ "$kf" = fallback ] && grep -q "kfb: kernel cache: .*libxl loads the image as it is" "$DOMUD_LOG"; then
    pass lifecycle/kernel-fallback "$(grep -o "kfb: kernel cache: .*" "$DOMUD_LOG" | head -n 1 | cut -c1-160)"
  else
    fail lifecycle/kernel-fallback "last_start kernel '$kf'; log: $(grep "kfb" "$DOMUD_LOG" | tail -n 3 | tr '\n' ' ')"
  fi
else
  fail lifecycle/kernel-fallback "rc=$rc $(tr '\n' ' ' < /tmp/kfb.out) state=$(jfield kfb state)"
  show_log
fi
domuctl stop kfb > /dev/null 2>&1; wait_state kfb stopped 60 > /dev/null
rm -f /var/lib/domud/kernels /tmp/kfb-Image.gz

# ---- lifecycle/restart: domuctl restart gives the service a new domain -----
if wait_state beta running 30; then
  d1=$(jfield beta domid)
  domuctl -j restart beta > /tmp/restart.json 2>&1; rc=$?
  if [ $rc = 0 ] && grep -q '"ok":true' /tmp/restart.json &&
     wait_for 120 sh -c "[ \"\$(domuctl -j status beta | sed -n 's/.*\"domid\":\([0-9]*\).*/\1/p')\" != '$d1' ] &&
       domuctl -j status beta | grep -q '\"state\":\"running\"'"; then
    pass lifecycle/restart "domain $d1 -> $(jfield beta domid)"
  else
    fail lifecycle/restart "rc=$rc $(cat /tmp/restart.json) state=$(jfield beta state)"
  fi
else
  fail lifecycle/restart "beta not running: $(jfield beta state)"
fi

# ---- lifecycle/daemon-stop: SIGTERM stops the services, then domud exits ----
# beta ignores shutdown: the daemon's stop waits out its stop_timeout
rss=$(awk '/^VmRSS/{print $2}' /proc/"$DOMUD_PID"/status 2>/dev/null)
bench domud_memory "rss_kb=$rss services=4"
t1=$(up)
if domud_down 60 && [ -z "$(domids)" ] && [ ! -S /run/domud/domud.sock ] &&
   grep -q "beta: ignored shutdown" "$DOMUD_LOG"; then
  pass lifecycle/daemon-stop "all stopped, domud exited in $(dt "$t1" "$(up)")s"
else
  fail lifecycle/daemon-stop "domains left: $(domids | tr '\n' ' ')"
  show_log
fi

# ---- lifecycle/no-daemon: domuctl says so and exits 3, never hangs ----------
t1=$(up)
domuctl list > /tmp/nod.out 2>&1; rc=$?
if [ $rc = 3 ] && grep -q "not running" /tmp/nod.out; then
  pass lifecycle/no-daemon "exit 3 in $(dt "$t1" "$(up)")s"
else
  fail lifecycle/no-daemon "rc=$rc $(cat /tmp/nod.out)"
fi
true
