#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# /init of the e2e dom0 initramfs (Xen dom0, x86_64 PV or arm64; Debian bookworm).
# Brings up what Debian's Xen init scripts would (xenstored, xen-init-dom0,
# xenconsoled), a bridge xenbr0 (10.99.0.1/24), domud's directories, then runs the
# scenarios listed in /e2e/suites, each in a subshell with /e2e/lib.sh sourced and a
# time limit, cleans up after each, prints "E2E-DONE" and powers off. The suites that
# say "# e2e-init: systemd" run last: this script execs systemd (PID 1 stays PID 1),
# whose e2e.service runs `/init --systemd` for them (run.sh build_systemd).
# Everything goes to hvc0, which Xen forwards to the serial port = the harness log.
#
# Kernel command line: e2e.shell=1  after the scenarios, a shell on the console
#                                   instead of powering off
#                      e2e.persist=1  the board's persistent disk (/dev/vda, ext4, made
#                                   by run.sh) on /persist, /var/lib/domud a bind mount
#                                   of /persist/var-lib-domud
#                      e2e.boot=K e2e.boots=N  boot K of N over that disk (E2E_BOOT,
#                                   E2E_BOOTS; lib.sh's power_cut ends a boot K < N)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
# the host's ldconfig cannot index a foreign arch's libraries (arm64)
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/lib/aarch64-linux-gnu
# Debian's busybox sh prefers its own applets for bare command names ("standalone
# shell"): call the real iproute2 by path.
IP=/bin/ip

# (under systemd, `/init --systemd`: all there, /run and /tmp in use)
if [ "${1:-}" != --systemd ]; then
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
  mount -t tmpfs tmpfs /dev/shm
  # what udev would make: Xen's hotplug locking stats /dev/stdin and spins without it
  ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
  ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
  mount -t tmpfs tmpfs /run
  mount -t tmpfs tmpfs /tmp
fi
exec </dev/console >/dev/console 2>&1

# shellcheck source=lib.sh
. /e2e/lib.sh

param() {
  # shellcheck disable=SC2013  # words, not lines
  for w in $(cat /proc/cmdline); do
    case "$w" in "$1"=*) echo "${w#*=}"; return 0;; esac
  done
  echo "$2"
}
# ---- running the scenarios ------------------------------------------------------
# processes alive before a scenario; whatever it leaves behind is killed afterwards
# (user processes only: a kernel thread has no exe; /proc files all have size 0)
snapshot() { for p in /proc/[0-9]*; do [ -e "$p/exe" ] && echo "${p#/proc/}"; done; }

# crashes the kernel saw (segfaults of our daemons, oopses, OOM kills) since last asked;
# the whole kernel log is kept in /var/log/dmesg.all
kernel_news() {
  dmesg -c > /tmp/dmesg.new 2>/dev/null
  cat /tmp/dmesg.new >> /var/log/dmesg.all
  grep -E 'segfault|general protection|invalid opcode|traps:|Out of memory|oom-kill|BUG:|WARNING:' /tmp/dmesg.new |
    head -n 20 | while IFS= read -r l; do info "kernel log ($1): $l"; done
}

cleanup_after() { # suite: kill processes the scenario left, destroy its domains
  snapshot > /tmp/e2e-after   # a function with a redirection: no fork, no stray pid
  _k=""
  while read -r p; do
    grep -qx "$p" /tmp/e2e-before || _k="$_k $p"
  done < /tmp/e2e-after
  _names=""
  for p in $_k; do
    _c=$(cat "/proc/$p/comm" 2>/dev/null) || continue   # gone meanwhile
    _names="$_names $p($_c)"
    kill -TERM "$p" 2>/dev/null
  done
  # up to 1 s for them to go after SIGTERM, no longer than the last one takes
  _w=10
  while [ -n "$_names" ] && [ "$_w" -gt 0 ]; do
    _left=""
    for p in $_k; do kill -0 "$p" 2>/dev/null && _left=1; done
    [ -z "$_left" ] && break
    sleep 0.1; _w=$((_w - 1))
  done
  for p in $_k; do kill -KILL "$p" 2>/dev/null; done
  _d=$(domids | tr '\n' ' ')
  for d in $_d; do xl destroy "$d" > /dev/null 2>&1; done
  [ -n "$_names$_d" ] && info "cleanup after $1: killed [${_names# }] destroyed domains [${_d% }]"
  kernel_news "$1"
  return 0
}

