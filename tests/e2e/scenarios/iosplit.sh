# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 600
# What the guest I/O process costs (issue #26), for make bench: a memres guest's
# exec round trip, 1 MiB out, 256 KiB in and 10 s of idle CPU under domud as it
# runs (the channels parsed in its unprivileged child), then the same domain
# adopted by domud -I (the same code and messages inline, no process between),
# same boot: bench guest_io_split, each figure beside its peer.
. /e2e/scenarios/lib/domud.sh

MEM=96                 # read by svc_ini
: > "$DOMUD_LOG"
# ticks of CPU (user + system) of a process so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }

conf_init
if ! AGENT_RD=$(agent_initrd /tmp/initrd-agent.img); then
  fail bench/guest-io-split "no agent cpio in /e2e (is domud-agent in E2E_BIN?)"
  exit 0
fi
RAMDISK=$AGENT_RD CMDX="e2e.agent=1" svc_ini m m-up "autostart = yes" "restart = no" "memres = yes"
if ! domud_up || ! wait_state m ready 240; then
  fail bench/guest-io-split "m is '$(jfield m state)', not ready"
  show_log 20
  exit 0
fi

# ---- bench: the guest I/O split against domud -I (the same code inline), same boot ---------
domuctl exec -t 120 --shell m -- 'dd if=/dev/urandom of=/tmp/s1m bs=64k count=16 2>/dev/null' > /dev/null 2>&1
dd if=/dev/urandom of=/tmp/s256k bs=64k count=4 2>/dev/null
# idle ticks over 10 s (domud, its guest I/O process: first, while all is
# quiet), exec round trip median, 1 MiB out, 256 KiB in (ms)
split_figures() {
  _g=$(gio_pid)
  _a0=$(cpu_ticks "$DOMUD_PID"); _b0=$(cpu_ticks "${_g:-none}")
  # idle: nothing asked of either for 10 s (the keepalive's pings only)
  w=$(ms); while [ $(( $(ms) - w )) -lt 10000 ]; do sleep 1; done
  _a1=$(cpu_ticks "$DOMUD_PID"); _b1=$(cpu_ticks "${_g:-none}")
  i_d=$(( ${_a1:-0} - ${_a0:-0} )); i_c=$(( ${_b1:-0} - ${_b0:-0} ))
  : > /tmp/srtt
  for i in $(seq 1 20); do
    ex_timed /dev/null /dev/null -t 10 m -- true
    [ "$EX_RC" = 0 ] && echo "$EX_MS" >> /tmp/srtt
  done
  ex_timed /tmp/s1m.out /dev/null -t 120 m -- cat /tmp/s1m; s_out=$EX_MS
  [ "$(wc -c < /tmp/s1m.out)" = 1048576 ] || s_out="?"
  t=$(ms); domuctl cp /tmp/s256k m:/tmp/s256k > /dev/null 2>&1 && s_in=$(( $(ms) - t )) || s_in="?"
  echo "$(median < /tmp/srtt) $s_out $s_in $((i_d + i_c)) $(wc -l < /tmp/srtt) $i_d $i_c"
}
set -- $(split_figures)
sp_rtt=$1 sp_out=$2 sp_in=$3 sp_idle=$4 sp_n=$5 sp_idle_d=$6 sp_idle_c=$7
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "?"}'; }
# the same domains under domud -I: kill -9, adopted, the agent asked again
kill -9 "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
if DOMUD_FLAGS=-I domud_up && wait_state m ready 60 && domuctl ping | grep -q 'guest I/O: inline'; then
  set -- $(split_figures)
  in_rtt=$1 in_out=$2 in_in=$3 in_idle=$4 in_n=$5
  bench guest_io_split "exec_rtt_ms=$sp_rtt inline_exec_rtt_ms=$in_rtt ratio_rtt=$(ratio "$sp_rtt" "$in_rtt") out_1m_ms=$sp_out inline_out_1m_ms=$in_out ratio_out=$(ratio "$sp_out" "$in_out") in_256k_ms=$sp_in inline_in_256k_ms=$in_in ratio_in=$(ratio "$sp_in" "$in_in") idle_ticks_10s=$sp_idle inline_idle_ticks_10s=$in_idle idle_ticks_domud=$sp_idle_d idle_ticks_child=$sp_idle_c execs=$sp_n/$in_n"
  if [ "$sp_n" = 20 ] && [ "$in_n" = 20 ] && [ "$sp_out" != "?" ] && [ "$in_out" != "?" ] &&
     [ "$sp_in" != "?" ] && [ "$in_in" != "?" ]; then
    pass bench/guest-io-split "every figure taken both ways: 20 execs, 1 MiB out (its size checked) and 256 KiB in (cp exit 0) under each"
  else
    fail bench/guest-io-split "figures missing: execs $sp_n/$in_n, out $sp_out/$in_out ms, in $sp_in/$in_in ms"
  fi
else
  fail bench/guest-io-split "domud -I did not come up: $(domuctl ping 2>&1 | tr '\n' ' ')"
  bench guest_io_split "exec_rtt_ms=$sp_rtt out_1m_ms=$sp_out in_256k_ms=$sp_in idle_ticks_10s=$sp_idle inline=failed"
fi
domuctl exec -t 30 m -- rm -f /tmp/s1m /tmp/s256k > /dev/null 2>&1
domud_down 120 || info "domud did not exit on SIGTERM"
true
