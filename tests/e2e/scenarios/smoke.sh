# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Smoke test of the harness itself: dom0 is Xen's control domain, xenstored and
# xenconsoled answer, the bridge is up, and plain xl boots the test guest to its
# marker (the baseline that domud's own create benchmarks compare against).
# e2e-timeout: 300

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
if [ -s /e2e/bins ]; then
  while read -r b; do
    if [ -x "/usr/sbin/$b" ]; then
      info "e2e_bin $b: $(/usr/sbin/"$b" --version 2>&1 | head -n 1)"
    else
      fail "e2e/bin-$b" "not executable in dom0"
    fi
  done < /e2e/bins
fi

if s=$(xl_baseline smoke); then
  pass e2e/smoke "xl_create_to_marker=${s}s"
  bench xl_create_to_marker seconds="$s" kernel="$(basename "$E2E_KERNEL")" type="$E2E_GUEST_TYPE"
else
  fail e2e/smoke "xl create of the test guest did not reach its marker"
fi
