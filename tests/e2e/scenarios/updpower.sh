# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 400
# e2e-boots: 2
# update/power-cut (issue #25): the board loses power in the middle of a
# guest update's trial; Dom0's disk (/var/lib/domud on the persistent disk)
# keeps the record. Boot 1 stages v2 and switches; once v2 runs on trial
# the power goes. Boot 2: the trial was never committed, so domud must run
# v1 again, say why, keep v2 marked bad, and leave no stray slot directory.
. /e2e/scenarios/lib/domud.sh

STORE=/var/lib/domud/update/pc
W=/var/lib/domud/pc-test	# on the persistent disk: boot 2 reads it
mkdir -p "$W"
K=$E2E_KERNEL R=$E2E_INITRD

conf_init
svc_ini pc pc-v1 "autostart = yes" "restart = on-failure" "stop_timeout = 20s" \
  "update = yes" "update_window = 10m"

if [ "${E2E_BOOT:-1}" = 1 ]; then
  rm -rf "$STORE"
  if ! domud_up || ! wait_up pc 120 || ! until_s 60 console_has pc "DOMU-MARKER pc-v1"; then
    fail update/power-cut "boot 1: pc did not come up"
    show_log 20
    exit 0
  fi
  {
    printf '{"version":"2","cmdline":"%s","files":{' "$(guest_cmdline pc-v2)"
    printf '"kernel":{"size":%s,"sha256":"%s"},' "$(wc -c < "$K" | tr -d ' ')" "$(sha256sum "$K" | cut -d' ' -f1)"
    printf '"ramdisk":{"size":%s,"sha256":"%s"}}}\n' "$(wc -c < "$R" | tr -d ' ')" "$(sha256sum "$R" | cut -d' ' -f1)"
  } > "$W/v2.json"
  if domuctl -t 120 update stage pc --kernel "$K" --ramdisk "$R" --manifest "$W/v2.json" > "$W/stage.out" 2>&1 &&
     domuctl update switch pc > "$W/switch.out" 2>&1 &&
     until_s 120 console_has pc "DOMU-MARKER pc-v2"; then
    domuctl -j update status pc > "$W/before.json" 2>&1
    info "boot 1: v2 on trial: $(head -c 200 "$W/before.json")"
    sync
    power_cut
  fi
  fail update/power-cut "boot 1: no trial of v2: $(cat "$W/stage.out" "$W/switch.out" 2>/dev/null | tr '\n' ' ' | head -c 300)"
  show_log 20
  exit 0
fi

# boot 2: the record says v2 was on trial; its domain is gone with the power
if ! domud_up; then
  fail update/power-cut "boot 2: domud did not start"
  exit 0
fi
if wait_up pc 120 && until_s 60 console_has pc "DOMU-MARKER pc-v1" &&
   domuctl -j update status pc > "$W/after.json" 2>&1 &&
   grep -q '"active":"a"' "$W/after.json" && ! grep -q '"trial":{' "$W/after.json" &&
   grep -q '"result":"rolled-back"' "$W/after.json" && grep -q 'cut short' "$W/after.json" &&
   grep -q '"name":"b","state":"bad"' "$W/after.json" &&
   [ "$(find "$STORE" -mindepth 1 -maxdepth 1 -type d | wc -l)" -le 1 ] &&
   ! console_has pc "DOMU-MARKER pc-v2"; then
  pass update/power-cut "power cut during v2's trial: boot 2 runs v1, v2 marked bad ($(sed -n 's/.*"reason":"\([^"]*\)".*/\1/p' "$W/after.json" | head -c 120))"
else
  fail update/power-cut "boot 2: $(tr -d '\n' < "$W/after.json" 2>/dev/null | head -c 400)"
  show_log 30
fi
domud_down 90
true
