# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 1500
# Crashes on real Xen (issue 13, fault injection).
# fault/kill-anywhere: domud is killed (-9) at 21 points: inside a domain build,
# during a stop, inside libxl's destroy, a reload, an exec, a cp, a run from a hot-plugged disk and a
# change of a published port. After each, a new domud must adopt every DomU that
# ran (same domid, no restart), leave no half-made domain and no service stuck in
# starting/stopping, have the DOMUD rules a settled domud has for the same
# configuration, and read state.json and leases.json.
# fault/xenconsoled: xenconsoled is restarted under a memres DomU with a command in
# flight: the command fails cleanly, the channel comes back, the next exec works.
# The new xenconsoled is left running for the suites after this one. Between the
# two, an INFO line says what a quiet `exec sleep 33` (longer than the control
# socket's 30 s idle time) gets back.
. /e2e/scenarios/lib/domud.sh

# shellcheck disable=SC2034  # read by svc_ini
MEM=96
NET=10.78.0         # the network lan: 10.78.0.0/24 on cbr0 (net.sh uses dbr0)
BR=cbr0
SD=/var/lib/domud   # domud's state_dir (the default)
SVCD=$DOMUD_CONF_DIR/services.d
T0=$(up)
: > "$DOMUD_LOG"

# ---- helpers ------------------------------------------------------------------------
# one line per service, "NAME STATE DOMID RESTARTS" (DOMID - when none), from one
# `domuctl -j status` reply (retried: see jfield)
svc_table() {
  for _i in 1 2 3 4; do
    _r=$(domuctl -j status 2>/dev/null)
    case "$_r" in *'"ok":true'*'}') break ;; esac
    _r=""; sleep 0.2
  done
  [ -n "$_r" ] || return 1
  printf '%s\n' "$_r" | awk '{
    n = split($0, a, /\{"name":"/)
    for (i = 2; i <= n; i++) {
      s = a[i]; name = substr(s, 1, index(s, "\"") - 1)
      st = "?"; if (match(s, /"state":"[a-z]*"/)) st = substr(s, RSTART + 9, RLENGTH - 10)
      d = "-"; if (match(s, /"domid":[0-9]+/)) d = substr(s, RSTART + 8, RLENGTH - 8)
      r = "?"; if (match(s, /"restarts":[0-9]+/)) r = substr(s, RSTART + 11, RLENGTH - 11)
      print name, st, d, r
    }
  }'
}
# domains in `xl list` that are not a service's current domain (reads /tmp/crash-now)
xl_bad() {
  xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" {print $1, $2}' |
    while read -r _n _d; do
      awk -v n="$_n" -v d="$_d" '$1 == n && $3 == d {f = 1} END {exit !f}' /tmp/crash-now ||
        printf '%s(%s) ' "$_n" "$_d"
    done
}
# nothing on its way: no starting/stopping service, t ready (when it should be), p
# in $WANT_P (when set), every domain a service's
settled() {
  svc_table > /tmp/crash-now || return 1
  awk '$2 ~ /^(starting|stopping|waiting|backoff|\?)$/ {f = 1} END {exit f}' /tmp/crash-now || return 1
  grep -q '^t ready ' /tmp/crash-now || return 1
  grep -q '^w running ' /tmp/crash-now || return 1
  [ -z "$WANT_P" ] || grep -q "^p $WANT_P " /tmp/crash-now || return 1
  [ -z "$(xl_bad)" ]
}
settle() { # SECONDS; 2 looks a second (each costs dom0 CPU)
  _s=$(( $1 * 2 ))
  while [ "$_s" -gt 0 ]; do
    settled && return 0
    sleep 0.5; _s=$((_s - 1))
  done
  return 1
}
poll() { # SECONDS CMD...: every 0.5 s
  _p=$(( $1 * 2 )); shift
  while [ "$_p" -gt 0 ]; do
    "$@" && return 0
    sleep 0.5; _p=$((_p - 1))
  done
  return 1
}
rules_ok() { domud_rules > /tmp/crash-rules; cmp -s /tmp/crash-rules "/tmp/crash-ref-$FWD"; }
# a file domud wrote whole: {"v":1,... }
json_whole() { [ -s "$1" ] && [ "$(head -c 6 "$1")" = '{"v":1' ] && tail -c 2 "$1" | grep -q '}'; }
# the field of NAME in /tmp/crash-now: 2 state, 3 domid, 4 restarts
now_f() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' /tmp/crash-now; }
state_of() { svc_table | awk -v n="$1" '$1 == n {print $2}'; }
dfds() { for _f in /proc/"$DOMUD_PID"/fd/*; do readlink "$_f"; done; }   # what domud has open
disks_of() { xl block-list "$1" 2>/dev/null | tail -n +2 | grep -c . ; }
# a client of domud in the background; "EXIT-STATUS UPTIME-AT-EXIT" goes to
# /tmp/crash-TAG.rc
bg_client() { # TAG CMD...
  _bt=$1; shift
  rm -f "/tmp/crash-$_bt.rc"
  ( "$@" > "/tmp/crash-$_bt.out" 2> "/tmp/crash-$_bt.err"; echo "$? $(up)" > "/tmp/crash-$_bt.rc" ) &
  BG_PID=$!
}
# the guest of p answers on its console (its init is up: a PV shutdown is obeyed)
PROBE=0
p_booted() {
  _d=$(jfield p domid); [ -n "$_d" ] || return 1
  _tty=$(console_tty "$_d"); [ -n "$_tty" ] || return 1
  PROBE=$((PROBE + 1))
  for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    printf 'RUN echo PUP-%s\n' "$PROBE" > "$_tty" 2>/dev/null
    wait_for 3 grep -q "^PUP-$PROBE" /var/log/domud/p.log && return 0
  done
  return 1
}
p_up() { # p running, its guest booted
  [ "$(state_of p)" = running ] || { domuctl start p > /dev/null 2>&1; wait_up p 90; } || return 1
  p_booted
}
p_down() {
  [ "$(state_of p)" = stopped ] && return 0
  domuctl stop p > /dev/null 2>&1
  wait_state p stopped 60
}
teardown() {
  [ -n "${DOMUD_PID:-}" ] && domud_alive && domud_down 120
  /bin/ip link del "$BR" 2>/dev/null
  echo 1 > /proc/sys/net/ipv4/ip_forward
  [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables
  rm -f "$SD/leases.json" "$SD/state.json"
  iptables-legacy-save 2>/dev/null | grep -q DOMUD && info "DOMUD rules left after domud's stop: $(domud_rules | tr '\n' '|')"
  return 0
}

# ---- the configuration: t (memres), p (plain), w (on a network, a published port) ---
conf_init
rm -f "$SD/state.json" "$SD/leases.json"   # an earlier suite may have held a t
cat >> "$DOMUD_CONF_DIR/domud.conf" <<EOF
run_images = /e2e

[network:lan]
bridge = $BR
subnet = $NET.0/24
nat = yes
uplink = xenbr0
EOF
if ! AGENT_RD=$(agent_initrd /tmp/initrd-agent.img); then
  fail fault/kill-anywhere "no agent cpio in /e2e"
  exit 0
fi
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini t t-up "autostart = yes" "restart = no" "memres = yes"
svc_ini p p-up "autostart = yes" "restart = no" "stop_timeout = 20s"
FWD=8080
svc_ini w w-up "autostart = yes" "restart = no" "" "[net]" "network = lan" "forward = tcp:$FWD:80"
set_fwd() { sed -i "s/^forward = .*/forward = tcp:$1:80/" "$SVCD/w.ini"; FWD=$1; }
if ! domud -n -f "$DOMUD_CONF_DIR/domud.conf" > /tmp/crash-check.out 2>&1; then
  fail fault/kill-anywhere "domud -n: $(tr '\n' ' ' < /tmp/crash-check.out)"
  exit 0
fi
WANT_P=running
if ! domud_up || ! settle 240 || ! p_booted; then
  fail fault/kill-anywhere "the services did not come up: $(svc_table | tr '\n' ';') xl: $(xl_bad)"
  show_log 30
  teardown; exit 0
fi
info "t, p and w up in $(dt "$T0" "$(up)")s: $(tr '\n' ';' < /tmp/crash-now)"

# ---- the rules a settled domud has, for forward 8080 and for 8081 ----------------------
ref_why=""
fwd_in() { domud_rules | grep -q "dport $1 "; }
fwd_only() { fwd_in "$1" && ! fwd_in "$2"; }
poll 20 fwd_in 8080 || ref_why="$ref_why no DNAT for 8080;"
sleep 1
domud_rules > /tmp/crash-ref-8080
domuctl net --check > /tmp/crash-chk.out 2>&1 || ref_why="$ref_why net --check at start: $(tr '\n' '|' < /tmp/crash-chk.out);"
wd0=$(jfield w domid)
set_fwd 8081
domuctl reload > /dev/null 2>&1
poll 20 fwd_only 8081 8080 || ref_why="$ref_why reload to 8081 not applied;"
sleep 1
domud_rules > /tmp/crash-ref-8081
domuctl net --check > /tmp/crash-chk.out 2>&1 || ref_why="$ref_why net --check with 8081: $(tr '\n' '|' < /tmp/crash-chk.out);"
set_fwd 8080
domuctl reload > /dev/null 2>&1
poll 20 rules_ok || ref_why="$ref_why back to 8080: not the same rules as before: $(diff /tmp/crash-ref-8080 /tmp/crash-rules | grep '^[-+]-' | tr '\n' '|');"
W_RESTARTS_ON_FWD=0
[ "$(jfield w domid)" = "$wd0" ] || { W_RESTARTS_ON_FWD=1; info "a settled domud restarted w for a forward change ($wd0 -> $(jfield w domid))"; }
[ -n "$ref_why" ] && info "reference rules: $ref_why"
info "reference rules: $(grep -c '^-A' /tmp/crash-ref-8080) lines with 8080, $(grep -c '^-A' /tmp/crash-ref-8081) with 8081"
settle 30 || info "not settled after the reference rules: $(tr '\n' ';' < /tmp/crash-now)"

dd if=/dev/urandom of=/tmp/crash-cp.in bs=1k count=400 2>/dev/null

# ---- fault/kill-anywhere -------------------------------------------------------------
NPOINT=0
KA_FAILS=""       # "[#N point: why]" of every point where a check failed
CHAN=""           # points where only the first exec after the restart failed
CHAN_MSG=""       # what it said, the first time
HALF=""           # points where a half-made domain was destroyed
SUMMARY=""

kill_domud() {
  kill -KILL "$DOMUD_PID" 2>/dev/null; wait "$DOMUD_PID" 2>/dev/null
  KILLED_AT=$(up)
  MARK=$(wc -l < "$DOMUD_LOG")
  # what Xen has at the moment domud died
  AT_KILL=$(xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" {printf "%s(%s,%s) ", $1, $2, $5}')
}

# before_kill: the services as they are, for the adoption check
before_kill() { svc_table > /tmp/crash-before || cp /tmp/crash-now /tmp/crash-before; }

# after_kill LABEL EXCLUDE: restart domud and check everything; EXCLUDE is the service
# the point acted on (its domain may rightly change); sets WHY and OUTCOME
after_kill() {
  NPOINT=$((NPOINT + 1))
  _label="#$NPOINT $1"; _ex=$2
  WHY=""; CHANWHY=""; OUTCOME=""
  if ! domud_up; then
    WHY="domud did not come back"
  fi
  if ! settle 60; then
    WHY="$WHY not settled in 60 s: $(tr '\n' ';' < /tmp/crash-now) xl extra: $(xl_bad);"
  fi
  _settle_s=$(dt "$KILLED_AT" "$(up)")
  # every DomU that ran is adopted: same domid, no restart
  while read -r _n _st _d _r; do
    case "$_st" in running|ready) ;; *) continue ;; esac
    [ "$_n" = "$_ex" ] && continue
    _d2=$(now_f "$_n" 3); _r2=$(now_f "$_n" 4)
    [ "$_d2" = "$_d" ] && [ "$_r2" = "$_r" ] ||
      WHY="$WHY $_n: domain $_d restarts $_r before, $_d2 restarts $_r2 after;"
  done < /tmp/crash-before
  _bad=$(xl_bad)
  [ -z "$_bad" ] || WHY="$WHY domains not a service's: $_bad;"
  # the rules of a settled domud with this configuration
  if ! poll 15 rules_ok; then
    WHY="$WHY rules differ from the settled ones (forward $FWD): $(diff "/tmp/crash-ref-$FWD" /tmp/crash-rules | grep '^[-+][-*]' | head -n 6 | tr '\n' '|');"
  fi
  # state.json and leases.json read back
  tail -n +"$((MARK + 1))" "$DOMUD_LOG" > /tmp/crash-seg
  _sw=$(grep -E 'state: .*(ignored|corrupt)|leases: .*(not a version|corrupt|ignored)' /tmp/crash-seg | head -n 2 | tr '\n' '|')
  [ -z "$_sw" ] || WHY="$WHY $_sw;"
  json_whole "$SD/state.json" || WHY="$WHY state.json not whole: $(head -c 80 "$SD/state.json" 2>&1);"
  json_whole "$SD/leases.json" || WHY="$WHY leases.json not whole: $(head -c 80 "$SD/leases.json" 2>&1);"
  # what the new domud did with p's domain
  _hm=$(grep -o "p: domain [0-9]* was half made ([^)]*)" /tmp/crash-seg | head -n 1)
  if [ -n "$_hm" ]; then
    OUTCOME="${_hm#p: }, destroyed; p is now $(now_f p 2) $(now_f p 3)"
    HALF="$HALF $_label"
  elif grep -q "p: adopted running domain" /tmp/crash-seg; then
    OUTCOME="p adopted as domain $(grep -o 'p: adopted running domain [0-9]*' /tmp/crash-seg | grep -o '[0-9]*$'), now $(now_f p 2)"
  else
    OUTCOME="p $(now_f p 2) $(now_f p 3)"
  fi
  grep -q "p: adopted domain [0-9]* is paused" /tmp/crash-seg && OUTCOME="$OUTCOME (left paused!)"
  SETTLE_S=$_settle_s
}

