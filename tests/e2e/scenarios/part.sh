# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 600
# e2e-cpus: 4
# e2e-qemu-amd64: -machine q35 -device intel-iommu,intremap=on -device e1000e
# Partitioning on real Xen (issue 17), on a machine of 4 CPUs (dom0 keeps
# one vCPU, in Pool-0 on CPU 0):
# part/pin: a CPU-burning guest pinned to CPU 3 runs there and only there
#   (xl vcpu-list sampled), and status reads the affinity back from Xen.
# part/cpupool: [cpupool:rt] (CPU 2) is made at start, the service runs in
#   it, a kill -9 of domud leaves it and the next domud adopts it (same pool
#   id, not made again), a reload that drops it stops the service, removes
#   the pool and gives CPU 2 back to Pool-0.
# part/sched: credit2 cap = 50 on a CPU-burning guest against an uncapped
#   twin, each on a CPU of its own: about half the CPU time.
# part/refuse: a CPU the machine lacks, passthrough without an IOMMU, a PCI
#   address not given to pciback (x86), pools that overlap (a reload):
#   refused with the reason, nothing made, the running configuration kept.
# part/pci (amd64; the machine is q35 with QEMU's VT-d, which Xen drives,
#   and an e1000e): the NIC given to pciback, then to a PV guest that sees
#   it (vendor and device in its sysfs); back with pciback after the stop;
#   while another domain holds it, a start fails and leaves no domain.
. /e2e/scenarios/lib/domud.sh

MEM=96
: > "$DOMUD_LOG"
conf_init
printf '\n[cpupool:rt]\ncpus = 2\nsched = credit2\n' >> "$DOMUD_CONF_DIR/domud.conf"
cp "$DOMUD_CONF_DIR/domud.conf" /tmp/part-domud.conf
CMDX="e2e.burn=1" svc_ini pin pin-up "autostart = yes" "restart = no" "cpus = 3"
svc_ini rtp rtp-up "autostart = yes" "restart = no" "cpupool = rt"
CMDX="e2e.burn=1" svc_ini capped capped-up "autostart = no" "restart = no" "cpus = 1" "cap = 50"
CMDX="e2e.burn=1" svc_ini twin twin-up "autostart = no" "restart = no" "cpus = 3"
svc_ini nocpu nocpu-up "autostart = no" "restart = always" "cpus = 9"
case "$E2E_ARCH" in
arm64)
  svc_ini seize seize-up "autostart = no" "restart = no" "dtdev = /pl011@9000000" ;;
*)
  svc_ini seize seize-up "autostart = no" "restart = no" "pci = 0000:00:1f.6,seize"
  svc_ini nopci nopci-up "autostart = no" "restart = no" "pci = 0000:00:1f.7" ;;
esac

vcpu_cpus() { # NAME: the CPU column of xl vcpu-list, one line per sample
  xl vcpu-list "$1" 2>/dev/null | awk 'NR > 1 {print $4}'
}
xl_time() { xl list "$1" 2>/dev/null | awk 'NR == 2 {print $6}'; }
pool_line() { xl cpupool-list 2>/dev/null | awk -v p="$1" '$1 == p {print $0}'; }
pool_cpus() { xl cpupool-list -c 2>/dev/null | awk -v p="$1" '$1 == p {print $2}'; }
cpus_has() { # LIST N: LIST as xl prints it (0,2-3)
  echo "$1" | tr ',' '\n' | awk -v n="$2" -F- '{lo = $1; hi = NF > 1 ? $2 : $1; if (n >= lo && n <= hi) f = 1} END {exit !f}'
}

if ! domud_up || ! wait_up pin 240 || ! wait_up rtp 240; then
  fail part/pin "pin '$(jfield pin state)', rtp '$(jfield rtp state)': not running"
  show_log 30
  domud_down 60
  exit 0
fi

