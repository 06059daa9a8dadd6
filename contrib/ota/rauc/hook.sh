#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hook.sh: the hook executable of a RAUC bundle that updates domud guests.
# Each guest is an image of slot class domud-SERVICE whose `install` hook
# is this script: RAUC calls it instead of writing the slot, and it stages
# the guest's files into domud, switches to the new slot (a trial) and
# waits for the verdict, so that `rauc install` fails when the guest does.
# Example: manifest.raucm beside this file; system.conf's part in
# docs/ota.md.
#
# RAUC runs `BUNDLE/hook.sh HOOK`, HOOK one of
#   install-check  (bundle hook, [hooks] hooks=install-check) RAUC's own
#                  compatible check is replaced by this one, so it makes
#                  it too; then it checks that domud answers. Exit 10
#                  rejects the bundle, the last stderr line the reason.
#   slot-install   (slot hook, [image.domud-SERVICE] hooks=install)
#                  RAUC_SLOT_CLASS is domud-SERVICE; the guest's files are
#                  in the directory of RAUC_IMAGE_NAME (an absolute path
#                  in the mounted bundle), or in BUNDLE/SERVICE when the
#                  image has no filename: kernel, ramdisk, device_tree,
#                  disk-VDEV, manifest.json, manifest.json.sig.
#
# Environment (besides RAUC's): DOMUCTL (default domuctl),
# DOMUD_OTA_TIMEOUT (seconds to wait for the verdict; default: as long as
# domud takes).
set -eu

DOMUCTL=${DOMUCTL:-domuctl}

# RAUC logs both; stderr's last line is the reason of a rejection
say() { printf 'domud hook: %s\n' "$*"; }
die() { printf 'domud hook: error: %s\n' "$*" >&2; exit 1; }
reject() { printf '%s\n' "$*" >&2; exit 10; }

# `domuctl update stage SVC` with the files of directory $2, each by its
# name (the same function is in each adapter of contrib/ota: each must
# travel alone with its tool's package)
ota_stage() {
	os_svc=$1 os_dir=$2
	[ -f "$os_dir/kernel" ] || die "no kernel in $os_dir"
	set -- --kernel "$os_dir/kernel"
	for os_f in "$os_dir"/*; do
		os_b=${os_f##*/}
		case $os_b in
		kernel|manifest.json.sig) ;;
		ramdisk)	set -- "$@" --ramdisk "$os_f" ;;
		device_tree)	set -- "$@" --device-tree "$os_f" ;;
		manifest.json)	set -- "$@" --manifest "$os_f" ;;
		disk-?*)	set -- "$@" --disk "${os_b#disk-}=$os_f" ;;
		'*')		;;	# the glob matched nothing
		*)	die "$os_f: not a guest file (kernel, ramdisk, device_tree, disk-VDEV, manifest.json, manifest.json.sig)" ;;
		esac
	done
	if [ -f "$os_dir/manifest.json.sig" ]; then
		[ -f "$os_dir/manifest.json" ] ||
		    die "$os_dir: manifest.json.sig without manifest.json"
		set -- "$@" --signature "$os_dir/manifest.json.sig"
	fi
	"$DOMUCTL" update stage "$os_svc" "$@"
}

# `domuctl update wait SVC`; its exit status (0 committed, 1 rolled back,
# 2 error, 3 timeout)
ota_wait() {
	if [ -n "${DOMUD_OTA_TIMEOUT:-}" ]; then
		case $DOMUD_OTA_TIMEOUT in
		*[!0-9]*) die "DOMUD_OTA_TIMEOUT is not a number of seconds: '$DOMUD_OTA_TIMEOUT'" ;;
		esac
		"$DOMUCTL" update wait "$1" --timeout "$DOMUD_OTA_TIMEOUT"
	else
		"$DOMUCTL" update wait "$1"
	fi
}

case ${1:-} in
install-check)
	[ "${RAUC_MF_COMPATIBLE-}" = "${RAUC_SYSTEM_COMPATIBLE-}" ] ||
	    reject "bundle compatible '${RAUC_MF_COMPATIBLE-}' is not this system's '${RAUC_SYSTEM_COMPATIBLE-}'"
	"$DOMUCTL" update status > /dev/null 2>&1 ||
	    reject "domud does not answer (domuctl update status failed)"
	;;
slot-install)
	class=${RAUC_SLOT_CLASS:?RAUC_SLOT_CLASS unset: not called by RAUC?}
	svc=${class#domud-}
	[ "$svc" != "$class" ] ||
	    die "slot class '$class' is not domud-SERVICE"
	case $svc in
	''|[.-]*|*[!A-Za-z0-9_.-]*) die "slot class '$class': '$svc' is not a service name" ;;
	esac
	if [ -n "${RAUC_IMAGE_NAME:-}" ]; then
		dir=${RAUC_IMAGE_NAME%/*}
	else
		dir=${RAUC_BUNDLE_MOUNT_POINT:?neither RAUC_IMAGE_NAME nor RAUC_BUNDLE_MOUNT_POINT}/$svc
	fi
	[ -d "$dir" ] || die "$svc: no directory $dir in the bundle"
	say "$svc: staging $dir (slot ${RAUC_SLOT_NAME:-?})"
	ota_stage "$svc" "$dir" ||
	    die "$svc: domud refused the stage (its reason is above)"
	say "$svc: switching to the new slot (a trial)"
	"$DOMUCTL" update switch "$svc" ||
	    die "$svc: domud refused the switch (its reason is above)"
	say "$svc: waiting for the trial's verdict"
	rc=0
	ota_wait "$svc" || rc=$?
	case $rc in
	0)	say "$svc: committed" ;;
	1)	die "$svc: the new slot failed its trial; domud rolled back (the reason is above)" ;;
	*)	# no verdict (3: timeout, 2: error): RAUC will report a
		# failure, so the previous slot must be the one running
		"$DOMUCTL" update rollback "$svc" ||
		    die "$svc: no verdict (domuctl update wait exit $rc), and domuctl update rollback failed"
		die "$svc: no verdict (domuctl update wait exit $rc); rolled back by hand" ;;
	esac
	;;
*)
	# a hook the manifest names but this script does not make
	die "unknown hook '${1:-}' (this script makes install-check and slot-install)" ;;
esac
exit 0