report_point() { # LABEL EXTRA
  if [ -n "$CHANWHY" ]; then
    CHAN="$CHAN #$NPOINT"
    [ -n "$CHAN_MSG" ] || CHAN_MSG=$CHANWHY
  fi
  if [ -n "$WHY$CHANWHY" ]; then
    [ -z "$WHY" ] || KA_FAILS="$KA_FAILS [#$NPOINT $1:$WHY]"
    info "kill #$NPOINT $1: FAILED:$WHY$CHANWHY${2:+ ($2)}"
    info "  at the kill: $AT_KILL"
    if [ -n "$WHY" ]; then
      head -n "$MARK" "$DOMUD_LOG" | tail -n 4 | while IFS= read -r l; do info "  killed domud: $l"; done
      grep -vE 'event 11 ignored|group domud|stopped -> running' /tmp/crash-seg | tail -n 10 |
        while IFS= read -r l; do info "  new domud: $l"; done
    fi
  else
    info "kill #$NPOINT $1: ok in ${SETTLE_S}s; xl at the kill: ${AT_KILL:-none}; $OUTCOME${2:+; $2}"
  fi
}

# the memres guest answers after the restart; when it does not at first, how long
# until it does (up to 36 s), for the report
t_answers() {
  _o=$(domuctl exec -t 20 t -- echo ok 2>/tmp/crash-ans.err)
  [ "$_o" = ok ] && return 0
  _e=$(head -n 1 /tmp/crash-ans.err)
  _a0=$(up); _later="no answer in 36 s"
  for _i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    [ "$(domuctl exec -t 20 t -- echo ok 2>/dev/null)" = ok ] &&
      { _later="exec #$((_i + 1)) answered $(dt "$_a0" "$(up)")s later"; break; }
    sleep 3
  done
  CHANWHY=" the first exec after the restart: '$_o' $_e ($_later);"
}
# a client killed under: it ended, non-zero, with a message
client_check() { # TAG
  if ! wait_for 20 test -s "/tmp/crash-$1.rc"; then
    WHY="$WHY the client still waits 20 s after the kill;"
    kill "$BG_PID" 2>/dev/null
    CLIENT="hung"
  else
    _rc=$(cut -d' ' -f1 "/tmp/crash-$1.rc")
    CLIENT="client rc=$_rc '$(head -n 1 "/tmp/crash-$1.err")'"
    if [ "$_rc" = 0 ]; then
      CLIENT="client finished before the kill (rc 0)"
    elif [ ! -s "/tmp/crash-$1.err" ]; then
      WHY="$WHY client rc=$_rc without a message;"
    fi
  fi
  wait "$BG_PID" 2>/dev/null
}