# ---- part/pin ---------------------------------------------------------------
why=""
sleep 3
seen=""
for i in 1 2 3 4 5 6 7 8 9 10; do seen="$seen $(vcpu_cpus pin)"; sleep 0.5; done
for c in $seen; do [ "$c" = 3 ] || why="$why vCPU seen on CPU $c;"; done
[ -n "$seen" ] || why="$why xl vcpu-list pin said nothing;"
aff=$(xl vcpu-list pin 2>/dev/null | awk 'NR == 2 {print $7}')
[ "$aff" = 3 ] || why="$why xl's hard affinity '$aff', not 3;"
st=$(domuctl -j status pin)
echo "$st" | grep -q '"affinity":"3"' || why="$why status affinity: $(echo "$st" | grep -o '"placement":{[^]]*]' | head -c 200);"
echo "$st" | grep -q '"on_cpu":3' || why="$why status on_cpu not 3;"
t0=$(xl_time pin); sleep 4; t1=$(xl_time pin)
burn=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
awk -v d="$burn" 'BEGIN{exit !(d > 1.0)}' || why="$why pin used ${burn}s of CPU in 4 s: not burning;"
if [ -z "$why" ]; then
  pass part/pin "10 samples of xl vcpu-list: CPU 3 each time (affinity 3, read back in status too), ${burn}s of CPU in 4 s"
else
  fail part/pin "$why"
fi

# ---- part/refuse ----------------------------------------------------------------
why=""
out=$(domuctl start nocpu 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "CPU 9 does not exist (Xen has 4: 0-3)" || why="$why nocpu: rc $rc '$out';"
[ "$(jfield nocpu state)" = stopped ] || why="$why nocpu is '$(jfield nocpu state)', not stopped (no retry);"
out2=$(domuctl start seize 2>&1); rc2=$?
caps=$(xl info 2>/dev/null | sed -n 's/^virt_caps *: *//p')
case "$caps" in
*directio*)
  # an IOMMU here (amd64's q35): libxl tries to seize a device that is
  # not there; the create fails whole and leaves no domain
  until_s 60 sh -c '[ "$(domuctl -j status seize | sed -n "s/.*\"state\":\"\([a-z]*\)\".*/\1/p")" != starting ]'
  [ "$(jfield seize state)" = stopped ] || [ "$(jfield seize state)" = failed ] || why="$why seize: '$(jfield seize state)' after its create;"
  out2="$(jfield seize last_exit): $(jfield seize last_error)"
  echo "$out2" | grep -q "0000:00:1f.6\|1f\.6\|pci" || why="$why seize's error does not name the device: '$out2';" ;;
*)
  [ $rc2 != 0 ] && echo "$out2" | grep -q "passthrough needs an IOMMU" || why="$why seize: rc $rc2 '$out2';" ;;
esac
out3="(x86 only)"
if [ "$E2E_ARCH" != arm64 ]; then
  out3=$(domuctl start nopci 2>&1); rc3=$?
  [ $rc3 != 0 ] && echo "$out3" | grep -q "is not assignable" || why="$why nopci: rc $rc3 '$out3';"
fi
# domud -n in Dom0 asks the machine as a start would, file:line
nout=$("$DOMUD_BIN" -n -f "$DOMUD_CONF_DIR/domud.conf" 2>&1)
echo "$nout" | grep -q "services.d/nocpu.ini:[0-9]*: cpus: CPU 9 does not exist" || why="$why domud -n: $(echo "$nout" | tr '\n' '|' | cut -c1-300);"
[ "$E2E_ARCH" = arm64 ] || echo "$nout" | grep -q "services.d/nopci.ini:[0-9]*: pci: 0000:00:1f.7 is not assignable" || why="$why domud -n says nothing of nopci;"
made=$(xl list 2>/dev/null | awk '$1 == "nocpu" || $1 == "seize" || $1 == "nopci"')
[ -z "$made" ] || why="$why made anyway: $made;"
# pools that overlap: the reload is refused, the running configuration kept
printf '\n[cpupool:gw]\ncpus = 2-3\n' >> "$DOMUD_CONF_DIR/domud.conf"
out4=$(domuctl reload 2>&1); rc4=$?
[ $rc4 != 0 ] && echo "$out4" | grep -q "domud.conf:[0-9]*: \[cpupool:gw\]: cpus: CPU 2 is also in \[cpupool:rt\]" || why="$why overlap reload: rc $rc4 '$(echo "$out4" | tr '\n' '|')';"
cp /tmp/part-domud.conf "$DOMUD_CONF_DIR/domud.conf"
[ -z "$(pool_line gw)" ] || why="$why pool gw made;"
if [ -z "$why" ]; then
  pass part/refuse "domud -n: '$(echo "$nout" | grep nocpu | head -n 1)'; refused: '$(echo "$out" | tail -n 1)'; '$(echo "$out2" | tail -n 1)'; '$(echo "$out3" | tail -n 1)'; overlapping pools: '$(echo "$out4" | grep cpupool:gw | head -n 1)'; nothing made"
