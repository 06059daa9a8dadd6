# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# `make demo`: domud on the example configuration from config/ (installed
# as /etc/domud), as a newcomer would run it on a device.
. /e2e/scenarios/lib/domud.sh

show() { while IFS= read -r l; do info "  $l"; done; }

info "== domud -n -f /etc/domud/domud.conf"
domud -n -f /etc/domud/domud.conf 2>&1 | show
info "== domud -d (foreground, log in $DOMUD_LOG)"
domud -d -f /etc/domud/domud.conf > "$DOMUD_LOG" 2>&1 &
DOMUD_PID=$!
if ! wait_for 20 domuctl -t 2 ping > /dev/null 2>&1; then
  fail demo/domud "domud did not answer"; show_log 20; exit 0
fi
names=$(ls /etc/domud/services.d | sed -n 's/\.ini$//p')
ok=1
for n in $names; do
  wait_state "$n" running 180 || ok=0
done
sleep 10   # let the guests print something
info "== domuctl list"
domuctl list 2>&1 | show
info "== domuctl net"
domuctl net 2>&1 | show
for n in $names; do
  info "== domuctl status $n"
  domuctl status "$n" 2>&1 | show
  info "== domuctl logs -n 8 $n"
  domuctl logs -n 8 "$n" 2>&1 | show
done
if [ $ok = 1 ]; then
  pass demo/services-running "$(echo $names)"
else
  fail demo/services-running "$(domuctl list 2>&1 | tr '\n' '|')"
  show_log 20
fi
info "== SIGTERM: domud stops the services in reverse order and exits"
if domud_down 120 && [ -z "$(domids)" ]; then
  pass demo/shutdown
else
  fail demo/shutdown "domains left: $(domids | tr '\n' ' ')"
fi
grep -E "stopped|running as" "$DOMUD_LOG" | show
true
