# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 900
# `make bench`: the measurements alone (no timing is asserted: these
# machines are noisy). Each PASS says only that the measurement was made.
. /e2e/scenarios/lib/domud.sh

conf_init
svc_ini elf elf-up "stop_timeout = 20s"
KERNEL=$E2E_IMG/vmlinuz svc_ini bz bz-up "stop_timeout = 20s"
domud_up || { fail bench/domud "did not start"; exit 0; }

# Dom0's busy CPU time so far, in ms (user, nice, system, irq, softirq)
dom0_busy_ms() { awk '/^cpu /{printf "%d", ($2 + $3 + $4 + $7 + $8) * 10}' /proc/stat; }
cpu_ms() { awk '{printf "%d", ($14 + $15) * 10}' "/proc/$1/stat" 2>/dev/null; }
# the guest's own uptime when it printed its marker
marker_up() { grep -a "DOMU-MARKER $2" "$1" 2>/dev/null | sed -n 's/.* up=\([0-9.]*\).*/\1/p' | head -n 1; }

# create -> first console marker, domud against plain xl, same guest;
# the kernel and initrd read once first, so that neither run reads them
# cold from disk (the first did: 0.8 s more to create on arm64). Five runs
# each, taking turns (xl first in odd rounds, domud in even ones), each
# right after a guest was destroyed, medians compared. On arm64 under TCG
# twelve such pairs in one boot ranged from 5.9 to 15.4 s (xl) and 6.8 to
# 12.1 s (domud), with Dom0's busy time following the time taken: one
# pair, or three, said little (1.29 and 1.24 in two boots; 0.93 over the
# twelve). domud's last run stays up (adopt below uses it).
cat "$E2E_KERNEL" "$E2E_INITRD" > /dev/null 2>&1
: > /tmp/c2m-d; : > /tmp/c2m-x
d_runs="" x_runs="" nok=0
elf_stop() {
  [ "$(jfield elf state)" = stopped ] && return
  domuctl stop elf > /dev/null 2>&1; wait_state elf stopped 60 > /dev/null
}
c2m_xl() {
  b0=$(dom0_busy_ms)
  if x_s=$(xl_baseline xlbench); then
    echo "$x_s $(cat /tmp/xl-xlbench.create_s 2>/dev/null) $(marker_up /tmp/con-xlbench.log xlb-xlbench) $(( $(dom0_busy_ms) - b0 ))" >> /tmp/c2m-x
    x_runs="$x_runs${x_runs:+,}$x_s"
  fi
}
c2m_domud() {
  elf_stop
  t0=$(up); b0=$(dom0_busy_ms); c0=$(cpu_ms "$DOMUD_PID")
  domuctl start elf > /dev/null 2>&1
  if wait_for 180 console_has elf "DOMU-MARKER elf-up"; then
    d_s=$(dt "$t0" "$(up)")
    c_ms=$(domuctl -j status elf 2>/dev/null | sed -n 's/.*"last_start":{[^}]*"create_ms":\([0-9]*\).*/\1/p')
    echo "$d_s $(awk -v m="${c_ms:-0}" 'BEGIN{printf "%.2f", m / 1000}') $(marker_up /var/log/domud/elf.log elf-up) $(( $(dom0_busy_ms) - b0 )) $(( $(cpu_ms "$DOMUD_PID") - c0 ))" >> /tmp/c2m-d
    d_runs="$d_runs${d_runs:+,}$d_s"
    nok=$((nok + 1))
  fi
}
for r in 1 2 3 4 5; do
  if [ $((r % 2)) = 1 ]; then
    elf_stop; c2m_xl; c2m_domud
  else
    c2m_domud; elf_stop; c2m_xl
  fi
done
# column N's median of a run file
col_med() { awk -v c="$2" '{print $c}' "$1" | median; }
if [ "$nok" = 5 ] && [ "$(wc -l < /tmp/c2m-x)" = 5 ]; then
  d_s=$(col_med /tmp/c2m-d 1); x_s=$(col_med /tmp/c2m-x 1)
  bench create_to_marker "domud=${d_s}s xl=${x_s}s ratio=$(awk -v a="$d_s" -v b="$x_s" 'BEGIN{printf "%.2f", a/b}') kernel=$(basename "$E2E_KERNEL") medians_of=5 domud_runs=$d_runs xl_runs=$x_runs"
  # where the time goes (medians): libxl's create under domud and under
  # xl, the guest's boot to the marker, Dom0's busy time
  bench create_split "domud: create_s=$(col_med /tmp/c2m-d 2) guest_uptime_at_marker_s=$(col_med /tmp/c2m-d 3) dom0_busy_ms=$(col_med /tmp/c2m-d 4) domud_cpu_ms=$(col_med /tmp/c2m-d 5) xl: create_s=$(col_med /tmp/c2m-x 2) guest_uptime_at_marker_s=$(col_med /tmp/c2m-x 3) dom0_busy_ms=$(col_med /tmp/c2m-x 4)"
  pass bench/create-to-marker
