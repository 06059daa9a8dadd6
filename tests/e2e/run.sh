#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# domud end-to-end harness: boots real Xen 4.17 (Debian bookworm's packages) under
# QEMU with software emulation (TCG, no KVM), dom0 as an initramfs built from the
# target arch's Debian packages, our binaries inside it, and runs scenario scripts.
#
#   tests/e2e/run.sh          fetch + build (if stale) + run once
#   tests/e2e/run.sh fetch    install host packages, download + unpack Debian debs (cached)
#   tests/e2e/run.sh build    (re)build the Xen image, guest images and dom0 base initramfs
#   tests/e2e/run.sh run      boot once and run $E2E_SUITES (builds first if stale)
#   tests/e2e/run.sh shell    boot, run $E2E_SUITES (default: none), then an interactive
#                             dom0 shell on this terminal (QEMU: Ctrl-a x quits)
#
# Environment (all optional):
#   E2E_ARCH=amd64        amd64 (PV guest) or arm64 (PVH guest, cross-compiled binaries)
#   E2E_BIN=DIR           every executable file in DIR goes to /usr/sbin in dom0; its
#                         shared libraries are taken from the unpacked target debs
#   E2E_SUITES="a b"      scenarios/<name>.sh to run, in order, in one boot
#                         (default for run: every scenarios/*.sh, sorted); one that says
#                         "# e2e-init: systemd" runs last, under systemd as dom0's PID 1
#                         (build_systemd: its files are appended to that boot only)
#   E2E_CONFIG=DIR        copied to /etc/domud in dom0 (default: <repo>/config, if present)
#   E2E_WORK=/var/tmp/domud-e2e   cache + work dir (one subdir per arch)
#   E2E_TIMEOUT=1500      hard limit (s) for one QEMU boot
#   E2E_SUITE_TIMEOUT=600 per-scenario limit (s) inside dom0 (a scenario may override
#                         it with a line "# e2e-timeout: N")
#   E2E_MEM=2048          MiB of the emulated machine; E2E_DOM0_MEM=1024M for dom0
#   E2E_DOM0_VCPUS=1      dom0 vCPUs (2 corrupts dom0 memory under TCG, see qemu_cmd)
#   E2E_CPUS=2            physical CPUs of the emulated machine (Xen's); a suite that
#                         needs more says "# e2e-cpus: N" and the boot takes the most
#   E2E_EXTRA_DEBS="p q"  more target packages to unpack (for libraries our binaries need)
#   E2E_DOM0_ARGS="..."   extra dom0 kernel command-line words (no commas)
#   E2E_QEMU_CPU=...      override the QEMU CPU model
#   E2E_QEMU_EXTRA="..."  more QEMU arguments (words), e.g. another machine or device; a
#                         suite may ask for them with "# e2e-qemu-ARCH: ..." (the first
#                         chosen suite that does wins)
#   E2E_XEN_ARGS="..."    more Xen command-line words
#   E2E_PERSIST_MIB=256   size of the persistent dom0 disk (sparse) of a suite that says
#                         "# e2e-boots: N": such a suite gets boots of its own, after the
#                         others' boot, over one fresh disk; a boot that ends with dom0's
#                         power cut (E2E-POWER-CUT, lib.sh's power_cut) is followed by the
#                         next, up to N
#
# Output: PASS/FAIL/SKIP/bench lines from dom0 (without the "E2E: " prefix), "# ..." info
# lines, then "N passed, N failed" (all boots together). Exit 0 only if nothing failed,
# something passed and each boot sequence reached dom0's end marker. The full serial
# log of each boot is kept in the work dir.

# The whole script is one brace group: bash parses it completely before running it, so
# editing this file while a run is in progress cannot break that run. (shellcheck
# then believes the functions are unreachable.)
# shellcheck disable=SC2317
{
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ARCH=${E2E_ARCH:-amd64}
case "$ARCH" in
  amd64) TRIPLET=x86_64-linux-gnu;  GUEST_TYPE=pv ;;
  arm64) TRIPLET=aarch64-linux-gnu; GUEST_TYPE=pvh ;;
  *) echo "E2E_ARCH must be amd64 or arm64" >&2; exit 2 ;;
esac
TOP=${E2E_WORK:-/var/tmp/domud-e2e}
W=$TOP/$ARCH
X=$W/extract          # dpkg -x of every runtime deb (the target's userland)
S=$W/sysroot          # dpkg -x of the -dev debs (arm64: a sysroot for cross builds)
B=$W/boot             # what QEMU boots
E2E_TIMEOUT=${E2E_TIMEOUT:-1500}
E2E_SUITE_TIMEOUT=${E2E_SUITE_TIMEOUT:-600}
E2E_MEM=${E2E_MEM:-2048}
E2E_DOM0_MEM=${E2E_DOM0_MEM:-1024M}
E2E_DOM0_VCPUS=${E2E_DOM0_VCPUS:-1}
E2E_CPUS=${E2E_CPUS:-2}
# TCG: SMAP/SMEP under -cpu max crash the PV dom0 on its first fault; emulated SVM
# cannot report RDTSCP's length to Xen, which breaks PVH guests.
if [ "$ARCH" = arm64 ]; then QEMU_CPU=${E2E_QEMU_CPU:-cortex-a57}
# amd64: the plain qemu64 model (+svm for PVH guests). With "max", TCG's emulation
# of its extra features corrupted dom0 memory under load: busybox segfaults on TLS
# reads, XZ data errors in the domain builder, guests dying at boot, libxl's xenstore
# connections failing; qemu64 showed none of it in the same scenarios.
else QEMU_CPU=${E2E_QEMU_CPU:-qemu64,+svm}; fi
XENV=4.17
IMG=/var/lib/domud/images/busybox     # where the test guest's files live in dom0

HOST_PKGS=(cpio kmod e2fsprogs binutils xz-utils gzip)
case "$ARCH" in
  amd64) HOST_PKGS+=(qemu-system-x86) ;;
  arm64) HOST_PKGS+=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross) ;;
esac
# Target debs, only unpacked (dpkg -x), never installed: Xen + its libraries, the
# dom0 userland (busybox, plus the real bash/ip/iptables/flock/losetup/stat that
# Xen's hotplug scripts need), the libraries domud links against, and their deps.
RUN_DEBS=("xen-hypervisor-$XENV-$ARCH" "xen-utils-$XENV" xen-utils-common xenstore-utils
          libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 "libxenmisc$XENV"
          libxenstore4 libxentoollog1 libxentoolcore1 libxendevicemodel1 libxenhypfs1
          libyajl2 libuuid1 zlib1g liblzma5 libzstd1 libfdt1 libgcc-s1 libc6
          libinih1 libnl-3-200 libnl-route-3-200 libsodium23 libseccomp2 signify-openbsd
          busybox-static bash libtinfo6 iproute2 libbpf1 libelf1 libmnl0 libcap2 libbsd0 libmd0
          libdb5.3 libselinux1 libpcre2-8-0 iptables libxtables12 libip4tc2 libip6tc2
          libnftnl11 libnetfilter-conntrack3 libnfnetlink0 util-linux mount libmount1 libblkid1
          libsmartcols1 coreutils xfsprogs liburcu8)
