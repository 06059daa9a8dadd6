# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 1200
# domud's networks on real Xen: a bridge, leases, NAT out of the uplink, published
# ports (from the wan, from Dom0, hairpin from another DomU), idempotent rules across
# kill -9 + adoption and reloads, removal of a service, drift check and repair, and
# the daemon's cleanup. domud does all of it: this script only makes a fake "wan"
# (a veth pair into a network namespace inside dom0, with Dom0's default route
# through it) and takes back what dom0-init.sh did for the other suites (ip_forward,
# bridge-nf-call-iptables).
. /e2e/scenarios/lib/domud.sh

IP=/bin/ip
NET=10.77.0            # the domud network lan: 10.77.0.0/24 on dbr0, gateway .1
GW=$NET.1
UPL=192.168.77.1       # Dom0's uplink address (wan0)
WAN=192.168.77.2       # the far end, in the namespace wan
MEM=96                 # read by svc_ini
: > "$DOMUD_LOG"

say_file() { # PREFIX FILE [N]: a file's last lines as info lines
  tail -n "${3:-20}" "$2" 2>/dev/null | while IFS= read -r l; do info "  $1: $l"; done
}
# a service's address as domud reports it (`domuctl -j net`, services array first)
net_ip() {
  domuctl -j net 2>/dev/null | grep -o "\"service\":\"$1\"[^}]*" | head -n 1 |
    sed -n 's/.*"ip":"\([0-9.]*\)".*/\1/p'
}
lease_ip() {
  grep -o "\"service\":\"$1\"[^}]*" /var/lib/domud/leases.json 2>/dev/null | head -n 1 |
    sed -n 's/.*"ip":"\([0-9.]*\)".*/\1/p'
}
# rules per chain and hooks, from a domud_rules snapshot
rule_counts() {
  printf 'dnat=%s post=%s fwd=%s hooks=%s' \
    "$(grep -c '^-A DOMUD-DNAT ' "$1")" "$(grep -c '^-A DOMUD-POSTROUTING ' "$1")" \
    "$(grep -c '^-A DOMUD-FORWARD ' "$1")" \
    "$(grep -cE '^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD) .*-j DOMUD-' "$1")"
}
has_domud_rules() { iptables-legacy-save 2>/dev/null | grep -q DOMUD; }
# back to what dom0-init.sh set up, for the suites after this one
teardown() {
  [ -n "${DOMUD_PID:-}" ] && domud_alive && domud_down 120
  [ -n "${WAN_HTTPD:-}" ] && kill "$WAN_HTTPD" 2>/dev/null
  $IP route del default via $WAN dev wan0 2>/dev/null
  $IP netns del wan 2>/dev/null; $IP link del wan0 2>/dev/null
  $IP link del dbr0 2>/dev/null
  echo 1 > /proc/sys/net/ipv4/ip_forward
  [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables
  rm -f /var/lib/domud/leases.json
  return 0
}

# ---- the starting point: nothing of domud's, forwarding off ------------------------
# dom0-init.sh set ip_forward=1 and bridge-nf-call-iptables=0 for the other suites;
# an earlier suite's domud is gone, but be sure no DOMUD chain is left.
echo 0 > /proc/sys/net/ipv4/ip_forward
[ -w /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables
if has_domud_rules; then
  info "DOMUD rules left by an earlier suite: removed"
  for h in "nat PREROUTING DOMUD-DNAT" "nat OUTPUT DOMUD-DNAT" "nat POSTROUTING DOMUD-POSTROUTING" \
           "filter FORWARD DOMUD-FORWARD"; do
    # shellcheck disable=SC2086  # three words
    set -- $h
    while iptables-legacy-save -t "$1" | grep -q "^-A $2 .*-j $3"; do
      n=$(iptables-legacy -t "$1" -S "$2" | grep -n -- "-j $3" | head -n 1 | cut -d: -f1)
      iptables-legacy -t "$1" -D "$2" $((n - 1)) || break
    done
  done
  for c in "nat DOMUD-DNAT" "nat DOMUD-POSTROUTING" "filter DOMUD-FORWARD"; do
    # shellcheck disable=SC2086  # two words
    set -- $c
    iptables-legacy -t "$1" -F "$2" 2>/dev/null; iptables-legacy -t "$1" -X "$2" 2>/dev/null
  done
fi
$IP link del dbr0 2>/dev/null
rm -f /var/lib/domud/leases.json /var/lib/domud/state.json

# ---- the wan: a veth pair into the namespace wan; Dom0's default route goes there ----
$IP netns del wan 2>/dev/null; $IP link del wan0 2>/dev/null
if ! { $IP netns add wan && $IP link add wan0 type veth peer name wanpeer &&
       $IP link set wanpeer netns wan && $IP addr add $UPL/24 dev wan0 && $IP link set wan0 up &&
       $IP netns exec wan $IP addr add $WAN/24 dev wanpeer &&
       $IP netns exec wan $IP link set wanpeer up && $IP netns exec wan $IP link set lo up &&
       $IP route replace default via $WAN dev wan0; }; then
  fail net/setup "could not make the wan namespace"
  teardown; exit 0
fi
# a web server on the wan that tells who connected (CGI REMOTE_ADDR) and logs it (-vv)
rm -rf /tmp/wanwww; mkdir -p /tmp/wanwww/cgi-bin
echo "WAN" > /tmp/wanwww/index.html
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "PEER $REMOTE_ADDR"\n' > /tmp/wanwww/cgi-bin/peer
chmod 755 /tmp/wanwww/cgi-bin/peer
: > /tmp/wan-httpd.log
$IP netns exec wan httpd -f -vv -p 80 -h /tmp/wanwww 2>> /tmp/wan-httpd.log &
WAN_HTTPD=$!
# the wan has no route back to the DomUs' subnet: only NAT can get answers back
if ! wait_for 10 sh -c "$IP netns exec wan wget -q -O - http://$WAN/ 2>/dev/null | grep -q WAN"; then
  fail net/setup "the wan's web server does not answer"
fi
if has_domud_rules || [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 0 ] || $IP link show dbr0 > /dev/null 2>&1; then
  fail net/setup "not a clean start: ip_forward=$(cat /proc/sys/net/ipv4/ip_forward) $(iptables-legacy-save | grep -c DOMUD) DOMUD lines"
fi

# ---- domud: one network, two services on it -------------------------------------
conf_init
cat >> "$DOMUD_CONF_DIR/domud.conf" <<EOF
[network:lan]
bridge = dbr0
subnet = $NET.0/24
gateway = $GW
nat = yes
uplink = auto
dns = $GW
EOF
CMDX="e2e.www=web" svc_ini web web-up "autostart = yes" "restart = no" \
  "" "[net]" "network = lan" "ip = auto" "mac = auto" "forward = tcp:8080:80, udp:5353:53"
CMDX="e2e.www=cli" svc_ini cli cli-up "autostart = yes" "restart = no" \
  "" "[net]" "network = lan" "ip = auto"
if ! domud -n -f "$DOMUD_CONF_DIR/domud.conf" > /tmp/check.out 2>&1; then
  fail net/config "domud -n: $(tr '\n' ' ' < /tmp/check.out)"
fi
t0=$(up)
if ! domud_up; then
  fail net/lease "domud did not start"
  teardown; exit 0
fi
if ! { wait_up web 180 && wait_up cli 180 &&
       wait_for 90 console_has web "DOMU-MARKER web-up" && wait_for 90 console_has cli "DOMU-MARKER cli-up"; }; then
  fail net/lease "web=$(jfield web state) cli=$(jfield cli state)"
  show_log 40
  say_file web.log /var/log/domud/web.log 10
  say_file cli.log /var/log/domud/cli.log 10
  teardown; exit 0
fi
info "both up in $(dt "$t0" "$(up)")s"
dw=$(jfield web domid); dc=$(jfield cli domid)

# right after the start: does domud agree with the kernel? (net/drift reports it)
domuctl net --check > /tmp/chk-start.out 2>&1; rc_start=$?
iptables-legacy -S FORWARD > /tmp/fwd-start.out 2>&1
domuctl net 2>&1 | while IFS= read -r l; do info "  domuctl net: $l"; done
info "filter FORWARD with both vifs up: $(grep -- '^-A' /tmp/fwd-start.out | tr '\n' '|')"

# ---- net/lease: leased addresses in the guests; ping the gateway and each other ----
ipw=$(net_ip web); ipc=$(net_ip cli)
lw=$(lease_ip web); lc=$(lease_ip cli)
xw=$(xenstore-read "/local/domain/$dw/domud/net/ip" 2>/dev/null)
xg=$(xenstore-read "/local/domain/$dw/domud/net/gateway" 2>/dev/null)
brw=$(sed -n 's/^INTERFACE=//p' "/sys/class/net/vif$dw.0/master/uevent" 2>/dev/null)
brc=$(sed -n 's/^INTERFACE=//p' "/sys/class/net/vif$dc.0/master/uevent" 2>/dev/null)
fwd=$(cat /proc/sys/net/ipv4/ip_forward)
bnf=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)
why=""
case "$ipw" in "$NET".[0-9]*) ;; *) why="$why web ip '$ipw';" ;; esac
case "$ipc" in "$NET".[0-9]*) ;; *) why="$why cli ip '$ipc';" ;; esac
[ "$ipw" != "$ipc" ] && [ "$ipw" != "$GW" ] && [ "$ipc" != "$GW" ] || why="$why addresses $ipw $ipc;"
[ "$lw" = "$ipw" ] && [ "$lc" = "$ipc" ] || why="$why leases.json $lw $lc;"
[ "$xw" = "$ipw/24" ] && [ "$xg" = "$GW" ] || why="$why xenstore ip=$xw gw=$xg;"
console_has web "DOMU-NET eth0 up $ipw/24 gw=$GW" || why="$why web console: $(grep DOMU-NET /var/log/domud/web.log | tr -d '\r');"
console_has cli "DOMU-NET eth0 up $ipc/24 gw=$GW" || why="$why cli console: $(grep DOMU-NET /var/log/domud/cli.log | tr -d '\r');"
[ "$brw" = dbr0 ] && [ "$brc" = dbr0 ] || why="$why vifs on '$brw' '$brc';"
$IP -4 addr show dbr0 2>/dev/null | grep -q "inet $GW/24" || why="$why dbr0 lacks $GW/24;"
[ "$fwd" = 1 ] || why="$why ip_forward=$fwd;"
svc_run web ping-gw "ping -c 3 -W 3 $GW" 30; r1=$?
svc_run web ping-cli "ping -c 3 -W 3 $ipc" 30; r2=$?
svc_run cli ping-web "ping -c 3 -W 3 $ipw" 30; r3=$?
[ $r1 = 0 ] || why="$why web->gw rc=$r1 $(tr '\n' '|' < /tmp/run-ping-gw.out);"
[ $r2 = 0 ] || why="$why web->cli rc=$r2 $(tr '\n' '|' < /tmp/run-ping-cli.out);"
[ $r3 = 0 ] || why="$why cli->web rc=$r3 $(tr '\n' '|' < /tmp/run-ping-web.out);"
if [ -z "$why" ]; then
  pass net/lease "web=$ipw cli=$ipc on dbr0 (gw $GW, domud set ip_forward=1, bridge-nf-call-iptables=$bnf); pings web->gw, web->cli, cli->web ok"
