# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Not in make test: what Xen makes of the emulated machine's IOMMU, for
# PCI passthrough (issue 17). Run with a machine that has one, e.g.
#   make e2e E2E_SUITES=iommu E2E_QEMU_EXTRA="-machine q35 -device intel-iommu,intremap=on -device e1000e"
# and read the INFO lines.
. /e2e/scenarios/lib/domud.sh

caps=$(xl info 2>/dev/null | sed -n 's/^virt_caps *: *//p')
info "xl info virt_caps: $caps"
xl dmesg 2>/dev/null | grep -i -E "iommu|vt-d|dmar|intremap|directio|passthrough" | head -n 30 |
  while IFS= read -r l; do info "xl dmesg: $l"; done
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/class" ] || continue
  info "pci $(basename "$d") class $(cat "$d/class") vendor $(cat "$d/vendor") device $(cat "$d/device")"
done
case "$caps" in
  *directio*) pass iommu/directio "Xen drives an IOMMU here: $caps" ;;
  *) skip iommu/directio "Xen has no IOMMU on this machine (virt_caps: $caps)" ;;
esac