# systemd as dom0's init, for the suites that say "# e2e-init: systemd" (a cpio of
# its own, appended only to their boot: build_systemd)
SYSTEMD_DEBS=(systemd libsystemd-shared libacl1 libapparmor1 libaudit1 libcap-ng0 libcrypt1
              libgcrypt20 libgpg-error0 libkmod2 liblz4-1 libpam0g libssl3)
RUN_DEBS+=("${SYSTEMD_DEBS[@]}")
read -r -a EXTRA_DEBS <<< "${E2E_EXTRA_DEBS:-}"
RUN_DEBS+=("${EXTRA_DEBS[@]}")
# Libraries copied into dom0 even if no dom0 tool needs them (our binaries will).
DOMUD_LIBS=(libinih.so.1 libyajl.so.2 libnl-3.so.200 libnl-route-3.so.200
            libip4tc.so.2 libxenlight.so.4.17 libxenctrl.so.4.17 libxenguest.so.4.17
            libxlutil.so.4.17 libxenstore.so.4 libxentoollog.so.1 libgcc_s.so.1
            libsodium.so.23 libseccomp.so.2)
# arm64: -dev debs (plus their runtime libs) forming a sysroot for cross builds
DEV_DEBS=(libxen-dev libyajl-dev uuid-dev zlib1g-dev libfdt-dev liblzma-dev libzstd-dev
          libsodium-dev libsodium23 libseccomp-dev libseccomp2 libinih-dev libnl-3-dev libnl-route-3-dev libiptc-dev libip4tc-dev libip6tc-dev
          libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 "libxenmisc$XENV"
          libxenstore4 libxentoollog1 libxentoolcore1 libxendevicemodel1 libxenhypfs1
          libyajl2 libuuid1 zlib1g liblzma5 libzstd1 libfdt1 libinih1 libnl-3-200
          libnl-route-3-200 libip4tc2 libip6tc2)
# dom0 kernel modules (dependencies follow automatically; built-ins are skipped)
DOM0_MODULES=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-blkback loop
              bridge br_netfilter veth tun dummy
              nf_conntrack nf_nat x_tables ip_tables iptable_filter iptable_nat iptable_mangle
              xt_nat xt_MASQUERADE xt_physdev xt_tcpudp xt_conntrack xt_addrtype xt_comment xt_state
              xt_multiport xt_mark nf_tables nft_compat nft_chain_nat nft_masq
              virtio_pci virtio_blk ext4	# the persistent disk: loaded only in its boots
              xen-pciback xfs)	# the last: copied, loaded by the scenario that needs it
DOMU_MODULES=(xen-netfront xen-blkfront ext4)
# copied into the guest, loaded only on demand (/init: e2e.watchdog)
DOMU_EXTRA_MODULES=(xen_wdt xen-pcifront)

