#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# domud-guest.sh: an SWUpdate script (type "shellscript") that updates a
# domud guest. The .swu's "files" put the guest's files into one directory
# (rawfile handler); this script stages them into the service's inactive
# slot, starts the new slot as a trial and waits for the verdict, so that
# SWUpdate's result (and the backend's, e.g. hawkBit) is the guest's.
# Example: sw-description beside this file; docs/ota.md.
#
# SWUpdate runs `/bin/sh -c "TMPDIR/scripts/domud-guest.sh STEP DATA"`,
# STEP one of preinst, postinst, postfailure ("failure" in SWUpdate
# 2024.05), DATA the script's `data` attribute, here "SERVICE DIRECTORY"
# (split by that shell: no blanks in either).
#   preinst      check that domud answers for SERVICE
#   postinst     stage DIRECTORY's files, switch, wait for the verdict
#   postfailure  roll back by hand if this update had switched
# DIRECTORY holds kernel, ramdisk, device_tree, disk-VDEV, manifest.json,
# manifest.json.sig (those present); postinst removes them once staged.
#
# Environment: DOMUCTL (default domuctl), DOMUD_OTA_TIMEOUT (seconds to
# wait for the verdict; default: as long as domud takes).
set -eu

DOMUCTL=${DOMUCTL:-domuctl}

# SWUpdate logs stdout as TRACE and stderr as ERROR; since 2022.12 it also
# gives a descriptor for INFO lines
info() {
	case ${SWUPDATE_INFO_FD:-} in
	[0-9])	printf 'domud-guest: %s\n' "$*" >&"$SWUPDATE_INFO_FD" ;;
	*)	printf 'domud-guest: %s\n' "$*" ;;
	esac
}
die() { printf 'domud-guest: error: %s\n' "$*" >&2; exit 1; }

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

[ $# -eq 3 ] || die "usage: $0 preinst|postinst|postfailure SERVICE DIRECTORY (got $# arguments: is the script's data \"SERVICE DIRECTORY\"?)"
step=$1 svc=$2 dir=$3
case $svc in
''|[.-]*|*[!A-Za-z0-9_.-]*) die "not a service name: '$svc'" ;;
esac
case $dir in
/*) ;;
*) die "the directory must be absolute: '$dir'" ;;
esac
# how far this update went: postfailure must not switch a service that
# domud has already rolled back
mark=$dir/.domud-guest.state
note() { mkdir -p "$dir" && printf '%s\n' "$1" > "$mark"; }
noted() { cat "$mark" 2>/dev/null || true; }

case $step in
preinst)
	note ""
	# refuse early, before the files are written, when domud does not
	# answer or does not know the service
	"$DOMUCTL" update status "$svc" > /dev/null ||
	    die "$svc: domuctl update status failed: is domud running, is $svc one of its services?"
	info "$svc: domud answers"
	;;
postinst)
	info "$svc: staging $dir"
	rc=0
	ota_stage "$svc" "$dir" || rc=$?
	# domud has its own copy now (or refused it): the directory is not
	# left to fill the disk
	for f in kernel ramdisk device_tree manifest.json manifest.json.sig; do
		rm -f "$dir/$f"
	done
	for f in "$dir"/disk-*; do rm -f "$f"; done
	[ "$rc" -eq 0 ] || die "$svc: domud refused the stage (its reason is above)"
	note staged
	info "$svc: switching to the new slot (a trial)"
	"$DOMUCTL" update switch "$svc" ||
	    die "$svc: domud refused the switch (its reason is above)"
	note switched
	info "$svc: waiting for the trial's verdict"
	rc=0
	ota_wait "$svc" || rc=$?
	case $rc in
	0)	note committed
		info "$svc: committed" ;;
	1)	note rolled-back
		die "$svc: the new slot failed its trial; domud rolled back (the reason is above)" ;;
	*)	# no verdict (3: timeout, 2: error): SWUpdate will report a
		# failure, so the previous slot must be the one running
		"$DOMUCTL" update rollback "$svc" ||
		    die "$svc: no verdict (domuctl update wait exit $rc), and domuctl update rollback failed"
		note rolled-back
		die "$svc: no verdict (domuctl update wait exit $rc); rolled back by hand" ;;
	esac
	;;
postfailure|failure)
	case $(noted) in
	switched|committed)
		info "$svc: the update failed; rolling back to the previous slot"
		"$DOMUCTL" update rollback "$svc" ||
		    die "$svc: domuctl update rollback failed"
		note rolled-back ;;
	*)	info "$svc: nothing switched; nothing to roll back" ;;
	esac
	;;
*)
	die "unknown step '$step' (want preinst, postinst or postfailure)" ;;
esac
exit 0