pt_create() { # DELAY
  p_down || info "p did not stop before a create point: $(state_of p)"
  WANT_P=""
  before_kill
  domuctl start p > /dev/null 2>&1
  sleep "$1"
  kill_domud
  after_kill "create@$1s" p
  case "$(now_f p 2)" in running|stopped) ;; *) WHY="$WHY p is '$(now_f p 2)';" ;; esac
  report_point "create@$1s"
  SUMMARY="$SUMMARY create@$1s:$(now_f p 2)"
}

pt_stop() { # DELAY
  p_up || info "p was not up before a stop point: $(state_of p)"
  WANT_P=""
  before_kill
  domuctl stop p > /dev/null 2>&1
  [ "$1" = 0 ] || sleep "$1"
  kill_domud
  after_kill "stop@$1s" p
  # the guest may still be on its way down when the new domud adopts it
  if grep -q " p: creating" /tmp/crash-seg; then
    WHY="$WHY the stop was lost: the new domud started p again (domain $(jfield p domid)) although a person had stopped it;"
  elif ! wait_state p stopped 30; then
    WHY="$WHY p is '$(jfield p state)', not stopped;"
  fi
  report_point "stop@$1s" "p $(jfield p state), last_exit '$(jfield p last_exit)'"
}

pt_reload() { # DELAY: a service x appears or goes, SIGHUP, kill
  if [ -f "$SVCD/x.ini" ]; then rm -f "$SVCD/x.ini"; _x=0; else svc_ini x x-up "autostart = no" "restart = no"; _x=1; fi
  before_kill
  kill -HUP "$DOMUD_PID"
  [ "$1" = 0 ] || sleep "$1"
  kill_domud
  after_kill "reload@$1s" ""
  _has=0; grep -q '^x ' /tmp/crash-now && _has=1
  [ "$_has" = "$_x" ] || WHY="$WHY service x listed=$_has, its file there=$_x;"
  report_point "reload@$1s" "x $([ "$_x" = 1 ] && echo added || echo removed)"
}

