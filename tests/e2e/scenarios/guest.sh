# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Self-test of the e2e test guest under plain xl: every behaviour that domud's
# scenarios rely on (disk, network, console round trip, obeying or ignoring PV
# shutdown requests, poweroff/reboot/crash on its own).
# e2e-timeout: 400

cfg() { # NAME TOKEN [words] -> /tmp/NAME.cfg
  _n=$1; shift
  guest_xl_cfg "$_n" "$@" > "/tmp/$_n.cfg"
}

# ---- disk + network + console round trip + a shutdown request it ignores -------
cfg g1 g1tok e2e.mount=xvdb e2e.ip=10.99.0.2/24 e2e.gw=10.99.0.1 e2e.ignore_shutdown=1
{
  echo "disk = [ 'format=raw,vdev=xvdb,access=ro,target=$E2E_DATA_IMG' ]"
  echo "vif = [ 'bridge=xenbr0,mac=00:16:3e:00:00:02' ]"
} >> /tmp/g1.cfg
if d=$(xl_start g1 /tmp/g1.cfg) && con_wait g1 90 "DOMU-MARKER g1tok"; then
  pass guest/boot "domid=$d"
  if grep -q "DOMU-DISK E2E-DISK-MARKER" "$(con_log g1)"; then pass guest/disk
  else fail guest/disk "$(grep DOMU-DISK "$(con_log g1)")"; fi
  if grep -q "DOMU-NET eth0 up" "$(con_log g1)" && ping -c 2 -W 2 10.99.0.2 > /tmp/g1.ping 2>&1; then
    pass guest/net "dom0 pings 10.99.0.2 over xenbr0"
  else
    fail guest/net "$(grep DOMU-NET "$(con_log g1)") $(tail -n 1 /tmp/g1.ping 2>/dev/null)"
  fi
  con_send g1 "hello-g1"
  con_send g1 "RUN cat /mnt/marker"
  if con_wait g1 10 'ECHO\[hello-g1\]' && con_wait g1 10 'RUN-END rc=0'; then pass guest/console-roundtrip
  else fail guest/console-roundtrip; fi
  xl shutdown g1 > /dev/null 2>&1
  sleep 5
  if xl domid g1 > /dev/null 2>&1 && grep -q DOMU-IGNORE-SHUTDOWN "$(con_log g1)"; then
    pass guest/ignore-shutdown
  else
    fail guest/ignore-shutdown "the guest went away after a shutdown request"
  fi
else
  fail guest/boot "no marker; console: $(tail -n 5 "$(con_log g1)" | tr '\n' '|')"
fi
xl_stop g1

# ---- an orderly PV shutdown request is obeyed ------------------------------------
cfg g2 g2tok
if xl_start g2 /tmp/g2.cfg > /dev/null && con_wait g2 90 "DOMU-MARKER g2tok"; then
  t=$(up)
  if timeout 30 xl shutdown -w g2 > /tmp/g2.shutdown 2>&1; then pass guest/obeys-shutdown "in $(dt "$t" "$(up)")s"
  else
    fail guest/obeys-shutdown "rc=$? after $(dt "$t" "$(up)")s: $(tr '\n' '|' < /tmp/g2.shutdown)"
    xl list; tail -n 5 "$(con_log g2)"
  fi
else
  fail guest/obeys-shutdown "no marker"
fi
xl_stop g2

# ---- e2e.after=poweroff|reboot|crash ---------------------------------------------
# poweroff: on_poweroff=destroy makes the domain vanish
cfg g3 g3tok e2e.after=poweroff:1
if xl_start g3 /tmp/g3.cfg > /dev/null && con_wait g3 90 "DOMU-MARKER g3tok" &&
   wait_for 20 sh -c '! xl domid g3 > /dev/null 2>&1'; then
  pass guest/after-poweroff
else
  fail guest/after-poweroff
fi
xl_stop g3

# crash: on_crash=preserve keeps the domain, in state "c". Only x86 guests tell Xen
# they panicked (Linux's Xen panic notifier); an arm64 guest just hangs in panic().
if [ "$E2E_ARCH" = amd64 ]; then
  cfg g4 g4tok e2e.after=crash:1
  sed -i 's/^on_crash = .*/on_crash = "preserve"/' /tmp/g4.cfg
  if xl_start g4 /tmp/g4.cfg > /dev/null && con_wait g4 90 "DOMU-MARKER g4tok" &&
     wait_for 20 sh -c "xl list g4 2>/dev/null | awk 'NR==2{print \$5}' | grep -q c"; then
    pass guest/after-crash
  else
    fail guest/after-crash "state: $(xl list g4 2>/dev/null | awk 'NR==2{print $5}')"
  fi
  xl_stop g4
else
  info "guest/after-crash skipped on $E2E_ARCH: Xen does not learn of a guest kernel panic there"
fi

# reboot: on_reboot=restart (xl's monitor process) gives a new domain with a new id
cfg g5 g5tok e2e.after=reboot:1
sed -i 's/^on_reboot = .*/on_reboot = "restart"/' /tmp/g5.cfg
if d=$(xl_start g5 /tmp/g5.cfg) && con_wait g5 90 "DOMU-MARKER g5tok" &&
   wait_for 60 sh -c "d2=\$(xl domid g5 2>/dev/null) && [ \"\$d2\" != $d ]"; then
  pass guest/after-reboot "domid $d -> $(xl domid g5)"
else
  fail guest/after-reboot
fi
xl_stop g5
