# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 1200
# memres on real Xen (issue #7): a DomU whose /init execs domud-agent talks frames
# over its console. Readiness and after=, exec (exact bytes, in parallel, timeouts,
# under loud kernel console output), a hostile DomU flooding its console with garbage
# and fake frames (domud's memory, its answers and the console log stay bounded), and
# a stop that goes through the agent. Benchmarks: exec round trip, channel throughput
# against the plain console's. The guest I/O process (issue #26): its sandbox as
# seen from /proc, and kill -9 of it with an exec in flight (fault/io-child-killed);
# what the split costs is iosplit.sh's (make bench).
. /e2e/scenarios/lib/domud.sh

MEM=96                 # read by svc_ini
: > "$DOMUD_LOG"
HOSTILE_S=45           # how long the hostile guest floods while we measure
RSS_MAX_KIB=16384      # allowed growth of domud's RSS during the flood
LAT_MAX_MS=10000       # exec / status under the flood (TCG, one dom0 vCPU)

say_file() { # PREFIX FILE [N]: a file's last lines as info lines
  tail -n "${3:-20}" "$2" 2>/dev/null | tr -d '\r' | while IFS= read -r l; do info "  $1: $l"; done
}
# first line number of a pattern in domud's log
logline() { grep -n "$1" "$DOMUD_LOG" | head -n 1 | cut -d: -f1; }
# hex dump of a file's first bytes, on one line
hexhead() { od -An -tx1 -v "$1" 2>/dev/null | head -n "${2:-4}" | tr -s ' \n' ' '; }
fsize() { wc -c < "$1" 2>/dev/null | tr -d ' '; }
lines_in_logs() { # NAME PATTERN: count in the console log and its rotated half
  cat "/var/log/domud/$1.log.1" "/var/log/domud/$1.log" 2>/dev/null | grep -ac "$2"
}
# domud's RSS and its guest I/O process's (KiB)
rss_all() { _a=$(rss_kib "$DOMUD_PID"); _b=$(rss_kib "$(gio_pid)"); echo $(( ${_a:-0} + ${_b:-0} )); }

# ---- the services: m (memres, the agent as PID 1), dep (after = m), h (hostile) --------
conf_init
if ! AGENT_RD=$(agent_initrd /tmp/initrd-agent.img); then
  fail memres/ready "no agent cpio in /e2e (is domud-agent in E2E_BIN?)"
  exit 0
fi
# printk.devkmsg=on: /dev/kmsg writes are not rate limited (kernel-noise)
RAMDISK=$AGENT_RD CMDX="e2e.agent=1 printk.devkmsg=on" svc_ini m m-up \
  "autostart = yes" "restart = no" "memres = yes" "agent_stop_timeout = 20s"
svc_ini dep dep-up "autostart = yes" "restart = no" "after = m"
CMDX="e2e.hostile=1" svc_ini h h-up "autostart = no" "restart = no" "memres = yes" "stop_timeout = 15s"
if ! domud -n -f "$DOMUD_CONF_DIR/domud.conf" > /tmp/check.out 2>&1; then
  fail memres/ready "domud -n: $(tr '\n' ' ' < /tmp/check.out)"
  exit 0
fi
t0=$(up)
if ! domud_up; then
  fail memres/ready "domud did not start"
  exit 0
fi

# ---- memres/ready: m is ready once its agent said hello; dep starts only after ---------
if ! wait_state m ready 240; then
  fail memres/ready "m is '$(jfield m state)' (agent_ready=$(jfield m agent_ready)), not ready"
  show_log 40
  say_file m.log /var/log/domud/m.log 20
  domud_down 60
  exit 0
fi
t_ready=$(up)
st_dep_at_ready=$(jfield dep state)
wait_state dep running 240; rdep=$?
domuctl -j status m > /tmp/st-m.json 2>&1
l_ready=$(logline " m: ready: ")
l_create=$(logline " dep: creating")
l_wait=$(logline " dep: waiting for m")
agent=$(jfield m agent)
why=""
[ $rdep = 0 ] || why="$why dep is '$(jfield dep state)';"
[ -n "$l_ready" ] && [ -n "$l_create" ] && [ "$l_ready" -lt "$l_create" ] ||
  why="$why log lines: m ready #$l_ready, dep creating #$l_create;"
grep -q '"memres":true' /tmp/st-m.json && grep -q '"agent_ready":true' /tmp/st-m.json ||
  why="$why status: $(cat /tmp/st-m.json);"
case "$agent" in domud-agent*) ;; *) why="$why agent hello '$agent';" ;; esac
if [ -z "$why" ]; then
  pass memres/ready "m ready in $(dt "$t0" "$t_ready")s (agent '$agent'); dep was '$st_dep_at_ready' then, log: dep waiting #$l_wait < m ready #$l_ready < dep creating #$l_create"
else
  fail memres/ready "$why"
  show_log 40
fi