pt_exec() { # DELAY
  before_kill
  bg_client exec domuctl exec -t 30 t -- sleep 3
  sleep "$1"
  kill_domud
  after_kill "exec@$1s" ""
  client_check exec
  t_answers
  report_point "exec@$1s" "$CLIENT"
}

pt_cp() { # DELAY
  before_kill
  bg_client cp domuctl cp /tmp/crash-cp.in t:/tmp/crash-cp.bin
  sleep "$1"
  kill_domud
  after_kill "cp@$1s" ""
  client_check cp
  t_answers
  # shellcheck disable=SC2016  # for the guest's shell
  _left=$(domuctl exec -t 20 --shell t -- 'for f in /tmp/crash-cp*; do [ -e "$f" ] && echo "$f $(wc -c < "$f") bytes"; done' 2>/dev/null | tr '\n' ' ')
  report_point "cp@$1s" "$CLIENT; of $(wc -c < /tmp/crash-cp.in) bytes, the guest has: ${_left:-nothing}"
}

pt_run() { # DELAY|attached[+N]
  _td=$(jfield t domid)
  before_kill
  bg_client run domuctl run -t 60 t --disk /e2e/run.img -- sleep 30
  case "$1" in
  attached*)
    wait_for 30 sh -c "[ \$(xl block-list $_td 2>/dev/null | tail -n +2 | grep -c .) -ge 1 ]" ||
      info "run point $1: the disk never showed up"
    [ "$1" = attached ] || sleep "${1#attached+}" ;;
  *) sleep "$1" ;;
  esac
  _dk=$(disks_of "$_td")
  kill_domud
  after_kill "run@$1" ""
  client_check run
  if ! poll 60 sh -c "[ \$(xl block-list $_td 2>/dev/null | tail -n +2 | grep -c .) -eq 0 ]"; then
    WHY="$WHY the run disk stayed attached: $(xl block-list "$_td" 2>&1 | tail -n +2 | tr '\n' '|');"
  fi
  t_answers
  _note=$(grep -o "a run disk xvd. was left attached: detaching it" /tmp/crash-seg | head -n 1)
  report_point "run@$1" "$CLIENT; $_dk disk(s) at the kill; ${_note:-no leftover note}"
}

