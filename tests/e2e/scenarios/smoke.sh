# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Smoke test of the harness itself, the first suite of make test's boot: dom0
# is Xen's control domain, xenstored and xenconsoled answer, the bridge is up,
# every binary loads. (Plain xl booting the test guest is what lifecycle's and
# bench's xl baselines do; guest.sh checks the guest's behaviours under xl.)
# e2e-timeout: 120

if grep -q control_d /proc/xen/capabilities && xl info > /tmp/xlinfo 2>&1; then
  pass e2e/dom0-control "xen=$(awk '/^xen_version/{print $3}' /tmp/xlinfo) caps=$(awk '/^xen_caps/{$1=$2=""; print}' /tmp/xlinfo | tr -s ' ' | sed 's/^ //; s/ /+/g')"
else
  fail e2e/dom0-control "not a Xen control domain or xl info failed"
fi

if [ -s /run/xenconsoled.pid ] && kill -0 "$(cat /run/xenconsoled.pid)" 2>/dev/null &&
   xenstore-read /local/domain/0/name > /dev/null 2>&1; then
  pass e2e/dom0-daemons
else
  fail e2e/dom0-daemons "xenstored or xenconsoled not running"
fi

if /bin/ip -4 addr show dev xenbr0 2>/dev/null | grep -q '10\.99\.0\.1/24'; then
  pass e2e/dom0-bridge
else
  fail e2e/dom0-bridge "xenbr0 has no 10.99.0.1/24"
fi

# every binary from E2E_BIN must at least load (dynamic libraries resolved)
n=0
if [ -s /e2e/bins ]; then
  while read -r b; do
    # 126/127: the loader could not run it (a library missing, a wrong arch)
    v=$(/usr/sbin/"$b" --version 2>&1 < /dev/null); rc=$?
    if [ ! -x "/usr/sbin/$b" ] || [ $rc = 126 ] || [ $rc = 127 ]; then
      fail "e2e/bin-$b" "does not run in dom0 (rc $rc): $(echo "$v" | head -n 2 | tr '\n' ' ')"
    else
      info "e2e_bin $b: $(echo "$v" | head -n 1)"
      n=$((n + 1))
    fi
  done < /e2e/bins
fi
[ "$n" -gt 0 ] && pass e2e/binaries "$n in /usr/sbin"
true