# ---- memres/exec-bytes: exact stdout and stderr, NULs, 0xff, ===END===, exit code ------
printf 'a\000b\n===END===\n\377' > /tmp/exp1.out
printf 'err\n' > /tmp/exp1.err
domuctl exec -t 60 --shell m -- 'printf "a\000b\n===END===\n\377"; printf "err\n" >&2; exit 3' \
  > /tmp/x1.out 2> /tmp/x1.err; rc1=$?
# every byte value, twice, from the same script in dom0 and in the guest
ALLB='i=0; while [ $i -lt 512 ]; do printf "\\$(printf %o $((i % 256)))"; i=$((i + 1)); done'
sh -c "$ALLB" > /tmp/exp2.out
domuctl exec -t 60 --shell m -- "$ALLB; $ALLB >&2" > /tmp/x2.out 2> /tmp/x2.err; rc2=$?
# argv without a shell: the words arrive as they are
domuctl exec -t 60 m -- printf '%s|' 'two words' '' '$HOME' '"q"' > /tmp/x3.out 2> /tmp/x3.err; rc3=$?
printf '%s|' 'two words' '' '$HOME' '"q"' > /tmp/exp3.out
why=""
[ $rc1 = 3 ] || why="$why rc=$rc1 (want 3);"
cmp -s /tmp/exp1.out /tmp/x1.out || why="$why stdout [$(hexhead /tmp/x1.out)] want [$(hexhead /tmp/exp1.out)];"
cmp -s /tmp/exp1.err /tmp/x1.err || why="$why stderr [$(hexhead /tmp/x1.err)];"
[ $rc2 = 0 ] || why="$why all-bytes rc=$rc2 $(head -c 200 /tmp/x2.err | tr -cd '[:print:]');"
[ "$(fsize /tmp/exp2.out)" = 512 ] || why="$why dom0's own all-bytes file has $(fsize /tmp/exp2.out) bytes;"
cmp -s /tmp/exp2.out /tmp/x2.out || why="$why all-bytes stdout $(fsize /tmp/x2.out) bytes: $(cmp /tmp/exp2.out /tmp/x2.out 2>&1 | head -n 1);"
cmp -s /tmp/exp2.out /tmp/x2.err || why="$why all-bytes stderr $(fsize /tmp/x2.err) bytes: $(cmp /tmp/exp2.out /tmp/x2.err 2>&1 | head -n 1);"
[ $rc3 = 0 ] && cmp -s /tmp/exp3.out /tmp/x3.out || why="$why argv rc=$rc3 '$(cat /tmp/x3.out)' $(cat /tmp/x3.err);"
if [ -z "$why" ]; then
  pass memres/exec-bytes "exit 3, stdout [$(hexhead /tmp/x1.out)] and stderr 'err' exact; bytes 0-255 twice on both stdout and stderr exact; argv words kept"
else
  fail memres/exec-bytes "$why"
  show_log 20
fi

# ---- memres/ctrl-o: domud's frames survive the guest's hvc, which takes ^O (0x0f) as
# its SysRq prefix (CONFIG_MAGIC_SYSRQ; Debian enables reboot 'b', poweroff 'o' and the
# loglevel digits): ^O and the byte after it never reach the agent unless doubled.
# Request 15 carries 0x0f in its id; an argv with ^O h in it (h: the harmless help).
lost=""; k=0
while [ $k -lt 20 ]; do
  last=$(sed -n 's/.* m: exec .*(request \([0-9]*\))$/\1/p' "$DOMUD_LOG" | tail -n 1)
  [ "${last:-0}" -ge 17 ] && break
  domuctl exec -t 3 m -- true > /dev/null 2> /tmp/id.err || lost="$lost $((last + 1)):rc=$?"
  k=$((k + 1))
done
printf 'A\017hB\017\017C' > /tmp/exp-co.out
t=$(ms)
domuctl exec -t 5 m -- printf '%s' "$(printf 'A\017hB\017\017C')" > /tmp/co.out 2> /tmp/co.err; rco=$?
co_ms=$(( $(ms) - t ))
sysrq=$(lines_in_logs m 'sysrq: ')
why=""
[ -z "$lost" ] || why="$why requests lost (id:rc):$lost;"
[ $rco = 0 ] && cmp -s /tmp/exp-co.out /tmp/co.out ||
  why="$why printf 'A^OhB^O^OC': rc=$rco after $co_ms ms, out [$(hexhead /tmp/co.out)] err '$(tr '\n' ' ' < /tmp/co.err)';"
if [ -z "$why" ]; then
  pass memres/ctrl-o "requests 4-17 answered; an argv with 0x0f bytes came back exact in $co_ms ms"
else
  fail memres/ctrl-o "$why $sysrq 'sysrq:' lines on m's console: $(cat /var/log/domud/m.log.1 /var/log/domud/m.log 2>/dev/null | grep -a 'sysrq: ' | cut -c1-40 | tr '\n' '|')"
fi

# ---- memres/exec-parallel: ten execs in flight at once ------------------------------------
t=$(ms)
pids=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  ( domuctl exec -t 60 --shell m -- "sleep 2; echo par-$i-\$\$; echo par-err-$i >&2; exit $((i + 10))" \
      > /tmp/par-$i.out 2> /tmp/par-$i.err
    echo $? > /tmp/par-$i.rc ) &
  pids="$pids $!"