# what a scenario that timed out was doing: the processes it started, the
# domains, the last of domud's log; in the FAIL line (the CI table shows it)
stuck_report() {
  snapshot > /tmp/e2e-now
  _r="running:"
  while read -r p; do
    grep -qx "$p" /tmp/e2e-before && continue
    _c=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | head -c 120) || continue
    _r="$_r [$p $_c]"
    info "timeout: still running: $p $_c"
  done < /tmp/e2e-now
  _r="$_r; domains: $(timeout 10 xl list 2>/dev/null | awk 'NR > 1 {printf "%s(%s %s) ", $1, $2, $6}')"
  f=/tmp/domud.log   # scenarios/lib/domud.sh's DOMUD_LOG
  if [ -f "$f" ]; then
    tail -n 25 "$f" | while IFS= read -r l; do info "timeout: domud.log: $l"; done
    _r="$_r; domud.log ends: $(tail -n 4 "$f" | tr '\n' '|' | head -c 500)"
  fi
  printf '%s' "$_r" | head -c 1500 > /tmp/e2e-stuck.txt
}

run_suites() { # FILE: the suites it lists, one after the other
  while read -r suite; do
    [ -n "$suite" ] || continue
    sfile=/e2e/scenarios/$suite.sh
    limit=$(sed -n 's/^# *e2e-timeout: *\([0-9]*\).*/\1/p' "$sfile" | head -1)
    limit=${limit:-$E2E_SUITE_TIMEOUT}
    snapshot > /tmp/e2e-before
    : > "$E2E_RESULTS"
    info "suite $suite: start (limit ${limit}s)"
    t0=$(up)
    # shellcheck disable=SC1090,SC2034  # the scenario is only known at run time
    ( E2E_SUITE=$suite; cd /tmp && . "$sfile" ) &
    spid=$!
    n=$((limit * 2)); timed_out=0
    while kill -0 "$spid" 2>/dev/null; do
      # a finished subshell stays a zombie until waited for: check its state
      st=$(awk '{print $3}' "/proc/$spid/stat" 2>/dev/null)
      [ "$st" = Z ] && break
      if [ "$n" -le 0 ]; then timed_out=1; stuck_report; kill -KILL "$spid" 2>/dev/null; break; fi
      sleep 0.5; n=$((n - 1))
    done
    wait "$spid"; rc=$?
    if [ "$timed_out" = 1 ]; then
      fail "$suite/timeout" "scenario still running after ${limit}s; $(cat /tmp/e2e-stuck.txt)"
    elif [ "$rc" != 0 ]; then
      fail "$suite/exit" "scenario exited with status $rc"
    elif ! grep -q . "$E2E_RESULTS"; then
      fail "$suite/no-result" "scenario reported neither pass nor fail"
    fi
    cleanup_after "$suite"
    info "suite $suite: done in $(dt "$t0" "$(up)")s"
  done < "$1"
}

# ---- under systemd: e2e.service runs `/init --systemd` ---------------------------
# (the suites that say "# e2e-init: systemd": the /init below, PID 1, ran the others,
# then exec'd the manager; xenstored, xenconsoled and the bridge are still there)
if [ "${1:-}" = --systemd ]; then
  info "systemd $(systemctl --version 2>/dev/null | head -n 1 | cut -d' ' -f2) is PID 1 ($(tr '\0' ' ' < /proc/1/cmdline)), uptime=$(up)"
  kernel_news systemd
  run_suites /e2e/suites.systemd
  echo "E2E-DONE uptime=$(up)"
  sync
  systemctl --no-block poweroff
  exit 0
fi

SHELL_AT_END=$(param e2e.shell 0)
PERSIST=$(param e2e.persist 0)
E2E_BOOT=$(param e2e.boot 1)
E2E_BOOTS=$(param e2e.boots 1)
export E2E_BOOT E2E_BOOTS

info "dom0 init uptime=$(up) kernel=$(uname -r) arch=$E2E_ARCH$([ "$PERSIST" = 1 ] && echo " boot=$E2E_BOOT/$E2E_BOOTS")"

# ---- directories the Xen tools and domud expect ------------------------------
mkdir -p /run/xen /run/xenstored /run/xen-hotplug /var/lib/xen /var/log/xen/console \
         /var/lock /var/lib/xenstored /etc/xen/auto \
         /etc/domud /run/domud /var/lib/domud /var/log/domud
[ -e /var/run ] || ln -s /run /var/run

# ---- kernel modules -------------------------------------------------------------
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-blkback loop \
         bridge br_netfilter veth tun dummy \
         nf_conntrack nf_nat x_tables ip_tables iptable_filter iptable_nat iptable_mangle \
         xt_nat xt_MASQUERADE xt_physdev xt_tcpudp xt_conntrack xt_addrtype xt_comment xt_state \
         xt_multiport xt_mark nf_tables nft_compat nft_chain_nat nft_masq; do
  modprobe "$m" || info "modprobe $m failed"
done
# bridged guest traffic should not go through iptables (br_netfilter defaults to 1)
for f in /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables; do
  [ -w "$f" ] && echo 0 > "$f"
done