else
  fail net/lease "$why"
  show_log 30
fi

# ---- net/nat: a DomU reaches the wan, which sees Dom0's uplink address --------------
svc_run cli nat-http "timeout 20 wget -q -O - http://$WAN/cgi-bin/peer" 40; r1=$?
# busybox httpd listens on IPv6 too: IPv4 peers are shown as [::ffff:A.B.C.D]
v4() { sed 's/^\[::ffff:\([0-9.]*\)\].*/\1/; s/^\([0-9.]*\):.*/\1/'; }
peer=$(sed -n 's/^PEER //p' /tmp/run-nat-http.out | v4)
svc_run cli nat-ping "ping -c 3 -W 3 $WAN" 30; r2=$?
noroute=0
$IP netns exec wan $IP route get "$ipc" > /dev/null 2>&1 || noroute=1
seen=$(grep 'url:/cgi-bin/peer' /tmp/wan-httpd.log | tail -n 1 | v4)
masq=$(iptables-legacy -t nat -L DOMUD-POSTROUTING -v -n -x 2>/dev/null | awk '/MASQUERADE/ && /wan0/ {print $1}')
if [ $r1 = 0 ] && [ "$peer" = "$UPL" ] && [ $r2 = 0 ] && [ $noroute = 1 ] &&
   [ "$seen" = "$UPL" ]; then
  pass net/nat "cli ($ipc) -> wan $WAN: the wan's httpd saw the peer $seen (Dom0's wan0), ping ok; uplink $(domuctl -j net | sed -n 's/.*"uplink_now":"\([^"]*\)".*/\1/p'), masquerade packets=$masq"
else
  fail net/nat "http rc=$r1 peer='$peer' ping rc=$r2 wan-noroute=$noroute seen='$seen' out: $(tr '\n' '|' < /tmp/run-nat-http.out)"
  say_file wan-httpd /tmp/wan-httpd.log 5
  iptables-legacy-save -t nat | while IFS= read -r l; do info "  nat: $l"; done
fi

# ---- net/forward: tcp:8080:80 from the wan, from Dom0, and hairpin from the other DomU ----
why=""
a=$($IP netns exec wan timeout 20 wget -q -O - "http://$UPL:8080/" 2>&1)
[ "$a" = "WWW web" ] || why="$why wan->$UPL:8080 '$a';"
b=$(timeout 20 wget -q -O - "http://$UPL:8080/" 2>&1)
[ "$b" = "WWW web" ] || why="$why dom0->$UPL:8080 '$b';"
svc_run cli hp-gw "timeout 20 wget -q -O - http://$GW:8080/" 40; r1=$?
grep -qx "WWW web" /tmp/run-hp-gw.out || why="$why cli->$GW:8080 rc=$r1 '$(tr '\n' '|' < /tmp/run-hp-gw.out)';"
svc_run cli hp-upl "timeout 20 wget -q -O - http://$UPL:8080/" 40; r2=$?
grep -qx "WWW web" /tmp/run-hp-upl.out || why="$why cli->$UPL:8080 rc=$r2 '$(tr '\n' '|' < /tmp/run-hp-upl.out)';"
# loopback is not published (route_localnet): 127.0.0.1:8080 must not reach the guest
c=$(timeout 10 wget -q -O - "http://127.0.0.1:8080/" 2>&1)
[ "$c" != "WWW web" ] || why="$why 127.0.0.1:8080 reached the guest;"
if [ -z "$why" ]; then
  pass net/forward "tcp:8080 -> $ipw:80 answered 'WWW web' from the wan, from Dom0 ($UPL) and hairpin from cli ($GW and $UPL)"
else
  fail net/forward "$why"
  iptables-legacy-save | grep -E '^\*|DOMUD|^-A FORWARD' | while IFS= read -r l; do info "  rules: $l"; done
fi

# ---- net/idempotent: kill -9 + adoption, three reloads: the same rules ---------------
domud_rules > /tmp/rules0
c0=$(rule_counts /tmp/rules0)
rules_now() { domud_rules > "$1"; cmp -s /tmp/rules0 "$1"; }
why=""
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
# the killed domud left its rules in place: empty its chains, so that only
# what the new one applies can match the rules from before
# (the tables as iptables-legacy-save lists them: naming another table to
# iptables loads it, and it would then show in the save)
iptables-legacy-save 2>/dev/null | awk '/^\*/ { t = substr($0, 2) } /^:DOMUD/ { print t, substr($1, 2) }' > /tmp/ourchains
while read -r t c; do
  iptables-legacy -t "$t" -F "$c" || why="$why could not flush $t $c;"
done < /tmp/ourchains
[ -s /tmp/ourchains ] || why="$why no DOMUD chain to flush;"
grep -q '^-A DOMUD' /tmp/rules0 || why="$why no rule in a DOMUD chain before the kill;"
domud_rules | grep -q '^-A DOMUD' && why="$why rules left in the DOMUD chains after the flush;"
if domud_up && wait_up web 60 && wait_up cli 60; then
  # the rules are applied before the control socket answers (a busy xtables
  # lock retries in 2 s): wait for them, bounded
  wait_for 30 rules_now /tmp/rules1 ||
    why="$why after adoption: $(rule_counts /tmp/rules1) vs $c0 $(diff /tmp/rules0 /tmp/rules1 | grep -E '^([-+]|[<>] )[-*:]' | grep -vE '^(---|[+]{3}) ' | head -n 4 | tr '\n' '|');"
  [ "$(jfield web domid)" = "$dw" ] && [ "$(jfield cli domid)" = "$dc" ] || why="$why domids changed;"
  for i in 1 2 3; do
    domuctl reload > /tmp/reload.out 2>&1 || why="$why reload $i: $(tr '\n' ' ' < /tmp/reload.out);"
  done
  # a reload's rules are applied in the loop turn that answered it: the
  # next request is answered after them
  domuctl ping > /dev/null 2>&1 || why="$why no ping after the reloads;"
  domud_rules > /tmp/rules2
  cmp -s /tmp/rules0 /tmp/rules2 || why="$why after 3 reloads: $(rule_counts /tmp/rules2) vs $c0 $(diff /tmp/rules0 /tmp/rules2 | grep -E '^([-+]|[<>] )[-*:]' | grep -vE '^(---|[+]{3}) ' | head -n 4 | tr '\n' '|');"
else
  why="no adoption: web=$(jfield web state) cli=$(jfield cli state)"
fi
if [ -z "$why" ]; then
  pass net/idempotent "$c0 before, after kill -9 + restart, after 3 reloads; domids $dw $dc kept"
else
  fail net/idempotent "$why"
  show_log 20
fi

# ---- net/drift: rules deleted by hand are reported and repaired -----------------
if [ $rc_start != 0 ]; then
  info "net --check right after the start: rc=$rc_start"
  say_file check-start /tmp/chk-start.out 12
  say_file "filter FORWARD at start" /tmp/fwd-start.out 12
fi
domuctl net --check > /tmp/chk0.out 2>&1; rc0=$?
if [ $rc0 != 0 ]; then
  info "net --check before any change: rc=$rc0"
  say_file check0 /tmp/chk0.out 12
  iptables-legacy -S FORWARD | while IFS= read -r l; do info "  filter: $l"; done
fi
why=""
[ $rc_start = 0 ] || why="$why --check right after the start: rc=$rc_start $(grep '^  ' /tmp/chk-start.out | tr '\n' '|');"
[ $rc0 = 0 ] || why="$why --check before the deletion: rc=$rc0;"
dnat1=$(iptables-legacy -t nat -S DOMUD-DNAT | sed -n 2p)
iptables-legacy -t nat -D DOMUD-DNAT 1 || why="$why could not delete DNAT rule 1;"
iptables-legacy -D FORWARD -j DOMUD-FORWARD || why="$why could not delete the FORWARD hook;"
domuctl net --check > /tmp/chk1.out 2>&1; rc1=$?
[ $rc1 = 1 ] || why="$why check rc=$rc1;"
grep -q "missing: -A DOMUD-DNAT .*--dport 8080 .*DNAT --to-destination $ipw:80" /tmp/chk1.out ||
  why="$why no 'missing' DNAT line;"
grep -q "FORWARD" /tmp/chk1.out || why="$why FORWARD hook not reported;"
domuctl net --fix > /tmp/fix.out 2>&1; rcf=$?
[ $rcf = 0 ] || why="$why fix rc=$rcf;"
domuctl net --check > /tmp/chk2.out 2>&1; rc2=$?
[ $rc2 = 0 ] || why="$why check after fix rc=$rc2;"
domud_rules > /tmp/rules3
cmp -s /tmp/rules0 /tmp/rules3 || why="$why after fix: $(rule_counts /tmp/rules3) vs $c0 $(diff /tmp/rules0 /tmp/rules3 | grep -E '^([-+]|[<>] )[-*:]' | grep -vE '^(---|[+]{3}) ' | head -n 4 | tr '\n' '|');"
b=$(timeout 20 wget -q -O - "http://$UPL:8080/" 2>&1)
[ "$b" = "WWW web" ] || why="$why forward after fix '$b';"
if [ -z "$why" ]; then
  pass net/drift "deleted '$dnat1' and the FORWARD hook: --check rc=1 ($(grep -c '^  ' /tmp/chk1.out) differences), --fix rc=0, --check rc=0, port 8080 answers again"
else
  fail net/drift "$why"
  say_file check1 /tmp/chk1.out 12
  say_file fix /tmp/fix.out 12
  say_file check2 /tmp/chk2.out 12
fi

# ---- net/remove: a removed service loses its rules and its lease -------------------
rm -f "$DOMUD_CONF_DIR/services.d/web.ini"
domuctl reload > /tmp/reload.out 2>&1; rc=$?
gone() { ! domud_rules | grep -q "web tcp:8080:80" && ! grep -q '"service":"web"' /var/lib/domud/leases.json; }
if [ $rc = 0 ] && wait_for 60 gone; then
  domud_rules > /tmp/rules4
  if [ "$(lease_ip cli)" = "$ipc" ] && ! grep -q -- "--to-destination $ipw" /tmp/rules4 &&
     ! grep -q -- "-d $ipw/32" /tmp/rules4 && grep -q "lan: nat" /tmp/rules4; then
    wait_for 60 sh -c "! xl domid web > /dev/null 2>&1"
    pass net/remove "DNAT and FORWARD rules of web gone ($(rule_counts /tmp/rules4), was $c0), lease gone, cli keeps $ipc; web's domain $(xl domid web > /dev/null 2>&1 && echo 'still there' || echo gone)"
  else
    fail net/remove "leftovers: cli lease $(lease_ip cli); $(grep -- "$ipw" /tmp/rules4 | tr '\n' '|')"
  fi
else
  fail net/remove "reload rc=$rc $(tr '\n' ' ' < /tmp/reload.out); rules: $(domud_rules | grep web | tr '\n' '|'); leases: $(cat /var/lib/domud/leases.json)"
  show_log 20
fi

# ---- bench: create to marker with a vif (and its hotplug) and without ---------------
svc_ini bw bw-up "autostart = no" "restart = no" "" "[net]" "network = lan"
svc_ini bn bn-up "autostart = no" "restart = no"
domuctl reload > /dev/null 2>&1
wait_for 20 sh -c "domuctl -j status bw > /dev/null 2>&1 && domuctl -j status bn > /dev/null 2>&1"
ctm() { # NAME ROUND: seconds from domuctl start to the ROUNDth marker
  _t=$(up)
  domuctl start "$1" > /dev/null 2>&1
  # (each start is a new run and a new log: this one's marker)
  if wait_for 180 sh -c "grep -q 'DOMU-MARKER $1-up' /var/log/domud/$1.log 2>/dev/null"; then
    dt "$_t" "$(up)"
  else
    echo failed
  fi
  domuctl stop "$1" > /dev/null 2>&1
  wait_state "$1" stopped 60
}
bn1=$(ctm bn 1); bw1=$(ctm bw 1); bn2=$(ctm bn 2); bw2=$(ctm bw 2)
hp=$(awk -v a="$bw1" -v b="$bw2" -v c="$bn1" -v d="$bn2" 'BEGIN{ if (a+0 && b+0 && c+0 && d+0) printf "%.2f", (a+b-c-d)/2; else print "?" }')
bench vif_hotplug "create_to_marker_with_vif_s=$bw1,$bw2 without_vif_s=$bn1,$bn2 vif_share_s=$hp"

# ---- net/keep-running: a daemon stop with keep_running leaves the DomUs and their
# networking as they are; the next domud takes them over without a gap --------------
domud_rules > /tmp/rules-k0
dc0=$(jfield cli domid)
sed -i 's/^\[domud\]$/[domud]\nkeep_running = yes/' "$DOMUD_CONF_DIR/domud.conf"
domuctl reload > /dev/null 2>&1
why=""
if domud_down 120; then
  domud_rules > /tmp/rules-k1
  cmp -s /tmp/rules-k0 /tmp/rules-k1 || why="$why rules changed while domud was down: $(diff /tmp/rules-k0 /tmp/rules-k1 | tr '\n' '|');"
  xl list "$dc0" > /dev/null 2>&1 || why="$why cli's domain $dc0 did not stay;"
  if domud_up && wait_up cli 60; then
    domud_rules > /tmp/rules-k2
    cmp -s /tmp/rules-k0 /tmp/rules-k2 || why="$why rules after the takeover differ: $(diff /tmp/rules-k0 /tmp/rules-k2 | tr '\n' '|');"
    [ "$(jfield cli domid)" = "$dc0" ] || why="$why cli is domain $(jfield cli domid), not $dc0;"
  else
    why="$why domud did not take cli over;"
  fi
else
  why="domud did not stop with keep_running;"
fi
if [ -z "$why" ]; then
  pass net/keep-running "SIGTERM with keep_running: cli (domain $dc0) and its $(grep -c . /tmp/rules-k0) rule lines stayed; the next domud took both over unchanged"
else
  fail net/keep-running "$why"
  show_log 20
fi
sed -i '/^keep_running = yes$/d' "$DOMUD_CONF_DIR/domud.conf"
domuctl reload > /dev/null 2>&1

# ---- net/stop: on SIGTERM domud removes its chains and hooks -----------------------
if domud_down 120 && ! has_domud_rules && [ -z "$(domids)" ]; then
  pass net/stop "no DOMUD chain or hook left after SIGTERM"
else
  fail net/stop "left: $(iptables-legacy-save | grep -c DOMUD) DOMUD lines, domains: $(domids | tr '\n' ' ')"
  show_log 20
fi

grep -E "warn|error|fail|drift|differences" "$DOMUD_LOG" | head -n 12 | while IFS= read -r l; do info "  domud: $l"; done
teardown
true