else
  fail part/refuse "$why"
  show_log 20
fi

# ---- part/sched: cap 50 against an uncapped twin ---------------------------------
why=""
domuctl stop pin > /dev/null 2>&1
wait_state pin stopped 90 || why="$why pin did not stop;"
domuctl start capped > /dev/null 2>&1
domuctl start twin > /dev/null 2>&1
if ! wait_up capped 240 || ! wait_up twin 240; then
  why="$why capped '$(jfield capped state)', twin '$(jfield twin state)';"
else
  sleep 5
  c0=$(xl_time capped); w0=$(xl_time twin); sleep 20; c1=$(xl_time capped); w1=$(xl_time twin)
  dc=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.1f", b - a}')
  dw=$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.1f", b - a}')
  ratio=$(awk -v a="$dc" -v b="$dw" 'BEGIN{if (b > 0) printf "%.2f", a / b; else print "?"}')
  awk -v r="$ratio" 'BEGIN{exit !(r > 0.25 && r < 0.75)}' || why="$why capped/twin CPU time $dc/$dw s = $ratio, not about half;"
  domuctl -j status capped | grep -q '"cap":50' || why="$why status: no cap 50;"
fi
if [ -z "$why" ]; then
  pass part/sched "credit2 cap 50: ${dc}s of CPU against the uncapped twin's ${dw}s in 20 s (ratio $ratio)"
  bench part-sched "capped_s=$dc twin_s=$dw ratio=$ratio"
else
  fail part/sched "$why"
  show_log 20
fi
domuctl stop capped > /dev/null 2>&1; domuctl stop twin > /dev/null 2>&1

# ---- part/pci: a NIC handed through pciback to a PV guest ------------------------
caps=$(xl info 2>/dev/null | sed -n 's/^virt_caps *: *//p')
if [ "$E2E_ARCH" = arm64 ]; then
  skip part/pci "arm64: PCI passthrough is x86's, and device tree passthrough needs an SMMU Xen drives, which this virt machine does not give it (part/refuse shows the refusal)"
elif case "$caps" in *directio*) false ;; *) true ;; esac; then
  skip part/pci "Xen has no IOMMU on this machine (virt_caps: $caps)"
else
  why=""
  bdf=""
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/class" 2>/dev/null)" = 0x020000 ] && { bdf=$(basename "$d"); break; }
  done
  [ -n "$bdf" ] || why="no NIC in dom0's PCI devices;"
  if [ -z "$why" ]; then
    vend=$(cat "/sys/bus/pci/devices/$bdf/vendor"); devid=$(cat "/sys/bus/pci/devices/$bdf/device")
    modprobe xen-pciback 2>/dev/null || why="$why modprobe xen-pciback failed;"
    xl pci-assignable-add "$bdf" > /tmp/pa.out 2>&1 || why="$why xl pci-assignable-add: $(cat /tmp/pa.out);"
    xl pci-assignable-list 2>/dev/null | grep -q "$bdf" || why="$why $bdf not assignable after all;"
    CMDX="e2e.modules=xen-pcifront" svc_ini nic nic-up "autostart = no" "restart = no" "pci = $bdf"
    domuctl reload > /tmp/reload.out 2>&1 || why="$why reload: $(cat /tmp/reload.out);"
    domuctl start nic > /tmp/nic.out 2>&1 || why="$why start nic: $(cat /tmp/nic.out);"
    if wait_up nic 240 && until_s 180 console_has nic "DOMU-MARKER nic-up"; then
      console_has nic "DOMU-MODULE-FAIL" && why="$why xen-pcifront did not load;"
      svc_run nic pci 'cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device' 60 ||
        why="$why the guest did not answer: $(cat /tmp/run-pci.out);"
      grep -qx "$vend" /tmp/run-pci.out && grep -qx "$devid" /tmp/run-pci.out ||
        why="$why the guest sees no $vend:$devid: $(tr '\n' ' ' < /tmp/run-pci.out);"
      domuctl -j status nic | grep -q "\"pci $bdf\"" || why="$why status has no passthrough;"
      domuctl stop nic > /dev/null 2>&1
      wait_state nic stopped 90 || why="$why nic did not stop;"
      xl pci-assignable-list 2>/dev/null | grep -q "$bdf" || why="$why $bdf not back with pciback;"
      # another domain holds it: the start fails whole, no domain left
      printf 'name = "holder"\ntype = "pv"\nkernel = "%s"\nramdisk = "%s"\nmemory = 96\npci = [ "%s" ]\n' \
        "$E2E_KERNEL" "$E2E_INITRD" "$bdf" > /tmp/holder.cfg
      if xl create -p /tmp/holder.cfg > /tmp/holder.out 2>&1; then
        out5=$(domuctl start nic 2>&1); rc5=$?
        sleep 3
        held=$(jfield nic state)
        xl list nic > /dev/null 2>&1 && why="$why a domain nic was left while holder had the device;"
        case "$held" in stopped|failed|backoff) ;; *) why="$why nic is '$held' while holder has the device;" ;; esac
        xl destroy holder 2>/dev/null
      else
        why="$why xl create holder: $(tail -n 2 /tmp/holder.out | tr '\n' ' ');"
      fi
    else
      why="$why nic not running: $(jfield nic state) $(jfield nic last_error);"
    fi
  fi
  if [ -z "$why" ]; then
    pass part/pci "$bdf ($vend:$devid) given to pciback and to nic, whose sysfs shows it; back with pciback after the stop; held by another domain: start rc $rc5, nic '$held' ($(echo "$out5" | tail -n 1 | cut -c1-160)), no domain left"
  else
    fail part/pci "$why"
    show_log 20
  fi
