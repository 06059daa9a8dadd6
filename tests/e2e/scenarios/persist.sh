# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# The harness's own check of a power cut over the board's persistent disk: boot 1
# writes a random token into /var/lib/domud and syncs it, writes a second file
# without a sync and cuts the power (power_cut); boot 2, a new kernel over the same
# disk, must find the synced token. Whether the unsynced file survived is only said:
# that depends on ext4's commit interval and the timing.
# e2e-boots: 2
# e2e-timeout: 120

D=/var/lib/domud/e2e-persist

if ! grep -q ' /var/lib/domud ' /proc/mounts; then
  fail harness/persist-disk "/var/lib/domud is not a mount of the persistent disk (boot $E2E_BOOT of $E2E_BOOTS)"
  exit 0
fi

if [ "$E2E_BOOT" = 1 ]; then
  mkdir -p "$D"
  tok=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
  echo "$tok $(cat /proc/sys/kernel/random/boot_id)" > "$D/synced"
  sync
  echo "$tok unsynced" > "$D/unsynced"
  info "persist: boot 1 wrote token $tok, synced, and the same without a sync; cutting the power"
  power_cut persist
  exit 0   # power_cut said why it could not
fi

now=$(cat /proc/sys/kernel/random/boot_id)
tok='' boot=''
[ -f "$D/synced" ] && read -r tok boot < "$D/synced"
case "$tok" in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
    if [ -n "$boot" ] && [ "$boot" != "$now" ]; then
      pass harness/persist-across-power-cut "boot $E2E_BOOT found boot 1's synced token $tok (boot 1 ${boot%%-*}, now ${now%%-*}; dom0 up $(up) s)"
    else
      fail harness/persist-across-power-cut "the token file names this boot ($now), not an earlier one: '$boot'"
    fi ;;
  *)
    fail harness/persist-across-power-cut "no synced token in $D/synced after the power cut: $(find "$D" 2>&1 | tr '\n' '|')" ;;
esac

if [ ! -e "$D/unsynced" ]; then
  u="gone"
elif [ ! -s "$D/unsynced" ]; then
  u="there but empty (its inode was committed, its data not)"
elif [ "$(cat "$D/unsynced")" = "$tok unsynced" ]; then
  u="there, whole"
else
  u="there with other bytes: $(od -An -c "$D/unsynced" | head -n 2 | tr -s ' \n' ' ')"
fi
info "persist: the file written without a sync before the power cut: $u"
true