log() { printf '[e2e %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt for the target arch with package lists of its own: the host's apt state is untouched
APTO=(-oAPT::Architecture="$ARCH" -oAPT::Architectures="$ARCH" -oDir::State::Lists="$W/apt/lists"
      -oDir::Cache="$W/apt/cache" -oDebug::NoLocking=1)
tapt_update() {
  mkdir -p "$W/apt/lists/partial" "$W/apt/cache/archives/partial"
  apt-get "${APTO[@]}" update -qq >&2
}

kernel_pkg() {
  local p
  p=$(apt-cache "${APTO[@]}" depends "linux-image-$ARCH" 2>/dev/null |
      awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$p" ] || die "cannot resolve linux-image-$ARCH"
  echo "$p"
}

download() { # dir pkgs...: apt-get download whatever is not there yet
  local dir=$1; shift
  local get=() p
  mkdir -p "$dir"
  for p in "$@"; do compgen -G "$dir/${p}_*.deb" >/dev/null || get+=("$p"); done
  [ ${#get[@]} -gt 0 ] || return 0
  log "apt-get download ($ARCH) ${get[*]}"
  # (apt's "unsandboxed download" notice when running as root is noise)
  (cd "$dir" || exit 1; apt-get "${APTO[@]}" download -qq "${get[@]}" 2>&1 | grep -v unsandboxed || true) >&2
  local again=()
  for p in "${get[@]}"; do compgen -G "$dir/${p}_*.deb" >/dev/null || again+=("$p"); done
  [ ${#again[@]} -gt 0 ] || return 0
  # the cached package lists may name versions the mirror no longer has: refresh once
  log "retrying ${again[*]} with fresh package lists"
  tapt_update
  (cd "$dir" || exit 1; apt-get "${APTO[@]}" download -qq "${again[@]}" 2>&1 | grep -v unsandboxed || true) >&2
  for p in "${again[@]}"; do
    compgen -G "$dir/${p}_*.deb" >/dev/null || die "download of $p ($ARCH) failed"
  done
}

unpack() { # debdir target: dpkg -x every deb, again only when the set of debs changed
  local sig p
  sig=$(cd "$1" && printf '%s\n' *.deb | md5sum | cut -d' ' -f1)
  [ "$(cat "$2/.sig" 2>/dev/null)" = "$sig" ] && return 0
  log "unpacking $(cd "$1" && printf '%s\n' *.deb | wc -l) debs into $2"
  rm -rf "$2"; mkdir -p "$2"
  for p in "$1"/*.deb; do dpkg -x "$p" "$2"; done
  echo "$sig" > "$2/.sig"
}

# ---------------------------------------------------------------------------
cmd_fetch() {
  [ "$(id -u)" = 0 ] || die "run as root"
  local missing=() p
  for p in "${HOST_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ -z "$(find "$W/apt/lists" -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ]; then tapt_update; fi
  local kpkg; kpkg=$(kernel_pkg)
  download "$W/debs" "${RUN_DEBS[@]}" "$kpkg"
  unpack "$W/debs" "$X"
  local kver=${kpkg#linux-image-}
  if [ "$(cat "$X/.kver" 2>/dev/null)" != "$kver" ]; then depmod -b "$X" "$kver"; echo "$kver" > "$X/.kver"; fi
  if [ "$ARCH" != amd64 ]; then
    download "$W/devdebs" "${DEV_DEBS[@]}"
    unpack "$W/devdebs" "$S"
    log "cross sysroot for $ARCH: $S (e.g. aarch64-linux-gnu-gcc -isystem $S/usr/include -L $S/usr/lib/$TRIPLET -Wl,-rpath-link,$S/usr/lib/$TRIPLET)"
  fi
  log "fetch ok ($ARCH): kernel $(cat "$X/.kver"), $(find "$W/debs" -name '*.deb' | wc -l) debs"
}

# ---------------------------------------------------------------------------
LIBDIRS=()
set_libdirs() { LIBDIRS=("$X/lib/$TRIPLET" "$X/usr/lib/$TRIPLET" "$X/usr/lib/xen-$XENV/lib/$TRIPLET"
                          "$X/usr/lib/$TRIPLET/systemd"); }
find_lib() { find "${LIBDIRS[@]}" -maxdepth 1 -name "$1" 2>/dev/null | head -1; }

# copy_libs ROOT [SKIPROOT]: copy every shared library that the ELF files under ROOT
# need (DT_NEEDED, recursively) from the unpacked target userland into ROOT/lib/<triplet>,
# except those already in SKIPROOT. readelf works for a foreign arch, ldd would not.
copy_libs() {
  local root=$1 skip=${2:-} f n l
  local -A seen=()
  local queue=()
  set_libdirs
  while IFS= read -r f; do queue+=("$f"); done < <(find "$root" -type f -perm -u+x ! -path '*/lib/modules/*')
  mkdir -p "$root/lib/$TRIPLET"
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}; queue=("${queue[@]:1}")
    for n in $(readelf -d "$f" 2>/dev/null | awk '/\(NEEDED\)/{gsub(/[][]/,"",$5); print $5}'); do
      [ -n "${seen[$n]:-}" ] && continue; seen[$n]=1
      if [ -n "$skip" ] && [ -e "$skip/lib/$TRIPLET/$n" ]; then continue; fi
      l=$(find_lib "$n")
      [ -n "$l" ] || die "no $n (needed by ${f#"$root"}) in the unpacked debs: add its package with E2E_EXTRA_DEBS"
      cp -L "$l" "$root/lib/$TRIPLET/$n"
      queue+=("$root/lib/$TRIPLET/$n")
    done
  done
}

install_busybox() { # root
  local root=$1 a list
  mkdir -p "$root/bin"
  cp "$X/bin/busybox" "$root/bin/busybox"
  # the applet list is the same for every arch of this busybox version: read it from
  # a host copy when the target's cannot run here
  list=$("$root/bin/busybox" --list 2>/dev/null) || list=$(busybox_list)
  for a in $list; do
    [ "$a" = busybox ] && continue
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
  done
}
busybox_list() {
  local h=$TOP/host-busybox
  if [ ! -x "$h/bin/busybox" ]; then
    mkdir -p "$h"
    (cd "$h" || exit 1; apt-get download -qq busybox-static 2>&1 | grep -v unsandboxed || true) >&2
    dpkg -x "$h"/busybox-static_*.deb "$h"
  fi
  "$h/bin/busybox" --list
}

copy_modules() { # root kver modules...
  local root=$1 kver=$2; shift 2
  local m f rel
  for m in "$@"; do
    { modprobe -d "$X" -S "$kver" --show-depends "$m" 2>/dev/null || true; } | awk '$1=="insmod"{print $2}' |
    while read -r f; do
      rel=${f#"$X"/}
      mkdir -p "$root/$(dirname "$rel")"
      cp "$f" "$root/$rel"
    done
  done
  cp "$X/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$root" "$kver"
}

mkcpio() { # dir -> cpio (newc) on stdout
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0)
}

build_guest() {
  local kver k RU=$W/guestroot m f
  kver=$(cat "$X/.kver")
  log "building the test guest (busybox initramfs, kernel $kver)"
  rm -rf "$RU"; mkdir -p "$RU"/{dev,proc,sys,mnt,sbin,tmp,lib/modules} "$B/guest"
  install_busybox "$RU"
  install -m755 "$HERE/guest/init" "$RU/init"
  # On a Xen shutdown/reboot request the guest kernel runs /sbin/poweroff or /sbin/reboot
  # (orderly, not forced): without them the guest ignores the request. PID 1 is a shell
  # script, so they act directly. e2e.ignore_shutdown=1 makes /init delete them.
  printf '#!/bin/sh\nsync\nexec /bin/busybox poweroff -f\n' > "$RU/sbin/poweroff"
  printf '#!/bin/sh\nsync\nexec /bin/busybox reboot -f\n' > "$RU/sbin/reboot"
  chmod 755 "$RU/sbin/poweroff" "$RU/sbin/reboot"
  # modules with their dependencies in load order (/init reads load.order)
  : > "$RU/lib/modules/load.order"
  for m in "${DOMU_MODULES[@]}"; do
    modprobe -d "$X" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' |
    while read -r f; do
      [ -e "$RU/lib/modules/$(basename "$f")" ] && continue
      cp "$f" "$RU/lib/modules/"
      basename "$f" >> "$RU/lib/modules/load.order"
    done
  done
  # each with its dependencies, in load order: extra/NAME.order
  mkdir -p "$RU/lib/modules/extra"
  for m in "${DOMU_EXTRA_MODULES[@]}"; do
    : > "$RU/lib/modules/extra/$m.order"
    # (one this arch's kernel lacks, xen-pcifront on arm64, is only said)
    { modprobe -d "$X" -S "$kver" --show-depends "$m" 2>/dev/null || true; } |
    awk '$1=="insmod"{print $2}' |
    while read -r f; do
      cp "$f" "$RU/lib/modules/extra/"
      basename "$f" >> "$RU/lib/modules/extra/$m.order"
    done
    [ -s "$RU/lib/modules/extra/$m.order" ] || log "no module $m in kernel $kver"
  done
  mknod -m 600 "$RU/dev/console" c 5 1
  mkcpio "$RU" | gzip -9 > "$B/guest/initrd.cpio.gz"
  k="$X/boot/vmlinuz-$kver"
  cp "$k" "$B/guest/vmlinuz"
  rm -f "$B/guest/vmlinux"
  if [ "$ARCH" = amd64 ]; then
    # Debian's bzImage carries an xz payload; the PV domain builder loads the bare ELF
    # about 5x faster (no decompression under emulation)
    local off
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ' "$k" | head -1 | cut -d: -f1)
    tail -c +$((off + 1)) "$k" | xz -dc 2>/dev/null > "$B/guest/vmlinux" || true
    objcopy --strip-all "$B/guest/vmlinux"
    readelf -h "$B/guest/vmlinux" >/dev/null 2>&1 || die "could not extract the ELF vmlinux"
  fi
  # 8 MiB ext4 image with a marker file, for disk tests
  rm -rf "$W/diskroot"; mkdir -p "$W/diskroot"
  echo "E2E-DISK-MARKER" > "$W/diskroot/marker"
  rm -f "$B/guest/data.img"
  mke2fs -q -t ext4 -d "$W/diskroot" "$B/guest/data.img" 8M >&2
}

# dom0 base initramfs: everything that does not change between runs. The per-run
# overlay (our binaries, config, scenarios, /init) is a second cpio appended to it:
# the kernel unpacks concatenated archives in order.
build_dom0_base() {
  local kver t R0=$W/dom0root n l
  kver=$(cat "$X/.kver")
  log "building dom0 base initramfs"
  rm -rf "$R0"
  mkdir -p "$R0"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc,dev,proc,sys,run,tmp,var/lib,var/log,root,e2e} \
           "$R0/usr/lib/xen-$XENV/bin" "$R0/lib/$TRIPLET"
  ln -s "../../lib/$TRIPLET" "$R0/usr/lib/$TRIPLET"
  # the real bash, ip, flock, losetup and stat for Xen's hotplug scripts: their locking
  # runs `stat -L -c %D.%i` (busybox's crashes on it), block needs the real losetup
  cp "$X/bin/bash" "$X/bin/ip" "$X/usr/bin/flock" "$R0/bin/"
  cp "$X/sbin/losetup" "$R0/sbin/losetup"
  cp "$X/usr/bin/stat" "$R0/usr/bin/stat"
  # signify, as a field engineer signs a guest update's manifest (update suite)
  cp "$X/bin/signify-openbsd" "$R0/usr/bin/"
  # mkfs.xfs: a reflink filesystem for update_data's snapshots (update suite)
  cp "$X/sbin/mkfs.xfs" "$R0/sbin/"
  # iptables: legacy by default, like libip4tc (which domud uses); nft variants too
  cp "$X/usr/sbin/xtables-nft-multi" "$X/usr/sbin/xtables-legacy-multi" "$R0/usr/sbin/"
  for t in iptables iptables-save iptables-restore iptables-legacy iptables-legacy-save iptables-legacy-restore; do
    ln -s xtables-legacy-multi "$R0/usr/sbin/$t"
  done
  for t in iptables-nft iptables-nft-save iptables-nft-restore; do ln -s xtables-nft-multi "$R0/usr/sbin/$t"; done
  cp -a "$X/usr/lib/$TRIPLET/xtables" "$R0/lib/$TRIPLET/"
  install_busybox "$R0"
  ln -s ../bin/busybox "$R0/sbin/modprobe"
  # Xen tools: the real binaries, not Debian's /usr/sbin wrapper scripts
  for t in xl xenstored oxenstored xenconsoled xen-init-dom0 xenconsole xenstore-control; do
    [ -e "$X/usr/lib/xen-$XENV/bin/$t" ] || continue
    cp "$X/usr/lib/xen-$XENV/bin/$t" "$R0/usr/lib/xen-$XENV/bin/"
    ln -sf "../lib/xen-$XENV/bin/$t" "$R0/usr/sbin/$t"
  done
  cp "$X/usr/bin/xenstore" "$R0/usr/bin/xenstore"
  for t in read write exists list ls rm chmod watch; do ln -s xenstore "$R0/usr/bin/xenstore-$t"; done
  cp -a "$X/etc/xen" "$R0/etc/"
  mkdir -p "$R0/etc/xen/auto"
  # the test guest
  mkdir -p "$R0$IMG"
  cp "$B"/guest/* "$R0$IMG/"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$R0/etc/passwd"
  printf 'root:x:0:\ntty:x:5:\n' > "$R0/etc/group"
  copy_modules "$R0" "$kver" "${DOM0_MODULES[@]}"
  copy_libs "$R0"
  # libraries domud needs even though no dom0 tool does
  set_libdirs
  for n in "${DOMUD_LIBS[@]}"; do
    [ -e "$R0/lib/$TRIPLET/$n" ] && continue
    l=$(find_lib "$n")
    if [ -n "$l" ]; then cp -L "$l" "$R0/lib/$TRIPLET/$n"; else log "warning: $n not found in the debs"; fi
  done
  copy_libs "$R0"
  # the dynamic loader
  l=$(find "$X/lib/$TRIPLET" "$X/usr/lib/$TRIPLET" -maxdepth 1 -name 'ld-linux*.so.*' | head -1)
  cp -L "$l" "$R0/lib/$TRIPLET/"
  case "$ARCH" in
    amd64) mkdir -p "$R0/lib64"; ln -sf "../lib/$TRIPLET/$(basename "$l")" "$R0/lib64/$(basename "$l")" ;;
    arm64) ln -sf "$TRIPLET/$(basename "$l")" "$R0/lib/$(basename "$l")" ;;
  esac
  printf '/lib/%s\n' "$TRIPLET" > "$R0/etc/ld.so.conf"
  # the host's ldconfig indexes its own arch only; elsewhere LD_LIBRARY_PATH (set by /init) serves
  if [ "$ARCH" = amd64 ]; then ldconfig -r "$R0"; fi
  mknod -m 600 "$R0/dev/console" c 5 1
  # uncompressed: no decompression time in dom0
  mkcpio "$R0" > "$B/dom0-base.cpio.tmp"
  mv "$B/dom0-base.cpio.tmp" "$B/dom0-base.cpio"
}

# systemd as dom0's init (suites that say "# e2e-init: systemd"): $B/systemd.cpio, the
# manager, systemctl, the few units a boot and a poweroff need and their libraries,
# appended to those boots' initramfs only. dom0's /init execs the manager after the
# other suites; default.target is e2e.target: e2e.service runs `/init --systemd`.
build_systemd() {
  local R=$W/systemdroot u l
  rm -f "$B/systemd.cpio"
  if [ ! -x "$X/lib/systemd/systemd" ]; then
    log "no systemd in the unpacked debs ($X): run 'tests/e2e/run.sh fetch'; suites with e2e-init: systemd will fail"
    return 0
  fi
  rm -rf "$R"
  mkdir -p "$R/lib/systemd/system" "$R/bin" "$R/etc/systemd/system" "$R/lib/$TRIPLET/systemd"
  cp "$X/lib/systemd/systemd" "$X/lib/systemd/systemd-shutdown" "$R/lib/systemd/"
  cp "$X/bin/systemctl" "$R/bin/"
  # the targets and slices (not their .wants: nothing else starts), the poweroff
  for u in "$X"/lib/systemd/system/*.target "$X"/lib/systemd/system/*.slice \
           "$X"/lib/systemd/system/systemd-{poweroff,halt,reboot}.service; do
    [ -f "$u" ] && cp "$u" "$R/lib/systemd/system/"
  done
  rm -f "$R"/lib/systemd/system/system-systemd*
  copy_libs "$R" "$W/dom0root"
  # where the binaries' RUNPATH looks for systemd's own libraries
  for l in "$R/lib/$TRIPLET"/libsystemd-{core,shared}-*.so; do mv "$l" "$R/lib/$TRIPLET/systemd/"; done
  ln -s ../../lib/systemd/systemd "$R/bin/systemd"
  # the manager logs to the console (hvc0: the harness log); no journald: services'
  # output goes there too. /init's library path for every service (arm64's dom0 has
  # no ld.so.cache for them)
  cat > "$R/etc/systemd/system.conf" <<'EOF2'
[Manager]
LogTarget=console
LogLevel=info
ShowStatus=yes
DefaultStandardOutput=tty
DefaultStandardError=inherit
DefaultEnvironment=LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/lib/aarch64-linux-gnu
EOF2
  cat > "$R/etc/systemd/system/e2e.target" <<'EOF2'
[Unit]
Description=domud e2e: the suites under systemd
Wants=e2e.service
EOF2
  cat > "$R/etc/systemd/system/e2e.service" <<'EOF2'
[Unit]
Description=domud e2e: the suites that say e2e-init: systemd, then poweroff
DefaultDependencies=no
[Service]
Type=simple
ExecStart=/init --systemd
StandardInput=null
StandardOutput=tty
StandardError=tty
EOF2
  ln -s e2e.target "$R/etc/systemd/system/default.target"
  mkcpio "$R" > "$B/systemd.cpio"
  log "systemd for dom0: $(du -h "$B/systemd.cpio" | cut -f1)"
}

# what the base images are built from: when it changes, `run` rebuilds them
base_sig() {
  { cat "$X/.sig" "$X/.kver"; cat "$HERE/run.sh" "$HERE/guest/init"; } | md5sum | cut -d' ' -f1
}

cmd_build() {
  [ -f "$X/.kver" ] || cmd_fetch
  local kver; kver=$(cat "$X/.kver")
  mkdir -p "$B"
  case "$ARCH" in
    # QEMU's multiboot loader wants the 32-bit ELF, not the gzip'd file
    amd64) zcat "$X/boot/xen-$XENV-amd64.gz" > "$B/xen" ;;
    arm64) cp "$X/boot/xen-$XENV-arm64" "$B/xen" ;;
  esac
  cp "$X/boot/vmlinuz-$kver" "$B/vmlinuz"
  build_guest
  build_dom0_base
  build_systemd
  base_sig > "$B/.sig"
  log "build ok ($ARCH): dom0 base $(du -h "$B/dom0-base.cpio" | cut -f1), guest initramfs $(du -h "$B/guest/initrd.cpio.gz" | cut -f1)"
}

build_if_stale() {
  [ -f "$X/.kver" ] || cmd_fetch
  if [ ! -s "$B/dom0-base.cpio" ] || [ "$(cat "$B/.sig" 2>/dev/null)" != "$(base_sig)" ]; then cmd_build; fi
}

# ---------------------------------------------------------------------------
# The per-run overlay: /init, /e2e (lib.sh, scenarios, suite list), our binaries in
# /usr/sbin with whatever extra libraries they need, and /etc/domud.
SUITES=()
build_overlay() { # out-initrd
  local out=$1 O f name
  O=$(mktemp -d "$W/overlay.XXXXXX")
  mkdir -p "$O/e2e" "$O/usr/sbin" "$O/etc/domud" "$O/lib/$TRIPLET"
  # /e2e is scenarios' run_images: writable by root only, whatever the umask
  chmod 0755 "$O/e2e"
  install -m755 "$HERE/dom0-init.sh" "$O/init"
  install -m644 "$HERE/lib.sh" "$O/e2e/lib.sh"
  cp -r "$HERE/scenarios" "$O/e2e/scenarios"
  # the OTA adapters and their driver, for the update suite
  mkdir -p "$O/e2e/ota"
  cp -r "$HERE/../../contrib/ota/." "$O/e2e/ota/"
  cp "$HERE/../ota/drive.sh" "$O/e2e/ota/drive.sh"
  for name in "${SUITES[@]}"; do
    [ -f "$HERE/scenarios/$name.sh" ] || die "no scenario $HERE/scenarios/$name.sh"
  done
  printf '%s\n' "${SUITES[@]}" > "$O/e2e/suites"
  {
    echo "E2E_ARCH=$ARCH"
    echo "E2E_GUEST_TYPE=$GUEST_TYPE"
    echo "E2E_SUITE_TIMEOUT=$E2E_SUITE_TIMEOUT"
  } > "$O/e2e/env"
  if [ -n "${E2E_BIN:-}" ]; then
    [ -d "$E2E_BIN" ] || die "E2E_BIN=$E2E_BIN is not a directory"
    while IFS= read -r -d '' f; do
      cp -L "$f" "$O/usr/sbin/"
      basename "$f" >> "$O/e2e/bins"
      log "dom0 /usr/sbin/$(basename "$f") <- $f"
    done < <(find -L "$E2E_BIN" -maxdepth 1 -type f -perm -u+x -print0)
  fi
  # the guest agent, for memres guests: a cpio to append to the guest's
  # initramfs (the kernel unpacks concatenated archives in order)
  if [ -n "${E2E_BIN:-}" ] && [ -x "$E2E_BIN/domud-agent" ]; then
    local A
    A=$(mktemp -d "$W/agent.XXXXXX")
    mkdir -p "$A/sbin"
    cp -L "$E2E_BIN/domud-agent" "$A/sbin/domud-agent"
    install -m755 "$HERE/guest/vxn-init" "$A/sbin/vxn-init"
    mkcpio "$A" > "$O/e2e/agent.cpio"
    rm -rf "$A"
  fi
  # an ext4 image with programs, for `domuctl run --disk`
  local R
  R=$(mktemp -d "$W/runimg.XXXXXX")
  printf '#!/bin/sh\necho "RUN-HELLO $*"\nexit 7\n' > "$R/hello"
  printf '#!/bin/sh\necho "RUN-FAIL" >&2\nexit 3\n' > "$R/fail"
  chmod 755 "$R/hello" "$R/fail"
  mke2fs -q -t ext4 -d "$R" "$O/e2e/run.img" 4M >&2 || die "mke2fs run.img"
  rm -rf "$R"
  local cfg=${E2E_CONFIG:-$REPO/config}
  if [ -d "$cfg" ]; then
    cp -rL "$cfg"/. "$O/etc/domud/"
  elif [ -n "${E2E_CONFIG:-}" ]; then
    die "E2E_CONFIG=$E2E_CONFIG is not a directory"
  fi
  # systemd, for the suites that run under it, and domud's unit as `make install`
  # puts it (build_systemd)
  local sd=""
  for name in "${SUITES[@]}"; do
    grep -q '^# *e2e-init: *systemd' "$HERE/scenarios/$name.sh" && sd=$B/systemd.cpio
  done
  if [ -n "$sd" ]; then
    [ -s "$sd" ] || log "warning: no $sd (tests/e2e/run.sh fetch, then build): the systemd suites fail"
    mkdir -p "$O/lib/systemd/system"
    sed -e 's|@SBINDIR@|/usr/sbin|g' -e 's|@SYSCONFDIR@|/etc|g' \
      "$REPO/rootfs-overlay/lib/systemd/system/domud.service" > "$O/lib/systemd/system/domud.service"
  fi
  copy_libs "$O" "$W/dom0root"
  rmdir "$O/lib/$TRIPLET" 2>/dev/null || true
  { cat "$B/dom0-base.cpio"; [ -s "$sd" ] && cat "$sd"; mkcpio "$O"; } > "$out"
  rm -rf "$O"
}

# shellcheck disable=SC2054  # the commas are QEMU's option syntax, not array separators
qemu_cmd() { # initrd extra-dom0-args
  # dom0's command line must not contain a comma: QEMU's x86 multiboot module list is
  # comma-separated (the same line is used on arm64 for symmetry)
  local initrd=$1 dom0_args="console=hvc0 loglevel=4 $2 ${E2E_DOM0_ARGS:-}"
  # One dom0 vCPU: with two (and -cpu max), dom0 memory got corrupted while domains
  # were built; one was the first mitigation found, before the CPU model (see QEMU_CPU).
  local xen_common="dom0_mem=$E2E_DOM0_MEM,max:$E2E_DOM0_MEM dom0_max_vcpus=$E2E_DOM0_VCPUS loglvl=all guest_loglvl=all ${E2E_XEN_ARGS:-}"
  case "$ARCH" in
    amd64)
      QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu "$QEMU_CPU" -smp "$E2E_CPUS" -m "$E2E_MEM"
            -nographic -nic none -no-reboot
            -kernel "$B/xen" -append "console=com1 com1=115200,8n1 $xen_common"
            -initrd "$B/vmlinuz earlyprintk=xen $dom0_args,$initrd") ;;
    arm64)
      # QEMU's guest-loader puts dom0's kernel and initrd where Xen's device tree says;
      # the virt machine needs EL2 for Xen
      QEMU=(qemu-system-aarch64 -accel tcg,thread=multi -machine virt,virtualization=on,gic-version=3
            -cpu "$QEMU_CPU" -smp "$E2E_CPUS" -m "$E2E_MEM" -nographic -nic none -no-reboot
            -kernel "$B/xen" -append "console=dtuart $xen_common"
            -device "guest-loader,addr=0x49000000,kernel=$B/vmlinuz,bootargs=earlycon=xenboot $dom0_args"
            -device "guest-loader,addr=0x50000000,initrd=$initrd") ;;
  esac
  local extra=()
  read -r -a extra <<< "${E2E_QEMU_EXTRA:-}"
  QEMU+=("${extra[@]}")
}

pick_suites() { # default: all scenarios, sorted
  local s
  if [ -n "${E2E_SUITES+x}" ]; then
    read -r -a SUITES <<< "$E2E_SUITES"
  else
    SUITES=()
    for s in "$HERE"/scenarios/*.sh; do [ -e "$s" ] && SUITES+=("$(basename "$s" .sh)"); done
  fi
  return 0
}

# suite_num SUITE KEY: the number on the suite's line "# KEY: N" (empty if none)
suite_num() {
  sed -n "s/^# *$2: *\([0-9]*\).*/\1/p" "$HERE/scenarios/$1.sh" 2>/dev/null | head -1
}
suite_boots() { local n; n=$(suite_num "$1" e2e-boots); echo "${n:-1}"; }

# what the environment asked for, before group_conf adapts it to each boot's suites
BASE_CPUS=$E2E_CPUS BASE_QEMU_EXTRA=${E2E_QEMU_EXTRA:-} BASE_TIMEOUT=$E2E_TIMEOUT
group_conf() { # the machine for $SUITES: the most CPUs any asks for, the first's QEMU words
  local s n
  E2E_CPUS=$BASE_CPUS E2E_QEMU_EXTRA=$BASE_QEMU_EXTRA E2E_TIMEOUT=$BASE_TIMEOUT
  for s in "${SUITES[@]}"; do
    n=$(suite_num "$s" e2e-cpus)
    [ -n "$n" ] && [ "$n" -gt "$E2E_CPUS" ] && E2E_CPUS=$n
    n=$(sed -n "s/^# *e2e-qemu-$ARCH: *//p" "$HERE/scenarios/$s.sh" 2>/dev/null | head -1)
    [ -n "$n" ] && [ -z "$E2E_QEMU_EXTRA" ] && E2E_QEMU_EXTRA=$n
  done
  return 0
}

# the boot's limit: no more than its suites' own limits and 5 minutes for
# the boot and the end, so that a machine that hangs (seen once: the q35
# machine silent during part/pci) is given up on when no suite can still run
# (each boot of a suite with e2e-boots has this limit)
boot_limit() {
  local s n sum=300
  for s in "${SUITES[@]}"; do
    n=$(suite_num "$s" e2e-timeout)
    sum=$(( sum + ${n:-${E2E_SUITE_TIMEOUT:-600}} ))
  done
  [ "$sum" -lt "$E2E_TIMEOUT" ] && E2E_TIMEOUT=$sum
  return 0
}

# Read QEMU's output: stamp each line with seconds since $1 (EPOCHREALTIME) into the
# log, and echo the harness lines (E2E: PASS/FAIL/bench/INFO) as they arrive.
filter() {
  local t0=${1/./} logf=$2 now ms line re='E2E: (PASS|FAIL|SKIP|bench:|INFO)( (.*))?$'
  while IFS= read -r line; do
    line=${line//$'\r'/}
    now=${EPOCHREALTIME/./}
    ms=$(( (now - t0) / 1000 ))
    printf '%4d.%03d %s\n' $((ms / 1000)) $((ms % 1000)) "$line" >> "$logf"
    if [[ $line =~ $re ]]; then
      case "${BASH_REMATCH[1]}" in
        INFO) echo "# ${BASH_REMATCH[3]}" ;;
        *) echo "${BASH_REMATCH[1]}${BASH_REMATCH[2]}" ;;
      esac
    fi
  done
}

# log time of the first line of QEMU's matching (not the host's lines: "E2E: ...")
at() { grep -v '^E2E: ' "$1" | grep -m1 -- "$2" | awk '{print $1}'; }

# a line of the host's own (PASS/FAIL/INFO ...): into the boot's log, where it is
# counted with dom0's, and on the output as dom0's are
host_say() { # logf line
  echo "E2E: $2" >> "$1"
  case "$2" in INFO\ *) echo "# ${2#INFO }" ;; *) echo "$2" ;; esac
}

# boot_once INITRD LOGF DISK K N: one boot of the machine with $SUITES (boot K of N over
# the persistent dom0 disk DISK, if any). BOOT_END: done (dom0's E2E-DONE), cut (dom0
# cut the power: E2E-POWER-CUT) or dead. The log goes to LOGS (and BAD_LOGS if it failed).
BOOT_END='' LOGS=() BAD_LOGS=() UNFINISHED=0
boot_once() {
  local initrd=$1 logf=$2 disk=$3 k=$4 n=$5 pidf=$W/qemu-$$.pid what=""
  if [ -n "$disk" ]; then
    qemu_cmd "$initrd" "e2e.boot=$k e2e.boots=$n e2e.persist=1"
    # the board's own disk: virtio-blk on PCI, the same device and dom0 modules on
    # both arches; QEMU's writeback cache outlives each QEMU (the host's page cache).
    # vectors=0: no MSI-X, its INTx line (arm64's dom0 has no MSI under Xen: a kernel
    # WARNING in pci_msi_setup_msi_irqs at each probe, then INTx all the same)
    # shellcheck disable=SC2054  # QEMU's commas
    QEMU+=(-drive "file=$disk,format=raw,if=none,id=persist"
           -device virtio-blk-pci,drive=persist,vectors=0)
    what=" boot $k of $n over $(basename "$disk"),"
  else
    qemu_cmd "$initrd" ""
  fi
  rm -f "$pidf"; : > "$logf"
  LOGS+=("$logf")
  ln -sfn "logs/$(basename "$logf")" "$W/last.log"
  log "booting Xen + dom0 ($ARCH),$what suites: ${SUITES[*]:-none}; log: $logf"
  # interrupted (Ctrl-C, CI stop): stop our QEMU, by its own PID only
  # shellcheck disable=SC2064  # expand the paths now
  trap "[ -s '$pidf' ] && kill \"\$(cat '$pidf')\" 2>/dev/null; rm -f '$initrd' '$disk'; exit 130" INT TERM
  local t0=$EPOCHREALTIME
  ( timeout -s KILL "$E2E_TIMEOUT" "${QEMU[@]}" -pidfile "$pidf" </dev/null 2>&1 | filter "$t0" "$logf" ) &
  local bg=$! deadline=$(( ${t0%.*} + E2E_TIMEOUT + 5 )) size=-1 still=0 hung="" sz
  while kill -0 "$bg" 2>/dev/null; do
    grep -qE '^ *[0-9.]* E2E-(DONE|POWER-CUT)' "$logf" && break
    [ "$(date +%s)" -lt "$deadline" ] || break
    # E2E_SILENCE=S: a machine that prints nothing for S seconds has hung
    if [ "${E2E_SILENCE:-0}" -gt 0 ]; then
      sz=$(stat -c %s "$logf" 2>/dev/null || echo 0)
      if [ "$sz" = "$size" ]; then still=$((still + 1)); else still=0 size=$sz; fi
      if [ "$still" -ge $(( E2E_SILENCE * 2 )) ]; then
        hung=$(tail -n 1 "$logf" | cut -c1-120)
        break
      fi
    fi
    sleep 0.5
  done
  # dom0 powers off after E2E-DONE: give QEMU 15 s. After dom0's power cut (SysRq b,
  # nothing synced) Xen restarts the machine and QEMU, -no-reboot, exits: give it 10 s.
  # Then stop it (only the PID we started): for a power cut, that is the plug pulled.
  local i=0 lim=30 cut=0 pulled=""
  if grep -q '^ *[0-9.]* E2E-POWER-CUT' "$logf"; then cut=1 lim=20; fi
  while kill -0 "$bg" 2>/dev/null && [ $i -lt $lim ]; do sleep 0.5; i=$((i + 1)); done
  if kill -0 "$bg" 2>/dev/null && [ -s "$pidf" ]; then
    kill "$(cat "$pidf")" 2>/dev/null && pulled=1
  fi
  wait "$bg" 2>/dev/null || true
  trap - INT TERM
  rm -f "$pidf"
  local total; total=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')

  # observe/metrics-promtool: the metrics file the scenario printed, through
  # promtool on this machine (a 48 MB tool has no place in dom0's initramfs)
  if grep -q 'E2E: METRICS ' "$logf"; then
    local prom promtool res
    prom=$W/metrics-$(basename "$logf" .log | sed 's/^run-//').prom
    sed -n 's/^ *[0-9.]* E2E: METRICS //p' "$logf" > "$prom"
    if promtool=$("$HERE/../../scripts/promtool.sh") && res=$("$promtool" check metrics < "$prom" 2>&1); then
      host_say "$logf" "PASS observe/metrics-promtool $(grep -c '^domud_' "$prom") series, promtool check metrics clean"
    else
      host_say "$logf" "FAIL observe/metrics-promtool $(echo "$res" | head -n 5 | tr '\n' '|')"
    fi
  fi
  # xljson/NAME: what xl -N create printed in dom0 for tests/xen's guest of this
  # arch against the file make check compares domud's configuration with
  # (its uuid is made anew each time)
  if grep -q 'E2E: XLJSON ' "$logf"; then
    local xj xn want
    case "$ARCH" in amd64) want=x86 ;; arm64) want=arm ;; esac
    for xj in "$REPO"/tests/xen/"$want"-*.xl.json; do
      [ -e "$xj" ] || continue
      xn=$(basename "$xj" .xl.json)
      if sed -n "s/^ *[0-9.]* E2E: XLJSON $xn: //p" "$logf" | sed 's/"uuid": "[^"]*"/"uuid": "-"/' |
         diff <(sed 's/"uuid": "[^"]*"/"uuid": "-"/' "$xj") - > "$W/xljson-$xn.diff"; then
        host_say "$logf" "PASS xljson/$xn xl -N create in dom0 prints tests/xen/$xn.xl.json"
      else
        host_say "$logf" "FAIL xljson/$xn xl prints otherwise than tests/xen/$xn.xl.json: $(grep '^[<>]' "$W/xljson-$xn.diff" | head -n 4 | tr '\n' '|')"
      fi
    done
  fi
  BOOT_END=dead
  if [ -n "$hung" ] && [ "${E2E_HANG_RETRY:-0}" -gt 0 ] && [ -z "$disk" ]; then
    # the machine went silent (the amd64 q35 machine with QEMU's VT-d does, now
    # and then, in part/pci: QEMU idle, no Xen line): this boot is not counted,
    # said, and the caller boots once more
    BOOT_END=hung
    unset 'LOGS[${#LOGS[@]}-1]'
    mv "$logf" "${logf%.log}.hung.log"
    echo "# boot hung: no output for ${E2E_SILENCE}s after '$hung'; QEMU stopped; booting once more (E2E_HANG_RETRY; log ${logf%.log}.hung.log)"
    return 0
  fi
  if grep -q '^ *[0-9.]* E2E-DONE' "$logf"; then
    BOOT_END='done'
    [ "$k" -lt "$n" ] && host_say "$logf" "INFO boot $k of $n ended without a power cut: no boot after it"
  elif [ "$cut" = 1 ]; then
    BOOT_END='cut'
    host_say "$logf" "INFO power cut in boot $k of $n: dom0's marker at $(at "$logf" 'E2E-POWER-CUT')s, QEMU gone at ${total}s ($([ -n "$pulled" ] && echo "stopped by run.sh: still running 10 s after the marker" || echo "exited by itself: Xen restarted the machine"))"
    [ "$k" -lt "$n" ] ||
      host_say "$logf" "FAIL e2e/boot dom0 cut the power in the last boot ($k of $n: the scenario's e2e-boots is too low)"
  fi
  if [ "$BOOT_END" = dead ]; then
    UNFINISHED=1
    host_say "$logf" "FAIL e2e/boot dom0 did not reach E2E-DONE${disk:+ nor a power cut} (${disk:+boot $k of $n, }timeout ${E2E_TIMEOUT}s or crash)"
  fi
  grep -qE 'E2E: FAIL( |$)' "$logf" && BAD_LOGS+=("$logf")
  echo "bench: boot${disk:+ boot=$k/$n} xen_banner_s=$(at "$logf" 'Xen version') dom0_kernel_s=$(at "$logf" 'Linux version') dom0_ready_s=$(at "$logf" 'E2E-READY') done_s=$(at "$logf" 'E2E-DONE')$([ "$cut" = 1 ] && echo " cut_s=$(at "$logf" 'E2E-POWER-CUT')") total_s=$total"
  return 0
}

# run_group BOOTS SUITE...: one boot of the suites; or, for a suite that says
# "# e2e-boots: N" (BOOTS = N > 1), its own boots over one fresh persistent dom0 disk:
# boot 1, and after each boot that dom0 ends with a power cut the next, up to N
run_group() {
  local boots=$1 tag="" initrd disk="" k last logf
  shift
  SUITES=("$@")
  group_conf
  boot_limit
  [ "$boots" -gt 1 ] && tag=-$1
  initrd=$W/dom0-$STAMP$tag.cpio
  build_overlay "$initrd"
  if [ "$boots" -gt 1 ]; then
    # ext4 made here (dom0 has no mkfs), sparse
    disk=$W/persist-$STAMP$tag.img
    rm -f "$disk"
    truncate -s "${E2E_PERSIST_MIB:-256}M" "$disk"
    mke2fs -q -F -t ext4 -L e2e-persist "$disk" >&2 || die "mke2fs $disk"
  fi
  for ((k = 1; k <= boots; k++)); do
    logf=$W/logs/run-$STAMP$tag${disk:+-boot$k}.log
    boot_once "$initrd" "$logf" "$disk" "$k" "$boots"
    if [ "$BOOT_END" = hung ]; then
      E2E_HANG_RETRY=0 boot_once "$initrd" "$logf" "$disk" "$k" "$boots"
    fi
    last=$k
    [ "$BOOT_END" = cut ] || break
  done
  rm -f "$initrd"
  [ -n "$disk" ] || return 0
  # the disk as the last boot left it (dom0 unmounts it before its poweroff)
  local out
  if out=$(e2fsck -fn "$disk" 2>&1); then
    host_say "$logf" "INFO persist disk after boot $last: e2fsck -fn clean, $(echo "$out" | tail -n 1 | sed 's/^[^:]*: //')"
  else
    host_say "$logf" "INFO persist disk after boot $last: e2fsck -fn: $(echo "$out" | grep -vE '^(e2fsck|Pass) ' | head -n 4 | tr '\n' '|')"
  fi
  if grep -qE 'E2E: FAIL( |$)' "$W/logs/run-$STAMP$tag"-boot*.log; then
    host_say "$logf" "INFO persist disk kept: $disk"
  else
    rm -f "$disk"
  fi
}

STAMP=''
cmd_run() {
  pick_suites
  local plain=() multi=() s f n npass=0 nfail=0 nskip=0
  for s in "${SUITES[@]}"; do
    [ -f "$HERE/scenarios/$s.sh" ] || die "no scenario $HERE/scenarios/$s.sh"
    if [ "$(suite_boots "$s")" -gt 1 ]; then multi+=("$s"); else plain+=("$s"); fi
  done
  mkdir -p "$W/logs"
  STAMP=$(date +%Y%m%d-%H%M%S)-$$
  # the suites that need one boot share it; each one that needs more has its own
  if [ ${#plain[@]} -gt 0 ] || [ ${#multi[@]} -eq 0 ]; then run_group 1 "${plain[@]}"; fi
  for s in "${multi[@]}"; do run_group "$(suite_boots "$s")" "$s"; done
  for f in "${LOGS[@]}"; do
    n=$(grep -cE 'E2E: PASS( |$)' "$f" || true); npass=$((npass + n))
    n=$(grep -cE 'E2E: FAIL( |$)' "$f" || true); nfail=$((nfail + n))
    n=$(grep -cE 'E2E: SKIP( |$)' "$f" || true); nskip=$((nskip + n))
  done
  [ "$nskip" = 0 ] || echo "$nskip skipped (SKIP lines above: cannot run on $ARCH)"
  echo "$npass passed, $nfail failed"
  log "serial log$([ ${#LOGS[@]} -gt 1 ] && echo s): ${LOGS[*]}"
  if [ "$nfail" -ne 0 ] || [ "$npass" -eq 0 ] || [ "$UNFINISHED" != 0 ]; then
    [ ${#BAD_LOGS[@]} -gt 0 ] || BAD_LOGS=("${LOGS[-1]}")
    for f in "${BAD_LOGS[@]}"; do { echo "---- last 60 lines of $f ----"; tail -n 60 "$f"; } >&2; done
    return 1
  fi
}

cmd_shell() {
  if [ -z "${E2E_SUITES+x}" ]; then SUITES=(); else pick_suites; fi
  group_conf
  local initrd=$W/dom0-shell-$$.cpio
  build_overlay "$initrd"
  qemu_cmd "$initrd" "e2e.shell=1"
  log "interactive dom0 (QEMU: Ctrl-a x quits, Ctrl-a c monitor)"
  local rc=0
  # --foreground: QEMU must stay in the terminal's process group (else SIGTTOU stops it)
  timeout --foreground -s KILL "$E2E_TIMEOUT" "${QEMU[@]}" || rc=$?
  rm -f "$initrd"
  return $rc
}

# serialise fetch/build per arch (two harness runs may share the work dir)
locked() {
  mkdir -p "$W"
  exec 9> "$W/.lock"
  flock 9
  "$@"
  flock -u 9
}

case "${1:-all}" in
  fetch) locked cmd_fetch ;;
  build) locked cmd_fetch; locked cmd_build ;;
  run)   locked build_if_stale; cmd_run ;;
  shell) locked build_if_stale; cmd_shell ;;
  all)   locked cmd_fetch; locked build_if_stale; cmd_run ;;
  -h|--help|help) sed -n '2,/^$/p' "$0" ;;
  *) sed -n '2,/^$/p' "$0" >&2; exit 2 ;;
esac
exit
}
