# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# e2e-timeout: 120
# What Xen makes of the emulated machine's IOMMU, for PCI passthrough (issue
# 17). In make test's part boot, whose amd64 machine is q35 with QEMU's VT-d
# (part.sh asks for it): Xen must drive it there; arm64's virt machine has
# none (SKIP). By hand, with another machine:
#   make e2e E2E_SUITES=iommu E2E_QEMU_EXTRA="-machine q35 -device intel-iommu,intremap=on -device e1000e"
. /e2e/scenarios/lib/domud.sh

caps=$(xl info 2>/dev/null | sed -n 's/^virt_caps *: *//p')
info "xl info virt_caps: $caps"
xl dmesg 2>/dev/null | grep -i -E "iommu|vt-d|dmar|intremap|directio|passthrough" | head -n 30 |
  while IFS= read -r l; do info "xl dmesg: $l"; done
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/class" ] || continue
  info "pci $(basename "$d") class $(cat "$d/class") vendor $(cat "$d/vendor") device $(cat "$d/device")"
done
# the machine has one when QEMU was given intel-iommu: its ACPI DMAR table
# (Xen renames it XMAR for dom0), which Xen's log names too
has=no
{ [ -e /sys/firmware/acpi/tables/DMAR ] || [ -e /sys/firmware/acpi/tables/XMAR ] ||
  xl dmesg 2>/dev/null | grep -q 'DMAR'; } && has=yes
case "$caps:$has" in
  *directio*) pass iommu/directio "Xen drives an IOMMU here: $caps" ;;
  *:yes) fail iommu/directio "the machine has an IOMMU (ACPI DMAR) but Xen does not drive it: virt_caps $caps" ;;
  *) skip iommu/directio "Xen has no IOMMU on this machine (virt_caps: $caps)" ;;
esac