done
# shellcheck disable=SC2086  # the list of pids
wait $pids
par_ms=$(( $(ms) - t ))
why=""; gpids=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  r=$(cat /tmp/par-$i.rc 2>/dev/null)
  o=$(cat /tmp/par-$i.out 2>/dev/null)
  case "$o" in
    "par-$i-"[0-9]*) gpids="$gpids ${o#par-"$i"-}" ;;
    *) why="$why #$i out='$o';" ;;
  esac
  [ "$r" = $((i + 10)) ] || why="$why #$i rc=$r;"
  [ "$(cat /tmp/par-$i.err 2>/dev/null)" = "par-err-$i" ] || why="$why #$i err='$(cat /tmp/par-$i.err 2>/dev/null)';"
done
ndistinct=$(echo "$gpids" | tr ' ' '\n' | grep . | sort -u | wc -l)
[ "$ndistinct" = 10 ] || why="$why guest pids not distinct:$gpids;"
# one after the other they would take 20 s and more
[ "$par_ms" -lt 15000 ] || why="$why took ${par_ms} ms: not in parallel?;"
if [ -z "$why" ]; then
  pass memres/exec-parallel "10 execs (sleep 2 each) in ${par_ms} ms, each its own marker, stderr and exit code 10-19; guest pids$gpids"
else
  fail memres/exec-parallel "$why (${par_ms} ms)"
  show_log 20
fi

# ---- memres/exec-timeout: killed in the guest for -t, reported as 124 -----------------------
# pids of guest processes whose command line starts with PREFIX (not this shell itself)
GUEST_PS='for p in /proc/[0-9]*; do c=$(tr "\000" " " < $p/cmdline 2>/dev/null); case "$c" in "sleep 3"[0-9]*) echo "${p#/proc/}:$c";; esac; done'
t=$(ms)
domuctl exec -t 2 m -- sleep 30 > /tmp/to1.out 2> /tmp/to1.err; rc1=$?
to1_ms=$(( $(ms) - t ))
# a shell with a child in the background: the whole process group goes
t=$(ms)
domuctl exec -t 2 --shell m -- 'sleep 31 & sleep 32; echo never' > /tmp/to2.out 2> /tmp/to2.err; rc2=$?
to2_ms=$(( $(ms) - t ))
left=""
for _k in 1 2 3 4 5; do
  domuctl exec -t 30 --shell m -- "$GUEST_PS" > /tmp/ps.out 2> /tmp/ps.err; rps=$?
  left=$(tr '\n' ' ' < /tmp/ps.out)
  [ $rps = 0 ] && [ -z "$left" ] && break
  sleep 1
done
why=""
[ $rc1 = 124 ] || why="$why sleep 30: rc=$rc1 $(tr '\n' ' ' < /tmp/to1.err);"
[ $rc2 = 124 ] || why="$why shell: rc=$rc2 $(tr '\n' ' ' < /tmp/to2.err);"
[ "$to1_ms" -lt 20000 ] && [ "$to2_ms" -lt 20000 ] || why="$why took $to1_ms / $to2_ms ms;"
grep -q never /tmp/to2.out && why="$why the shell went on after its timeout;"
[ $rps = 0 ] || why="$why ps exec rc=$rps $(tr '\n' ' ' < /tmp/ps.err);"
[ -z "$left" ] || why="$why left in the guest: $left;"
if [ -z "$why" ]; then
  pass memres/exec-timeout "exec -t 2 sleep 30: 124 after $to1_ms ms ('$(head -n 1 /tmp/to1.err)'); sh with sleep 31 & sleep 32: 124 after $to2_ms ms; no sleep 3x left in the guest"
else
  fail memres/exec-timeout "$why"
  show_log 20
fi

