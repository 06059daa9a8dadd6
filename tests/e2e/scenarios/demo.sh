# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 600
# `make demo`: domud on the example configuration from config/ (installed as
# /etc/domud), as a newcomer would run it on a device: the services come up
# in order, a memres DomU runs commands, a published port answers from Dom0,
# a guest crashes and is restarted under its policy, its console log shows
# why, and a SIGTERM stops everything cleanly.
. /e2e/scenarios/lib/domud.sh

show() { while IFS= read -r l; do info "  $l"; done; }
say() { info "== $*"; }

# the memres example's ramdisk: the test guest's initramfs + domud-agent
agent_initrd /var/lib/domud/images/busybox/initrd-agent.cpio > /dev/null ||
  info "no agent initramfs: the builder service will not answer"

say "domud -n -f /etc/domud/domud.conf   (check every file first)"
domud -n -f /etc/domud/domud.conf 2>&1 | show
say "domud -d   (foreground; its log follows below)"
domud -d -f /etc/domud/domud.conf > "$DOMUD_LOG" 2>&1 &
DOMUD_PID=$!
if ! wait_for 20 domuctl -t 2 ping > /dev/null 2>&1; then
  fail demo/domud "domud did not answer"; show_log 20; exit 0
fi
names=$(ls /etc/domud/services.d | sed -n 's/\.ini$//p')
ok=1
for n in $names; do
  wait_up "$n" 180 || ok=0
done
say "domuctl list"
domuctl list 2>&1 | show
if [ $ok = 1 ]; then
  pass demo/services-running "$(echo $names)"
else
  fail demo/services-running "$(domuctl list 2>&1 | tr '\n' '|')"
  show_log 20
fi

# ---- a memres DomU runs commands, no network needed ------------------------------
if echo "$names" | grep -qw builder; then
  say "domuctl exec builder -- uname -sm"
  out=$(domuctl exec -t 30 builder -- uname -sm 2>&1); rc=$?
  printf '%s\n' "$out" | show
  say "domuctl exec --shell builder -- 'echo \$((6 * 7)); exit 3'   (the guest's exit status comes back)"
  out2=$(domuctl exec -t 30 --shell builder -- 'echo $((6 * 7)); exit 3' 2>&1); rc2=$?
  printf '%s\n' "$out2" | show
  info "  (domuctl exited $rc2)"
  if [ "$rc" = 0 ] && [ "$rc2" = 3 ] && [ "$out2" = 42 ]; then
    pass demo/exec "uname: $out; exit status 3 passed through"
  else
    fail demo/exec "rc=$rc '$out'; rc=$rc2 '$out2'"
  fi
fi

# ---- a published port, answered from Dom0 -----------------------------------------
say "domuctl net"
domuctl net 2>&1 | show
# Dom0's own address on its uplink (the interface of the default route):
# published ports answer on any of Dom0's addresses
upl=$(ip route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1); exit}')
[ -n "$upl" ] || upl=xenbr0   # the lab's dom0 has no default route
addr=$(ip -4 -o addr show dev "$upl" 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')
say "wget -qO- http://$addr:8080/   (Dom0's port 8080, on $upl, -> the gateway's port 80)"
if wait_for 30 sh -c "timeout 5 wget -q -O /tmp/demo-www http://$addr:8080/ 2>/dev/null && grep -q hello /tmp/demo-www"; then
  show < /tmp/demo-www
  pass demo/port "$(cat /tmp/demo-www)"
else
  fail demo/port "no answer on $addr:8080 ($upl): $(cat /tmp/demo-www 2>/dev/null)"
fi

# ---- a crash, and the restart policy ------------------------------------------------
if [ "$E2E_GUEST_TYPE" = pvh ] && [ "$(uname -m)" = aarch64 ]; then
  skip demo/crash-restart "an arm64 guest's panic does not reach Xen as a crash"
else
  d0=$(jfield sensors domid)
  tty=$(console_tty "$d0")
  say "the sensors guest panics (sysrq c on its console)"
  printf 'RUN echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger\n' > "$tty" 2>/dev/null
  sensors_back() { # restarted once and running; 2 looks a second
    [ "$(jfield sensors restarts)" = 1 ] && [ "$(jfield sensors state)" = running ] && return 0
    sleep 0.4; return 1
  }
  if wait_for 90 sensors_back; then
    grep -E "sensors: (crash|creating|running|.*restart)" "$DOMUD_LOG" | tail -n 4 | show
    say "domuctl status sensors"
    domuctl status sensors 2>&1 | show
    say "domuctl logs --previous -n 12 sensors   (the run before, the panic included)"
    domuctl logs --previous -n 12 sensors 2>&1 | show
    pass demo/crash-restart "domain $d0 crashed, restarted as $(jfield sensors domid) (restarts 1, last exit $(jfield sensors last_exit))"
  else
    fail demo/crash-restart "sensors: $(domuctl status sensors 2>&1 | tr '\n' '|')"
  fi
fi

say "domuctl logs -n 6 gateway"
domuctl logs -n 6 gateway 2>&1 | show

say "SIGTERM: domud stops the services, dependents first, and exits"
if domud_down 120 && [ -z "$(domids)" ]; then
  pass demo/shutdown
else
  fail demo/shutdown "domains left: $(domids | tr '\n' ' ')"
fi
grep -E "stopped|exiting" "$DOMUD_LOG" | show
true