else
  fail bench/create-to-marker "domud reached its marker $nok of 5 times, xl $(wc -l < /tmp/c2m-x) of 5; elf: $(jfield elf state)"
fi

# how long the control socket makes a client wait while a bzImage is built
# (the first start of bz: the kernel cache extracts it, then libxl builds;
# emptied first: an earlier suite of this boot may have filled it)
rm -rf /var/lib/domud/kernels
t0=$(up)
domuctl start bz > /dev/null 2>&1
max=0 n=0
while [ "$(jfield bz state)" = starting ] && [ $n -lt 120 ]; do
  t=$(up); domuctl -t 30 ping > /dev/null 2>&1
  ms=$(awk -v a="$t" -v b="$(up)" 'BEGIN{printf "%d", (b-a)*1000}')
  [ "$ms" -gt "$max" ] && max=$ms
  n=$((n + 1)); sleep 0.5
done
if wait_state bz running 180; then
  bench control_latency_during_create "max_ms=$max pings=$n kernel=vmlinuz"
  pass bench/control-latency
else
  fail bench/control-latency "bz: $(jfield bz state)"
fi
# P1: create -> marker from the distribution's bzImage: domud's first start
# from an empty cache (it extracts the kernel; no pings this time), a second
# one (from the cache), and xl of the same file and of the plain ELF, in
# this boot
kstart() { domuctl -j status bz 2>/dev/null | sed -n 's/.*"kernel":"\([a-z-]*\)","kernel_ms":\([0-9]*\).*/\1 \2/p'; }
cold_s="" warm_s=""
wait_for 180 console_has bz "DOMU-MARKER bz-up" || info "bz: no marker after the control-latency start"
domuctl stop bz > /dev/null 2>&1
wait_state bz stopped 60 > /dev/null
rm -rf /var/lib/domud/kernels
t0=$(up)
domuctl start bz > /dev/null 2>&1
# (a new run starts a new console log: the marker is this run's)
if wait_for 180 console_has bz "DOMU-MARKER bz-up"; then
  cold_s=$(dt "$t0" "$(up)")
  set -- $(kstart); cold_k=${1:-?}; cold_kms=${2:-?}
fi
domuctl stop bz > /dev/null 2>&1
wait_state bz stopped 60 > /dev/null
t0=$(up)
domuctl start bz > /dev/null 2>&1
if wait_for 180 console_has bz "DOMU-MARKER bz-up"; then
  warm_s=$(dt "$t0" "$(up)")
  set -- $(kstart); warm_k=${1:-?}; warm_kms=${2:-?}
fi
if [ -n "$cold_s" ] && [ -n "$warm_s" ] && xb_s=$(E2E_KERNEL=$E2E_IMG/vmlinuz xl_baseline xlbz) &&
   xe_s=$(xl_baseline xlelf); then
  bench kernel_cache "domud_cold=${cold_s}s (kernel $cold_k in ${cold_kms} ms) domud_warm=${warm_s}s (kernel $warm_k in ${warm_kms} ms) xl_bzimage=${xb_s}s xl_elf=${xe_s}s ratio_warm_vs_xl_bzimage=$(awk -v a="$warm_s" -v b="$xb_s" 'BEGIN{printf "%.2f", a/b}') ratio_warm_vs_xl_elf=$(awk -v a="$warm_s" -v b="$xe_s" 'BEGIN{printf "%.2f", a/b}')"
  pass bench/kernel-cache
else
  fail bench/kernel-cache "cold ${cold_s:-none}, warm ${warm_s:-none}, xl: ${xb_s:-none} ${xe_s:-none}"
fi

# memory of the daemon with two DomUs, and adoption after kill -9
bench domud_memory "rss_kb=$(awk '/^VmRSS/{print $2}' /proc/"$DOMUD_PID"/status) services=2 threads=$(awk '/^Threads/{print $2}' /proc/"$DOMUD_PID"/status)"
# where it goes: the largest mappings by resident size
awk '/^[0-9a-f]+-[0-9a-f]+ /{name = ($6 == "" ? "[anon]" : $6)} /^Rss:/{rss[name] += $2}
  END{for (n in rss) print rss[n], n}' /proc/"$DOMUD_PID"/smaps 2>/dev/null | sort -rn | head -n 8 |
  while read -r kb name; do info "  domud rss: ${kb} KiB ${name}"; done
kill -KILL "$DOMUD_PID"; wait "$DOMUD_PID" 2>/dev/null
t0=$(up)
if domud_up && wait_state elf running 30 && wait_state bz running 30; then
  bench adopt "seconds=$(dt "$t0" "$(up)") services=2"
  pass bench/adopt