fi

# ---- part/cpupool -------------------------------------------------------------
why=""
p1=$(pool_line rt)
[ -n "$p1" ] || why="$why no pool rt in xl cpupool-list;"
[ "$(pool_cpus rt)" = 2 ] || why="$why rt has CPUs '$(pool_cpus rt)', not 2;"
grep -q "cpupool rt: made with CPUs 2 (credit2)" "$DOMUD_LOG" || why="$why domud did not say it made rt;"
domuctl -j status rtp | grep -q '"cpupool":"rt"' || why="$why rtp not in rt per status;"
xl list -c rtp 2>/dev/null | awk 'NR == 2' | grep -qw rt || why="$why rtp not in rt per xl list -c: $(xl list -c rtp 2>&1 | tail -n 1);"
dom=$(jfield rtp domid)
domuctl cpupools > /tmp/pools.out 2>&1
grep -q "^rt .*domud.conf" /tmp/pools.out || why="$why domuctl cpupools: $(tr '\n' '|' < /tmp/pools.out);"
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
: > "$DOMUD_LOG"
domud_up || why="$why domud did not come back;"
wait_up rtp 60 || why="$why rtp not adopted: $(jfield rtp state);"
[ "$(jfield rtp domid)" = "$dom" ] || why="$why rtp is domain $(jfield rtp domid), not $dom;"
[ "$(pool_line rt)" = "$p1" ] || why="$why pool rt changed: '$p1' -> '$(pool_line rt)';"
grep -q "cpupool rt: there already, as domud.conf says" "$DOMUD_LOG" || why="$why the next domud did not say it adopted rt;"
grep -q "cpupool rt: made" "$DOMUD_LOG" && why="$why the next domud made rt again;"
# dropped: its service stops, then the pool goes and CPU 2 returns
rm -f "$DOMUD_CONF_DIR/services.d/rtp.ini"
printf '[domud]\nconsole_log_max = 256K\n' > "$DOMUD_CONF_DIR/domud.conf"
domuctl reload > /tmp/reload.out 2>&1 || why="$why reload: $(cat /tmp/reload.out);"
until_s 90 sh -c '! xl cpupool-list 2>/dev/null | grep -q "^rt "' || why="$why pool rt still there: $(xl cpupool-list 2>&1 | tr '\n' '|');"
cpus_has "$(pool_cpus Pool-0)" 2 || why="$why CPU 2 not back in Pool-0: $(xl cpupool-list -c 2>&1 | tr '\n' '|');"
grep -q "cpupool rt: gone from the configuration: removed" "$DOMUD_LOG" || why="$why no removal in the log;"
if [ -z "$why" ]; then
  pass part/cpupool "rt made on CPU 2, rtp ran in it; after kill -9 the next domud adopted both (the pool not made again, domain $dom kept); dropped by a reload: rtp stopped, rt removed, CPU 2 back in Pool-0 ($(xl cpupool-list -c 2>/dev/null | awk '$1 == "Pool-0" {print $2}'))"
else
  fail part/cpupool "$why"
  show_log 30
fi
domud_down 120 || info "domud did not exit on SIGTERM"
true