# domud dies inside libxl's destroy of p, where CI once caught it: libxl has paused
# the domain and removed its vm and xenstore directories (its name), not yet its
# /libxl directory, our tag or the domain itself
pt_halfdestroy() {
  p_up || info "p was not up before the half-destroy point: $(state_of p)"
  WANT_P=""
  _pd=$(jfield p domid)
  before_kill
  kill_domud
  xl pause "$_pd"
  _vm=$(xenstore-read "/local/domain/$_pd/vm" 2>/dev/null)
  [ -z "$_vm" ] || xenstore-rm "$_vm"
  xenstore-rm "/local/domain/$_pd"
  AT_KILL=$(xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" {printf "%s(%s,%s) ", $1, $2, $5}')
  after_kill "half-destroy" p
  grep -q "domain $_pd of service p was half destroyed: destroying it" /tmp/crash-seg ||
    WHY="$WHY no word of the half-destroyed domain $_pd;"
  poll 30 sh -c "! xl list $_pd > /dev/null 2>&1" || WHY="$WHY domain $_pd is still there: $(xl list "$_pd" 2>&1 | tail -n 1);"
  report_point "half-destroy" "domain $_pd; p now $(now_f p 2) $(now_f p 3)"
}

pt_net() { # DELAY: the forward changes, SIGHUP, kill
  if [ "$FWD" = 8080 ]; then set_fwd 8081; else set_fwd 8080; fi
  before_kill
  kill -HUP "$DOMUD_PID"
  [ "$1" = 0 ] || sleep "$1"
  kill_domud
  if [ "$W_RESTARTS_ON_FWD" = 1 ]; then after_kill "net@$1s" w; else after_kill "net@$1s" ""; fi
  domuctl net --check > /tmp/crash-chk.out 2>&1 || WHY="$WHY net --check: $(grep '^  ' /tmp/crash-chk.out | head -n 4 | tr '\n' '|');"
  report_point "net@$1s" "forward now tcp:$FWD:80"
}

KA_T0=$(up)
# (under TCG a build from the ELF kernel took 0.5-1 s, "domain built in ~1000 ms"
# in the log, and a guest obeyed a PV shutdown within 0.2 s: the create and stop
# points are packed where that happens)
pt_create 0.2
pt_reload 0
pt_exec 0.3
pt_stop 0
pt_create 0.3
pt_net 0
pt_cp 0.3
pt_stop 0.1
pt_create 0.45
pt_run 0.3
pt_exec 1
pt_stop 0.2
pt_reload 0.3
pt_net 0.1
pt_cp 1.5
pt_create 0.6
pt_halfdestroy
pt_run attached
pt_exec 2
pt_net 0.4
pt_run attached+2
KA_S=$(dt "$KA_T0" "$(up)")
# what the killed domuds' commands left running in the guest
orph=$(domuctl exec -t 20 --shell t -- 'ps -o pid,args 2>/dev/null || ps' 2>/dev/null |
  grep -E 'sleep|cat' | grep -v grep | tr -s ' ' | tr '\n' ';')
info "left running in t by the killed domuds' commands: ${orph:-nothing}"
bench kill_anywhere "points=$NPOINT seconds=$KA_S"
if [ -z "$KA_FAILS$CHAN" ]; then
  pass fault/kill-anywhere "$NPOINT kills (create x4, stop x3, half-destroy x1, reload x2, exec x3, cp x2, run x3, net x3) in ${KA_S}s: every DomU adopted with its domid, nothing half-made left, rules as settled, state and leases read; half-made domains destroyed at:${HALF:- none}; p after the creates:$SUMMARY"
else
  fail fault/kill-anywhere "$NPOINT kills in ${KA_S}s; ${KA_FAILS:-adoption, domains, rules and state files right at every point;}${CHAN:+ the first exec after the restart failed at$CHAN:$CHAN_MSG} (half-made domains destroyed at:${HALF:- none})"
fi

# ---- a quiet command longer than the control socket's idle time (30 s) -----------
# (no PASS/FAIL of its own: it tells whether fault/xenconsoled's client sees
# domud's own error or a closed connection)
qt=$(up)
domuctl exec -t 60 t -- sleep 33 > /tmp/crash-q.out 2> /tmp/crash-q.err; qrc=$?
info "exec -t 60 sleep 33 (no output for 33 s): rc=$qrc after $(dt "$qt" "$(up)")s $(head -n 1 /tmp/crash-q.err)"

# ---- fault/xenconsoled: xenconsoled restarted under a memres DomU ------------------------
why=""
WANT_P=""
settle 60 || info "not settled before xenconsoled: $(tr '\n' ';' < /tmp/crash-now)"
td=$(jfield t domid)
tty0=$(console_tty "$td")
fd0=$(dfds | grep -cx "$tty0")
bg_client xc domuctl exec -t 60 t -- sleep 20
xt0=$(up)
sleep 2
oc=$(cat /run/xenconsoled.pid 2>/dev/null)
kill "$oc" 2>/dev/null
wait_for 10 sh -c "! kill -0 $oc 2>/dev/null" || kill -KILL "$oc" 2>/dev/null
rm -f /run/xenconsoled.pid
# as dom0-init.sh starts it
xenconsoled --pid-file /run/xenconsoled.pid --log=none || why="$why xenconsoled did not start again;"
wait_for 10 test -s /run/xenconsoled.pid || why="$why no new xenconsoled pid file;"
nc=$(cat /run/xenconsoled.pid 2>/dev/null)
# the harness kills what a scenario leaves running: this one stays for the next suites
[ -n "$nc" ] && echo "$nc" >> /tmp/e2e-before
wait_for 10 sh -c "[ \"\$(xenstore-read /local/domain/$td/console/tty 2>/dev/null)\" != '$tty0' ]"
tty1=$(console_tty "$td")
xr=$(up)
info "xenconsoled $oc -> $nc $(dt "$xt0" "$xr")s after the exec began; t's console tty $tty0 -> $tty1"
# the channel comes back: the agent answers a ping (up to 45 s), then an exec
pok=0
while [ "$(dt "$xr" "$(up)" | cut -d. -f1)" -lt 45 ]; do
  if domuctl -t 8 ping t > /tmp/crash-ping.out 2>&1; then pok=1; break; fi
  sleep 2
done
pt=$(dt "$xr" "$(up)")
[ $pok = 1 ] || why="$why no answer to a ping in 45 s ($(head -n 1 /tmp/crash-ping.out));"
eo=$(domuctl exec -t 15 t -- echo ok 2>/tmp/crash-eo.err); er=$?
[ $er = 0 ] && [ "$eo" = ok ] || why="$why exec echo ok: rc=$er '$eo' $(head -n 1 /tmp/crash-eo.err);"
# the command in flight: over within its timeout (60 s, domud adds 10 s of grace),
# non-zero, with a message
if wait_for 75 test -s /tmp/crash-xc.rc; then
  xrc=$(cut -d' ' -f1 /tmp/crash-xc.rc); xs=$(dt "$xt0" "$(cut -d' ' -f2 /tmp/crash-xc.rc)")
  xmsg=$(head -n 1 /tmp/crash-xc.err)
  if [ "$xrc" = 0 ]; then
    xres="the command in flight finished, rc 0, after ${xs}s"
  elif [ -s /tmp/crash-xc.err ]; then
    xres="the command in flight failed after ${xs}s: rc=$xrc '$xmsg'"
  else
    xres="the command in flight: rc=$xrc after ${xs}s, no message"; why="$why the command failed without a message;"
  fi
else
  xres="the command in flight hung"; why="$why the command was still waiting 77 s after it began (-t 60);"
  kill "$BG_PID" 2>/dev/null
fi
wait "$BG_PID" 2>/dev/null
st=$(domuctl -j status t 2>/dev/null | grep -o '"state":"[a-z]*"\|"agent_ready":[a-z]*\|"agent_unresponsive":[a-z]*' | tr '\n' ' ')
fds=$(dfds | grep '^/dev/pts/' | sort | tr '\n' ' ')
if [ -z "$why" ]; then
  pass fault/xenconsoled "xenconsoled restarted under 'exec -t 60 sleep 20': $xres; the agent answered a ping ${pt}s after the restart, exec echo ok; t: $st"
else
  fail fault/xenconsoled "$why $xres; t: $st; domud holds $fds(t's tty was $tty0, $fd0 fd on it; xenstore now says $tty1)"
  grep -E " t: " "$DOMUD_LOG" | tail -n 8 | while IFS= read -r l; do info "  domud: $l"; done
  # does a fresh domud (which opens the console anew) get the channel back?
  kill_domud
  if domud_up && wait_state t ready 60; then
    ro=$(domuctl exec -t 20 t -- echo ok 2>/tmp/crash-ro.err)
    [ "$ro" = ok ] || ro=$(sleep 3; domuctl exec -t 20 t -- echo ok 2>>/tmp/crash-ro.err)
    info "after kill -9 and restart: domud holds $(dfds | grep '^/dev/pts/' | sort | tr '\n' ' '), t $(jfield t state), exec: '$ro' $(tr '\n' ' ' < /tmp/crash-ro.err)"
  else
    info "a restarted domud did not get t ready: $(jfield t state)"
  fi
fi

teardown
info "crash: $(dt "$T0" "$(up)")s in all"
true