# ---- memres/kernel-noise: exact output while the kernel shouts on the same console ----------
noise0=$(lines_in_logs m 'noise ')
# a loop of its own session (the exec's process group is killed when its shell ends);
# 4 lines/s at KERN_EMERG (the agent's console level lets it through) for at most
# 120 s; 250 lines/s livelocked the channel (every 4 KiB frame hit, go-back-N)
# (it says it is up by a file: until then the group kill could still reach it)
domuctl exec -t 60 --shell m -- 'rm -f /tmp/stop-noise /tmp/noise-up; setsid sh -c '\''touch /tmp/noise-up; i=0; while [ ! -e /tmp/stop-noise ] && [ $i -lt 480 ]; do echo "<0>noise $i the kernel speaks loudly on hvc0" > /dev/kmsg; i=$((i + 1)); sleep 0.25; done'\'' < /dev/null > /dev/null 2>&1 & n=0; while [ ! -e /tmp/noise-up ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done; [ -e /tmp/noise-up ] && echo started' \
  > /tmp/kn0.out 2> /tmp/kn0.err; rn0=$?
sleep 2
# 384 KiB in 16 KiB pieces, with a kernel line of its own between the pieces
domuctl exec -t 120 --shell m -- 'dd if=/dev/urandom of=/tmp/big bs=64k count=6 2>/dev/null; md5sum < /tmp/big >&2; i=0; while [ $i -lt 24 ]; do dd if=/tmp/big bs=16k skip=$i count=1 2>/dev/null; echo "<0>noise inline $i" > /dev/kmsg; i=$((i + 1)); done' \
  > /tmp/kn.out 2> /tmp/kn.err; rkn=$?
domuctl exec -t 30 --shell m -- 'touch /tmp/stop-noise' > /dev/null 2>&1
want=$(awk '{print $1}' /tmp/kn.err)
got=$(md5sum < /tmp/kn.out | awk '{print $1}')
noise1=$(lines_in_logs m 'noise ')
inline=$(lines_in_logs m 'noise inline')
why=""
[ $rn0 = 0 ] && grep -q started /tmp/kn0.out || why="$why noise loop: rc=$rn0 $(tr '\n' ' ' < /tmp/kn0.err);"
[ $rkn = 0 ] || why="$why rc=$rkn;"
[ "$(fsize /tmp/kn.out)" = 393216 ] || why="$why got $(fsize /tmp/kn.out) bytes;"
[ -n "$want" ] && [ "$want" = "$got" ] || why="$why md5 guest '$want' dom0 '$got';"
[ $((noise1 - noise0)) -ge 24 ] || why="$why only $((noise1 - noise0)) noise lines reached the console log;"
if [ -z "$why" ]; then
  pass memres/kernel-noise "393216 bytes, md5 $got in the guest and in dom0; $((noise1 - noise0)) kernel lines ($inline inline) on the console meanwhile"
else
  fail memres/kernel-noise "$why"
  say_file m.log /var/log/domud/m.log 10
  show_log 20
fi

# ---- bench: exec round trip ----------------------------------------------------------------
: > /tmp/rtt
nfail=0
for i in $(seq 1 50); do
  ex_timed /dev/null /tmp/rtt.err -t 5 m -- true
  if [ "$EX_RC" = 0 ]; then echo "$EX_MS" >> /tmp/rtt; else nfail=$((nfail + 1)); fi
done
bench exec_rtt "median_ms=$(median < /tmp/rtt) min_ms=$(sort -n /tmp/rtt | head -n 1) max_ms=$(sort -n /tmp/rtt | tail -n 1) n=50 failed=$nfail"
# the same 50 on one open connection (exec --batch), and the agent's own
# ping round trip: the floor of the channel
yes true | head -n 50 | domuctl exec --batch m > /dev/null 2> /tmp/batch.err
set -- $(sed -n 's/.* each took \([0-9]*\) us at the median.*: domud \([0-9]*\) us, the guest.s spawn \([0-9]*\), run \([0-9]*\), tail \([0-9]*\) us.*/\1 \2 \3 \4 \5/p' /tmp/batch.err)
b_med=$(( ${1:-0} / 1000 )); b_domud=${2:-?}; b_spawn=${3:-?}; b_run=${4:-?}; b_tail=${5:-?}
b_n=$(grep -c '^# exit 0 in' /tmp/batch.err)
# what is ours in each: the round trip less the guest's own spawn and run
# of `true` (the agent's figures; under TCG the guest alone takes 2-4 pings)
b_ours=$(sed -n 's/^# exit 0 in \([0-9]*\) us (domud [0-9]* us; guest: spawn \([0-9]*\), run \([0-9]*\), .*/\1 \2 \3/p' /tmp/batch.err |
  awk '{print $1 - $2 - $3}' | median)
info "  $(tail -n 1 /tmp/batch.err)"
: > /tmp/prtt
for i in $(seq 1 20); do
  domuctl -j ping m 2>/dev/null | sed -n 's/.*"rtt_ms":\([0-9]*\).*/\1/p' >> /tmp/prtt
done
p_med=$(median < /tmp/prtt)
bench exec_path "fresh_domuctl_median_ms=$(median < /tmp/rtt) open_connection_median_ms=${b_med:-?} ok=$b_n/50 agent_ping_rtt_median_ms=${p_med:-?} ratio_open_vs_ping=$(awk -v a="${b_med:-0}" -v b="${p_med:-0}" 'BEGIN{if (b > 0) printf "%.2f", a/b; else print "?"}') domud_us=$b_domud guest_spawn_us=$b_spawn guest_run_us=$b_run guest_tail_us=$b_tail ours_us=${b_ours:-?} ratio_ours_vs_ping=$(awk -v a="${b_ours:-0}" -v b="${p_med:-0}" 'BEGIN{if (a > 0 && b > 0) printf "%.2f", a / 1000 / b; else print "?"}')"
# the batch is what a script uses to keep one connection: every command
# ran, each with its own exit line and domud's and the guest's timings
if [ "$b_n" = 50 ] && [ "$b_domud" != "?" ] && [ "$b_run" != "?" ]; then
  pass memres/exec-batch "50 commands on one connection, exit 0 each; ours ${b_ours:-?} us at the median"
else
  fail memres/exec-batch "$b_n of 50 exited 0; $(tail -n 2 /tmp/batch.err | tr '\n' ' ')"
fi

# the guest's own floor: its shell starting /bin/true 20 times in a row (a fork, an
# exec and a wait each, no channel), timed by the guest's clock
fl=$(domuctl exec -t 120 --shell m -- 'a=$(cut -d" " -f1 /proc/uptime); i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i + 1)); done; b=$(cut -d" " -f1 /proc/uptime); echo "$a $b"' 2>/dev/null)
bench exec_floor "guest_shell_true_ms=$(echo "$fl" | awk 'NF == 2 {v = sprintf("%.1f", ($2 - $1) * 1000 / 20)} END {print (v == "" ? "?" : v)}') $(awk -v d="$b_domud" -v s="$b_spawn" -v r="$b_run" -v t="$b_tail" 'BEGIN{if (d + 0 > 0) printf "agent_spawn_plus_run_us=%d domud_and_channel_us=%d", s + r, d - s - r - t; else print "agent_spawn_plus_run_us=? domud_and_channel_us=?"}') agent_ping_rtt_median_ms=${p_med:-?}"

# ---- bench: 1 MiB through the channel vs the plain console ----------------------------------
domuctl exec -t 120 --shell m -- 'dd if=/dev/urandom of=/tmp/b1m bs=64k count=16 2>/dev/null; md5sum < /tmp/b1m' > /tmp/b1m.md5 2>&1
ex_timed /tmp/b1m.out /tmp/b1m.err -t 120 m -- cat /tmp/b1m
ch_ok=no
[ "$EX_RC" = 0 ] && [ "$(md5sum < /tmp/b1m.out | awk '{print $1}')" = "$(awk '{print $1}' /tmp/b1m.md5)" ] && ch_ok=yes
ch_kib_s=$(awk -v ms="$EX_MS" 'BEGIN{ if (ms > 0) printf "%d", 1024 * 1000 / ms; else print "?" }')
ch_ms=$EX_MS
# raw: the non-memres guest dep cats 1 MiB of text (a hex dump) to hvc0 through its
# /init's RUN: xenconsoled -> domud -> dep.log, no frames, acks or base64
raw_kib_s="?"; raw_ms="?"
if svc_run dep mk1m "dd if=/dev/urandom bs=64k count=6 2>/dev/null | od -An -tx1 -v | head -c 1048576 > /tmp/t1m; wc -c < /tmp/t1m" 60; then
  dd_=$(jfield dep domid)
  t=$(ms)
  printf 'RUN cat /tmp/t1m; echo ">>raw1m rc=$?"\n' > "$(console_tty "$dd_")"
  if wait_for 300 grep -q ">>raw1m rc=" /var/log/domud/dep.log; then
    raw_ms=$(( $(ms) - t ))
    raw_kib_s=$(awk -v ms="$raw_ms" 'BEGIN{ if (ms > 0) printf "%d", 1024 * 1000 / ms; else print "?" }')
  fi
fi
# cp out of the guest, the same 1 MiB, beside the raw figure just taken
rm -f /tmp/out1m
t=$(ms); domuctl cp m:/tmp/b1m /tmp/out1m > /tmp/cpout.out 2>&1; rcout=$?; cpout_ms=$(( $(ms) - t ))
cpout_ok=no
[ $rcout = 0 ] && [ "$(md5sum < /tmp/out1m | awk '{print $1}')" = "$(awk '{print $1}' /tmp/b1m.md5)" ] && cpout_ok=yes
[ $cpout_ok = yes ] || info "cp 1 MiB out: rc=$rcout $(tr '\n' ' ' < /tmp/cpout.out)"
kibs() { awk -v ms="$1" 'BEGIN{ if (ms > 0) printf "%d", 1024 * 1000 / ms; else print "?" }'; }
bench channel_throughput "kib_s=$ch_kib_s raw_kib_s=$raw_kib_s cp_from_guest_kib_s=$(kibs "$cpout_ms") bytes=1048576 channel_ms=$ch_ms channel_exact=$ch_ok cp_exact=$cpout_ok raw_ms=$raw_ms cp_ms=$cpout_ms raw=plain_console_non_memres_guest_to_log"
# ---- bench: Dom0 -> guest, 1 MiB: cp into the memres guest vs the plain console's input --
# raw: dep's shell sets hvc0 raw and reads a known byte count of text that Dom0 writes to
# its console; no frames, acks or stuffing
dd if=/dev/urandom of=/tmp/in1m bs=64k count=16 2>/dev/null
t=$(ms); domuctl cp /tmp/in1m m:/tmp/in1m > /tmp/cpin.out 2>&1; rcin=$?; cpin_ms=$(( $(ms) - t ))
gsum=$(domuctl exec -t 60 m -- md5sum /tmp/in1m 2>/dev/null | awk '{print $1}')
domuctl exec -t 30 m -- rm -f /tmp/in1m /tmp/b1m > /dev/null 2>&1
cp_exact=no
[ $rcin = 0 ] && [ "$gsum" = "$(md5sum < /tmp/in1m | awk '{print $1}')" ] && cp_exact=yes
[ $cp_exact = yes ] || info "cp 1 MiB: in rc=$rcin $(tr '\n' ' ' < /tmp/cpin.out) md5 '$gsum'"
grep "stdin waited" "$DOMUD_LOG" | tail -n 1 | while IFS= read -r l; do info "  $l"; done
od -An -tx1 -v /tmp/in1m | head -c 1048576 > /tmp/rawin.txt
rawin_ms="?"
dd_=$(jfield dep domid); tty_=$(console_tty "$dd_")
if [ -n "$tty_" ]; then
  printf 'RUN s=$(stty -g); stty raw -echo; echo RAWIN-READY; head -c 1048576 > /tmp/rin; stty "$s"; echo ">>rawin $(wc -c < /tmp/rin)"\n' > "$tty_"
  if wait_for 30 grep -q RAWIN-READY /var/log/domud/dep.log; then
    t=$(ms)
    cat /tmp/rawin.txt > "$tty_"
    if wait_for 300 grep -q ">>rawin 1048576" /var/log/domud/dep.log; then
      rawin_ms=$(( $(ms) - t ))
    else
      info "raw in: $(grep -a ">>rawin" /var/log/domud/dep.log | tail -n 1)"
    fi
  fi
fi
bench channel_throughput_in "cp_to_guest_kib_s=$(kibs "$cpin_ms") raw_in_kib_s=$(kibs "$rawin_ms") ratio=$(awk -v a="$rawin_ms" -v b="$cpin_ms" 'BEGIN{if (a > 0 && b > 0) printf "%.2f", a/b; else print "?"}') bytes=1048576 exact=$cp_exact cp_in_ms=$cpin_ms raw_in_ms=$rawin_ms"
domuctl stop dep > /dev/null 2>&1
wait_state dep stopped 90 || info "dep did not stop: $(jfield dep state)"

# ---- memres/io-sandbox: the guest I/O process as /proc shows it ----------------------------
gp=$(gio_pid)
why=""
if [ -z "$gp" ] || [ ! -d "/proc/$gp" ]; then
  why="no guest I/O process: $(domuctl ping 2>&1 | tr '\n' ' ')"
else
  g_uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$gp/status")
  g_sec=$(awk '/^Seccomp:/ {print $2}' "/proc/$gp/status")
  g_nnp=$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$gp/status")
  g_cap=$(awk '/^CapEff:/ {print $2}' "/proc/$gp/status")
  g_fds=$(ls "/proc/$gp/fd" | sort -n | tr '\n' ' ')
  g_par=$(awk '/^PPid:/ {print $2}' "/proc/$gp/status")
  [ "$g_uid" = "65534 65534 65534 65534" ] || why="$why uids '$g_uid';"
  [ "$g_sec" = 2 ] || why="$why seccomp mode '$g_sec';"
  [ "$g_nnp" = 1 ] || why="$why NoNewPrivs '$g_nnp';"
  [ "$g_cap" = 0000000000000000 ] || why="$why capabilities $g_cap;"
  [ "$g_fds" = "0 1 2 3 " ] || why="$why descriptors '$g_fds';"
  [ "$g_par" = "$DOMUD_PID" ] || why="$why parent $g_par, not domud $DOMUD_PID;"
fi
if [ -z "$why" ]; then
  pass memres/io-sandbox "guest I/O process $gp: uid/gid nobody, seccomp filter, no new privileges, no capabilities, descriptors 0-3 only"
else
  fail memres/io-sandbox "$why"
fi

# ---- fault/io-child-killed: kill -9 of the guest I/O process with an exec in flight --------
gp=$(gio_pid); dm0=$(jfield m domid); rs0=$(jfield m restarts)
why=""
rm -f /tmp/inflight.out /tmp/inflight.err
domuctl exec -t 60 --shell m -- 'echo in-flight; sleep 30; echo never' > /tmp/inflight.out 2> /tmp/inflight.err &
xpid=$!
if [ -z "$gp" ] || ! wait_for 30 grep -q in-flight /tmp/inflight.out; then
  why="no exec in flight (pid '$gp', $(tr '\n' ' ' < /tmp/inflight.err))"
  kill "$xpid" 2>/dev/null
else
  t=$(ms)
  kill -9 "$gp"
  wait "$xpid"; xrc=$?
  x_ms=$(( $(ms) - t ))
  grep -q "guest I/O process was lost" /tmp/inflight.err || why="$why the exec said '$(tr '\n' ' ' < /tmp/inflight.err)';"
  [ "$xrc" != 0 ] || why="$why the exec exited 0;"
  grep -q never /tmp/inflight.out && why="$why the command ran to its end;"
  wait_for 20 sh -c "p=\$(domuctl ping 2>/dev/null | sed -n 's/^guest I\/O: process \([0-9]*\),.*/\1/p'); [ -n \"\$p\" ] && [ \"\$p\" != $gp ]" ||
    why="$why no new guest I/O process: $(domuctl ping 2>&1 | tail -n 1);"
  gp2=$(gio_pid)
  # the next command works on the same domain; the log goes on
  wait_state m ready 30 || why="$why m is not ready again ($(jfield m agent_ready));"
  ex_timed /tmp/after.out /tmp/after.err -t 30 --shell m -- 'echo IO-CHILD-BACK > /dev/console; echo after'
  [ "$EX_RC" = 0 ] && [ "$(cat /tmp/after.out)" = after ] || why="$why the next exec: rc=$EX_RC '$(cat /tmp/after.out)' $(tr '\n' ' ' < /tmp/after.err);"
  wait_for 20 console_has m IO-CHILD-BACK || why="$why m's log did not resume;"
  [ "$(jfield m domid)" = "$dm0" ] || why="$why m's domain $dm0 -> $(jfield m domid);"
  [ "$(jfield m restarts)" = "$rs0" ] || why="$why m restarted ($rs0 -> $(jfield m restarts));"
  [ "$(jfield m state)" = ready ] || why="$why m is '$(jfield m state)';"
  grep -q "guest I/O process $gp lost (killed by signal 9)" "$DOMUD_LOG" || why="$why domud did not say it lost $gp;"
  domud_alive || why="$why domud died;"
fi
if [ -z "$why" ]; then
  pass fault/io-child-killed "process $gp killed: the exec in flight failed in ${x_ms} ms ('$(head -n 1 /tmp/inflight.err)'), process $gp2 took over, the next exec answered in ${EX_MS} ms, m's log resumed, domain $dm0 untouched"
else
  fail fault/io-child-killed "$why"
  show_log 20
fi

# ---- memres/hostile: a flooding DomU; domud's memory, answers and the log stay bounded ------
sleep 2
rss0=$(rss_all)
domuctl start h > /tmp/h-start.out 2>&1
if ! wait_for 240 console_has h "hostile line"; then
  fail memres/hostile "h does not flood: state $(jfield h state) $(tr '\n' ' ' < /tmp/h-start.out)"
  say_file h.log /var/log/domud/h.log 5
  show_log 20
else
  t_flood=$(up)
  rssmax=$rss0; exmax=0; smmax=0; stmax=0; n=0; why=""
  : > /tmp/lat; : > /tmp/flood-rate
  while [ "$(awk -v a="$t_flood" -v b="$(up)" -v s="$HOSTILE_S" 'BEGIN{print (b - a < s)}')" = 1 ]; do
    n=$((n + 1))
    s_a=$(fsize /var/log/domud/h.log); t_a=$(ms)
    ex_timed /tmp/ht.out /tmp/ht.err -t 30 m -- true; r1=$EX_RC; e1=$EX_MS
    ex_timed /tmp/hs.out /tmp/hs.err -t 30 --shell m -- "echo small-$n; echo e-$n >&2"; r2=$EX_RC; e2=$EX_MS
    t=$(ms); domuctl -j status > /tmp/hst.json 2>&1; r3=$?; e3=$(( $(ms) - t ))
    # domud's and its guest I/O process's, where the flood is parsed
    rss=$(rss_all)
    echo "round $n: true ${e1}ms rc=$r1, small ${e2}ms rc=$r2, status ${e3}ms rc=$r3, rss ${rss}KiB, h.log $(fsize /var/log/domud/h.log)" >> /tmp/lat
    [ "$r1" = 0 ] || why="$why round $n: exec true rc=$r1 $(tr '\n' ' ' < /tmp/ht.err);"
    [ "$r2" = 0 ] && [ "$(cat /tmp/hs.out)" = "small-$n" ] && [ "$(cat /tmp/hs.err)" = "e-$n" ] ||
      why="$why round $n: small rc=$r2 '$(cat /tmp/hs.out)' '$(cat /tmp/hs.err)';"
    [ "$r3" = 0 ] && grep -q '"name":"h"' /tmp/hst.json || why="$why round $n: status rc=$r3;"
    [ "${rss:-0}" -gt "$rssmax" ] && rssmax=$rss
    [ "$e1" -gt "$exmax" ] && exmax=$e1
    [ "$e2" -gt "$smmax" ] && smmax=$e2
    [ "$e3" -gt "$stmax" ] && stmax=$e3
    domud_alive || { why="$why domud died;"; break; }
    sleep 2
    # the flood's rate into the log, from rounds in which it did not rotate
    s_b=$(fsize /var/log/domud/h.log)
    [ "${s_b:-0}" -gt "${s_a:-0}" ] && awk -v a="$s_a" -v b="$s_b" -v ms="$(( $(ms) - t_a ))" \
      'BEGIN{ if (ms > 0) printf "%d\n", (b - a) * 1000 / 1024 / ms }' >> /tmp/flood-rate
  done
  hst=$(jfield h state)
  lsz=$(fsize /var/log/domud/h.log); lsz1=$(fsize /var/log/domud/h.log.1)
  ltot=$((${lsz:-0} + ${lsz1:-0}))
  lmax=$((2 * 256 * 1024))
  domuctl logs -n 200 h > /tmp/hlogs.out 2> /tmp/hlogs.err; rl=$?
  esc=$(tr -cd '\033\007' < /tmp/hlogs.out | wc -c | tr -d ' ')
  csi=$(grep -ac "$(printf '\302\233')" /tmp/hlogs.out)
  [ "$n" -ge 3 ] || why="$why only $n rounds;"
  [ $((rssmax - rss0)) -le $RSS_MAX_KIB ] || why="$why RSS grew $((rssmax - rss0)) KiB (> $RSS_MAX_KIB);"
  [ "$exmax" -lt $LAT_MAX_MS ] && [ "$smmax" -lt $LAT_MAX_MS ] && [ "$stmax" -lt $LAT_MAX_MS ] ||
    why="$why slow: exec true max ${exmax} ms, small ${smmax} ms, status ${stmax} ms;"
  [ "$hst" = running ] || why="$why h is '$hst';"
  [ "$ltot" -le "$lmax" ] || why="$why h.log $lsz + h.log.1 $lsz1 > $lmax;"
  [ -n "$lsz1" ] || why="$why no h.log.1: the log never rotated?;"
  [ $rl = 0 ] && [ -s /tmp/hlogs.out ] || why="$why logs rc=$rl $(tr '\n' ' ' < /tmp/hlogs.err);"
  [ "$esc" = 0 ] && [ "$csi" = 0 ] || why="$why $esc raw ESC/BEL bytes, $csi lines with a C1 CSI in domuctl logs;"
  grep -q 'hostile line' /tmp/hlogs.out || why="$why domuctl logs lacks the hostile lines;"
  summary="rss (domud and its guest I/O process) ${rss0} -> max ${rssmax} KiB (+$((rssmax - rss0)), bound +$RSS_MAX_KIB) over $n rounds in ${HOSTILE_S}s; max exec true ${exmax} ms, exec small ${smmax} ms, status ${stmax} ms (bound $LAT_MAX_MS); h.log $lsz + h.log.1 $lsz1 <= $lmax; domuctl logs: $(fsize /tmp/hlogs.out) bytes, $esc raw ESC/BEL, $csi C1 CSI"
  if [ -z "$why" ]; then
    pass memres/hostile "$summary"
  else
    fail memres/hostile "$why -- $summary"
    say_file lat /tmp/lat 30
    show_log 30
  fi
  bench hostile_flood "console_log_kib_s=$(median < /tmp/flood-rate) samples=$(wc -l < /tmp/flood-rate | tr -d ' ') rss_base_kib=$rss0 rss_max_kib=$rssmax rounds=$n"
  # where domud's memory is after the flood: the largest mappings
  awk '/^[0-9a-f]+-[0-9a-f]+ /{name = ($6 == "" ? "[anon]" : $6)} /^Rss:/{rss[name] += $2}
    END{for (k in rss) print rss[k], k}' /proc/"$DOMUD_PID"/smaps 2>/dev/null | sort -rn | head -n 6 |
    while read -r kb name; do info "  domud rss after the flood: ${kb} KiB ${name}"; done
fi
t=$(up)
domuctl stop h > /dev/null 2>&1
wait_state h stopped 90 || info "h did not stop: $(jfield h state)"
info "h stopped in $(dt "$t" "$(up)")s (last_stop_phase $(jfield h last_stop_phase))"

# ---- memres/stop-agent: domuctl stop goes through the agent, which powers off --------------
dm=$(jfield m domid)
t=$(up)
domuctl stop m > /tmp/stop-m.out 2>&1; rs=$?
phase_seen=""
for _k in $(seq 1 20); do
  p=$(jfield m stop_phase)
  [ -n "$p" ] && { phase_seen=$p; break; }
  [ "$(jfield m state)" = stopped ] && break
  sleep 0.5
done
wait_state m stopped 90; rw=$?
t_stop=$(dt "$t" "$(up)")
lsp=$(jfield m last_stop_phase)
why=""
[ $rs = 0 ] || why="$why stop rc=$rs $(tr '\n' ' ' < /tmp/stop-m.out);"
[ $rw = 0 ] || why="$why m is '$(jfield m state)';"
[ "$lsp" = agent ] || why="$why last_stop_phase '$lsp';"
xl list "$dm" > /dev/null 2>&1 && why="$why domain $dm still exists;"
# the guest's kernel says so at KERN_EMERG when it powers off (a PV guest without
# pm_power_off turns reboot(RB_POWER_OFF) into a halt, which Xen takes as poweroff)
bye=$(cat /var/log/domud/m.log.1 /var/log/domud/m.log 2>/dev/null | tr -d '\r' | grep -aoE 'reboot: (Power down|System halted)' | tail -n 1)
[ -n "$bye" ] || why="$why no 'reboot: Power down' or 'reboot: System halted' on m's console;"
grep -q "m: the agent did not stop it" "$DOMUD_LOG" && why="$why the agent phase timed out;"
if [ -z "$why" ]; then
  pass memres/stop-agent "stopped in ${t_stop}s, stop_phase '$phase_seen' while stopping, last_stop_phase=agent, the guest's kernel printed '$bye', domain $dm gone"
else
  fail memres/stop-agent "$why"
  say_file m.log /var/log/domud/m.log 10
  show_log 20
fi

domud_down 120 || info "domud did not exit on SIGTERM"
grep -iE "warn|error|fail" "$DOMUD_LOG" | head -n 12 | while IFS= read -r l; do info "  domud: $l"; done
true