else
  fail bench/adopt "elf=$(jfield elf state) bz=$(jfield bz state)"
fi
domud_down 90

# P2: four independent autostart services, from domud's start to all
# running (built in parallel), against four sequential `xl create`s
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }
conf_init
# (96 MiB each: eight fit beside Dom0 on both arches; an amd64 PV guest
# of this kernel did not build in 64 here: "cannot (re-)build domain")
for i in 1 2 3 4 5 6 7 8; do
  KERNEL=$E2E_KERNEL MEM=96 svc_ini "p$i" "p$i-up" "autostart = $([ $i -le 4 ] && echo yes || echo no)" "stop_timeout = 20s"
done
all_up() { for _s in "$@"; do [ "$(jfield "$_s" state)" = running ] || return 1; done; }
# slow looks (each domuctl costs Dom0 CPU the builds need); the time is
# domud's own, from its log: its start to the last of them running
slow_until() { _n=$(( $1 / 2 )); shift; while [ $_n -gt 0 ]; do "$@" && return 0; sleep 2; _n=$((_n - 1)); done; return 1; }
log_s() { echo "$1" | awk -F'[:. ]' '{printf "%.3f", $1 * 3600 + $2 * 60 + $3 + $4 / 1000}'; }
: > "$DOMUD_LOG"
if domud_up && slow_until 300 all_up p1 p2 p3 p4; then
  ls0=$(grep -m1 " started: " "$DOMUD_LOG" | cut -d' ' -f1)
  ls1=$(grep -E " p[1-4]: running as domain" "$DOMUD_LOG" | tail -n 1 | cut -d' ' -f1)
  d_s=$(awk -v a="$(log_s "$ls0")" -v b="$(log_s "$ls1")" 'BEGIN{printf "%.2f", b - a}')
  # that they overlap: each one's creating and running lines from the log
  grep -E " p[1-4]: (creating|running as domain)" "$DOMUD_LOG" | while IFS= read -r l; do info "  $l"; done
  # P4: with eight DomUs, domud's memory against xl's monitor processes
  for i in 5 6 7 8; do domuctl start "p$i" > /dev/null 2>&1; done
  until_s 300 all_up p1 p2 p3 p4 p5 p6 p7 p8
  d_rss=$(rss_kib "$DOMUD_PID"); d_pss=$(pss_kib "$DOMUD_PID")
  n_up=0; for i in 1 2 3 4 5 6 7 8; do [ "$(jfield "p$i" state)" = running ] && n_up=$((n_up + 1)); done
  domud_down 120
  t0=$(up)
  for i in 1 2 3 4; do
    E2E_GUEST_MEM=96 guest_xl_cfg "xp$i" "xp$i-up" > "/tmp/xp$i.cfg"
    xl create -q "/tmp/xp$i.cfg" > /dev/null 2>&1
  done
  x_s=$(dt "$t0" "$(up)")
  for i in 5 6 7 8; do
    E2E_GUEST_MEM=96 guest_xl_cfg "xp$i" "xp$i-up" > "/tmp/xp$i.cfg"
    xl create -q "/tmp/xp$i.cfg" > /dev/null 2>&1
  done
  sleep 2
  x_rss=0 x_pss=0 x_n=0
  # each domain has its own xl process (the monitor xl create leaves)
  for c in /proc/[0-9]*/comm; do
    [ "$(cat "$c" 2>/dev/null)" = xl ] || continue
    p=${c#/proc/}; p=${p%/comm}
    x_rss=$((x_rss + $(rss_kib "$p"))); x_pss=$((x_pss + $(pss_kib "$p"))); x_n=$((x_n + 1))
  done
  for i in 1 2 3 4 5 6 7 8; do xl destroy "xp$i" > /dev/null 2>&1; done
  bench parallel_start "domud_s=$d_s xl_sequential_s=$x_s ratio=$(awk -v a="$d_s" -v b="$x_s" 'BEGIN{printf "%.2f", a/b}') services=4"
  bench memory_8_domus "domud_rss_kib=$d_rss domud_pss_kib=$d_pss domus=$n_up xl_monitors=$x_n xl_rss_kib_sum=$x_rss xl_pss_kib_sum=$x_pss ratio_pss=$(awk -v a="$d_pss" -v b="$x_pss" 'BEGIN{if (b > 0) printf "%.2f", a/b; else print "?"}')"
  pass bench/parallel-start
else
  fail bench/parallel-start "$(domuctl list 2>&1 | tr '\n' '|') p1: $(domuctl status p1 2>&1 | grep -E 'last_error|failed_reason' | tr '\n' '|')"
  show_log 30
  domud_down 120
fi
true