# ---- the board's persistent disk (a suite with "# e2e-boots: N") ------------------
# /dev/vda: virtio-blk on PCI, ext4 made by run.sh; a boot after a power cut replays
# its journal at mount. domud's state directory is a bind mount of a directory on it
# (the same path for domud, no symlink); the test guest's images stay in the
# initramfs, bound back over /var/lib/domud/images/busybox.
persist_disk() {
  for m in virtio_pci virtio_blk ext4; do modprobe "$m" || info "modprobe $m failed"; done
  if ! wait_for 10 test -b /dev/vda; then
    fail e2e/persist-disk "no /dev/vda (virtio-blk) after 10 s"; return 1
  fi
  mkdir -p /persist
  if ! mount -t ext4 /dev/vda /persist; then
    fail e2e/persist-disk "mount -t ext4 /dev/vda /persist failed"; return 1
  fi
  mkdir -p /persist/var-lib-domud /e2e/guest-images
  mv /var/lib/domud/images/busybox /e2e/guest-images/busybox
  if ! { mount -o bind /persist/var-lib-domud /var/lib/domud &&
         mkdir -p /var/lib/domud/images/busybox &&
         mount -o bind /e2e/guest-images/busybox /var/lib/domud/images/busybox; }; then
    fail e2e/persist-disk "bind mounts of /var/lib/domud failed"; return 1
  fi
  info "persist: /dev/vda (ext4, $(df -k /persist | awk 'NR==2{print int($4 / 1024)}') MiB free$(dmesg | grep -q 'EXT4-fs (vda): recovery complete' && echo ', its journal replayed')) on /persist, /var/lib/domud bound to /persist/var-lib-domud, boot $E2E_BOOT of $E2E_BOOTS"
}
[ "$PERSIST" = 1 ] && persist_disk

mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || fail e2e/dom0-xenfs
grep -q control_d /proc/xen/capabilities 2>/dev/null || fail e2e/dom0-control-domain "capabilities: $(cat /proc/xen/capabilities 2>/dev/null)"

# ---- xenstored, xen-init-dom0, xenconsoled (what Debian's /etc/init.d/xen does) --
export XENSTORED_ROOTDIR=/run/xenstored
t=$(up)
xenstored --pid-file /run/xenstore.pid
wait_for 30 xenstore-read -s / >/dev/null 2>&1 || fail e2e/dom0-xenstored
info "xenstored up in $(dt "$t" "$(up)")s"
xen-init-dom0 || fail e2e/dom0-xen-init-dom0
xenconsoled --pid-file /run/xenconsoled.pid --log=none || fail e2e/dom0-xenconsoled
wait_for 10 test -s /run/xenconsoled.pid || fail e2e/dom0-xenconsoled-pid

# ---- bridge xenbr0 for guests with [net] bridge=xenbr0 ---------------------------
# Nothing leaves the emulated machine: QEMU has no NIC.
{ $IP link add xenbr0 type bridge && $IP addr add 10.99.0.1/24 dev xenbr0 && $IP link set xenbr0 up
  $IP link set lo up; } || fail e2e/dom0-bridge
echo 1 > /proc/sys/net/ipv4/ip_forward

info "xen $(xl info 2>/dev/null | awk '/^xen_version/{print $3}') free_memory=$(xl info 2>/dev/null | awk '/^free_memory/{print $3}')MiB guest=$E2E_GUEST_TYPE"
[ -s /e2e/bins ] && info "binaries in /usr/sbin: $(tr '\n' ' ' < /e2e/bins)"
echo "E2E-READY uptime=$(up)"

# ---- scenarios ------------------------------------------------------------------
# the suites that need systemd as init run after the others, under it (see above)
: > /tmp/suites.plain; : > /e2e/suites.systemd
while read -r suite; do
  [ -n "$suite" ] || continue
  if grep -q '^# *e2e-init: *systemd' "/e2e/scenarios/$suite.sh"; then
    echo "$suite" >> /e2e/suites.systemd
  else
    echo "$suite" >> /tmp/suites.plain
  fi
done < /e2e/suites
kernel_news boot
run_suites /tmp/suites.plain

if [ -s /e2e/suites.systemd ] && [ "$SHELL_AT_END" != 1 ]; then
  if [ -x /lib/systemd/systemd ]; then
    info "exec /lib/systemd/systemd as PID 1 for: $(tr '\n' ' ' < /e2e/suites.systemd)"
    exec /lib/systemd/systemd
  fi
  while read -r suite; do
    fail "$suite/no-systemd" "no /lib/systemd/systemd in dom0 (tests/e2e/run.sh fetch, then build)"
  done < /e2e/suites.systemd
fi

echo "E2E-DONE uptime=$(up)"
if [ "$SHELL_AT_END" = 1 ]; then
  echo "dom0 shell: xl, xenstore-*, our binaries in /usr/sbin, /e2e/lib.sh (. /e2e/lib.sh)"
  exec setsid cttyhack sh
fi
sync
# the persistent disk left clean (run.sh checks it with e2fsck)
if [ "$PERSIST" = 1 ] && grep -q ' /persist ' /proc/mounts; then
  umount /var/lib/domud/images/busybox /var/lib/domud /persist || info "umount /persist failed: $(fuser -m /persist 2>&1)"
fi
poweroff -f
sleep 30
