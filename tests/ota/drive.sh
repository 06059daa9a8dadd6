# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
#
# Drives the OTA adapters of contrib/ota the way their tools call them:
# the same argv, environment, working directory and file layout, each
# step of a tool's sequence (docs/ota.md says where each was read). To be
# sourced, by the real-Xen e2e scenario (busybox sh in Dom0), with domud
# running; it asserts nothing itself: the scenario checks what domud did.
#
#   ota_mender SVC KERNEL RAMDISK MANIFEST SIG
#       SupportsRollback, Download, ArtifactInstall, NeedsArtifactReboot,
#       ArtifactCommit, Cleanup; on a failure what Mender does then
#       (ArtifactRollback after a failed commit, ArtifactFailure, Cleanup).
#       Returns the commit's status (the install's when that failed).
#   ota_mender_rollback SVC KERNEL RAMDISK MANIFEST SIG
#       the same up to ArtifactInstall, then the path of a deployment that
#       Mender gives up before the commit: ArtifactRollback,
#       ArtifactFailure, Cleanup. Returns ArtifactRollback's status.
#   ota_swupdate SVC KERNEL RAMDISK MANIFEST SIG
#       preinst, the rawfile handler's copies, postinst; postfailure after
#       a failure. Returns postinst's status (preinst's when that failed).
#   ota_rauc SVC KERNEL RAMDISK MANIFEST SIG
#       install-check, then the slot-install hook of image domud-SVC.
#       Returns slot-install's status (install-check's when that failed).
#
# RAMDISK, MANIFEST and SIG may be "" (none). Each says what it does on
# stdout in lines beginning with "# "; the adapters' own messages go to
# stderr (SWUpdate's INFO lines to stdout, as SWUpdate logs them).
#
# Variables:
#   DOMUCTL       the CLI the adapters run (default domuctl), exported
#   OTA_CONTRIB   the contrib/ota directory (default ./contrib/ota)
#   OTA_WORK      scratch directory, emptied per call (default
#                 /tmp/domud-ota); no blanks: SWUpdate's script data is
#                 split by a shell
#   OTA_DISKS     "VDEV=FILE ..." more guest files, as disk-VDEV (default
#                 none)
#   OTA_RAUC_COMPATIBLE   the compatible of the system and of the bundle
#                 (default domud-e2e)

DOMUCTL=${DOMUCTL:-domuctl}
export DOMUCTL
OTA_CONTRIB=${OTA_CONTRIB:-contrib/ota}
OTA_WORK=${OTA_WORK:-/tmp/domud-ota}
OTA_DISKS=${OTA_DISKS:-}
OTA_RAUC_COMPATIBLE=${OTA_RAUC_COMPATIBLE:-domud-e2e}

_ota_say() { printf '# %s\n' "$*"; }

# a fresh directory of OTA_WORK, and OTA_CONTRIB made absolute (the tools
# run the adapters from other working directories)
_ota_fresh() {
	case $OTA_WORK in
	/*) ;;
	*) _ota_say "OTA_WORK must be absolute: '$OTA_WORK'"; return 1 ;;
	esac
	case $OTA_WORK in
	*[[:space:]]*) _ota_say "OTA_WORK must have no blanks: '$OTA_WORK'"; return 1 ;;
	esac
	case $OTA_CONTRIB in
	/*) ;;
	*) OTA_CONTRIB=$(cd "$OTA_CONTRIB" && pwd) || return 1 ;;
	esac
	rm -rf "${OTA_WORK:?}/$1" && mkdir -p "$OTA_WORK/$1"
}

# the guest's files into directory $1 under the adapters' names
_ota_files() {
	_of_dir=$1 _of_k=$2 _of_r=$3 _of_m=$4 _of_s=$5
	mkdir -p "$_of_dir" || return 1
	cp "$_of_k" "$_of_dir/kernel" || return 1
	[ -z "$_of_r" ] || cp "$_of_r" "$_of_dir/ramdisk" || return 1
	[ -z "$_of_m" ] || cp "$_of_m" "$_of_dir/manifest.json" || return 1
	[ -z "$_of_s" ] || cp "$_of_s" "$_of_dir/manifest.json.sig" || return 1
	for _of_d in $OTA_DISKS; do
		cp "${_of_d#*=}" "$_of_dir/disk-${_of_d%%=*}" || return 1
	done
}

# ---- Mender: Update Module protocol v3, as mender-update 4 runs it ------

# the file tree Mender prepares before Download: version, current_*,
# header/ (meta-data carries the service), an empty tmp/
_ota_mender_tree() {
	_ota_fresh mender || return 1
	_om_mod=$OTA_CONTRIB/mender/domud-guest
	[ -x "$_om_mod" ] || { _ota_say "mender: $_om_mod is not executable"; return 1; }
	_om_tree=$OTA_WORK/mender/modules/v3/payloads/0000/tree
	mkdir -p "$_om_tree/header" "$_om_tree/tmp" || return 1
	printf '3\n' > "$_om_tree/version"
	printf 'domud-e2e-previous\n' > "$_om_tree/current_artifact_name"
	: > "$_om_tree/current_artifact_group"
	printf 'domud-e2e\n' > "$_om_tree/current_device_type"
	printf '%s' "$1-ota" > "$_om_tree/header/artifact_name"
	: > "$_om_tree/header/artifact_group"
	printf 'domud-guest' > "$_om_tree/header/payload_type"
	printf '{"artifact_depends":{"device_type":["domud-e2e"]},"artifact_provides":{"artifact_name":"%s-ota"},"payloads":[{"type":"domud-guest"}]}' "$1" > "$_om_tree/header/header-info"
	printf '{"type":"domud-guest"}' > "$_om_tree/header/type-info"
	printf '{"service":"%s"}' "$1" > "$_om_tree/header/meta-data"
	_ota_say "mender: file tree $_om_tree (each state runs in it)"
}

# (statuses are taken with `|| rc=$?` throughout: the scenario that
# sources this may run with set -e or without)

# one state: `MODULE STATE TREE` in TREE; the module's stdout is logged
_ota_mender_state() {
	_ota_say "mender: domud-guest $1 $_om_tree"
	_om_rc=0
	(cd "$_om_tree" && "$_om_mod" "$1" "$_om_tree") || _om_rc=$?
	[ "$_om_rc" -eq 0 ] || _ota_say "mender: $1 failed (exit $_om_rc)"
	return "$_om_rc"
}

# one query STATE ANSWER...: its stdout must be one line, one of the
# answers ('' for none), else Mender calls it a protocol error
_ota_mender_query() {
	_om_q=$1
	shift
	_ota_say "mender: domud-guest $_om_q $_om_tree"
	_om_out=$(cd "$_om_tree" && "$_om_mod" "$_om_q" "$_om_tree") || {
		_ota_say "mender: $_om_q failed"; return 1; }
	_ota_say "mender: $_om_q -> '$_om_out'"
	for _om_ok in "$@"; do
		[ "$_om_out" != "$_om_ok" ] || return 0
	done
	_ota_say "mender: $_om_q: a protocol error for Mender"
	return 1
}

# up to a successful ArtifactInstall; on a failure, Mender's failure path
_ota_mender_install() {
	_ota_mender_tree "$1" || return 1
	_ota_mender_query SupportsRollback Yes || return 1
	_ota_mender_query ProvidePayloadFileSizes No '' || return 1
	# Download: the module reads no stream, so Mender stores the payload
	# in files/ itself (no FIFOs here: the module must not touch them)
	printf 'streams/%s\n' kernel > "$_om_tree/streams-list"
	_ota_mender_state Download || { _ota_mender_fail; return 1; }
	rm -f "$_om_tree/streams-list"
	_ota_files "$_om_tree/files" "$2" "$3" "$4" "$5" || {
		_ota_mender_fail; return 1; }
	_om_ret=0
	_ota_mender_state ArtifactInstall || _om_ret=$?
	if [ "$_om_ret" -ne 0 ]; then
		_ota_mender_fail
		return "$_om_ret"
	fi
	# ArtifactReboot is not something this driver could do
	_ota_mender_query NeedsArtifactReboot No '' || {
		_ota_mender_state ArtifactRollback || :
		_ota_mender_fail
		return 1
	}
}

_ota_mender_fail() {
	_ota_mender_state ArtifactFailure || :
	_ota_mender_cleanup
}

# Cleanup, after which Mender removes the tree
_ota_mender_cleanup() {
	_ota_mender_state Cleanup || :
	rm -rf "$_om_tree"
}

ota_mender() {
	_ota_say "mender: update $1"
	_om_ret=0
	_ota_mender_install "$@" || _om_ret=$?
	[ "$_om_ret" -eq 0 ] || return "$_om_ret"
	_ota_mender_state ArtifactCommit || _om_ret=$?
	if [ "$_om_ret" -ne 0 ]; then
		_ota_mender_state ArtifactRollback || :
		_ota_mender_fail
		return "$_om_ret"
	fi
	_ota_mender_cleanup
}

ota_mender_rollback() {
	_ota_say "mender: update $1, given up before the commit"
	_om_ret=0
	_ota_mender_install "$@" || _om_ret=$?
	[ "$_om_ret" -eq 0 ] || return "$_om_ret"
	_ota_mender_state ArtifactRollback || _om_ret=$?
	_ota_mender_fail
	return "$_om_ret"
}

# ---- SWUpdate: the shellscript handler -----------------------------------

# `/bin/sh -c "TMPDIR/scripts/domud-guest.sh STEP DATA"`, with the INFO and
# WARN descriptors SWUpdate opens (3 and 4)
_ota_swu_step() {
	_os_cmd="$_os_scripts/domud-guest.sh $1 $_os_data"
	_ota_say "swupdate: sh -c \"$_os_cmd\""
	_os_rc=0
	SWUPDATE_INFO_FD=3 SWUPDATE_WARN_FD=4 /bin/sh -c "$_os_cmd" 3>&1 4>&2 ||
	    _os_rc=$?
	[ "$_os_rc" -eq 0 ] || _ota_say "swupdate: $1 failed (exit $_os_rc)"
	return "$_os_rc"
}

ota_swupdate() {
	_ota_say "swupdate: update $1"
	_ota_fresh swupdate || return 1
	# SWUpdate extracts the scripts into TMPDIR/scripts/ and makes them
	# executable for the owner
	_os_scripts=$OTA_WORK/swupdate/tmp/scripts
	mkdir -p "$_os_scripts" || return 1
	cp "$OTA_CONTRIB/swupdate/domud-guest.sh" "$_os_scripts/" &&
	    chmod 700 "$_os_scripts/domud-guest.sh" || return 1
	# the directory of the example sw-description, moved into OTA_WORK
	_os_dir=$OTA_WORK/swupdate/var/lib/domud/ota/$1
	_os_data="$1 $_os_dir"
	_os_ret=0
	_ota_swu_step preinst || _os_ret=$?
	if [ "$_os_ret" -eq 0 ]; then
		# the files section: rawfile handler, create-destination
		_ota_say "swupdate: files -> $_os_dir"
		_ota_files "$_os_dir" "$2" "$3" "$4" "$5" || _os_ret=1
	fi
	[ "$_os_ret" -ne 0 ] || _ota_swu_step postinst || _os_ret=$?
	# any failure of the installation runs the postfailure scripts
	[ "$_os_ret" -eq 0 ] || _ota_swu_step postfailure || :
	return "$_os_ret"
}

# ---- RAUC: bundle hooks ---------------------------------------------------

ota_rauc() {
	_ota_say "rauc: update $1"
	_ota_fresh rauc || return 1
	# the bundle as RAUC mounts it, under its mount prefix
	_or_prefix=$OTA_WORK/rauc/mount
	_or_bundle=$_or_prefix/bundle
	mkdir -p "$_or_bundle" || return 1
	cp "$OTA_CONTRIB/rauc/hook.sh" "$_or_bundle/hook.sh" &&
	    chmod 755 "$_or_bundle/hook.sh" || return 1
	_ota_files "$_or_bundle/$1" "$2" "$3" "$4" "$5" || return 1
	# the image of class domud-SVC, as in the example manifest.raucm:
	# the guest's manifest, else its kernel; RAUC gives its absolute path
	if [ -n "$4" ]; then
		_or_img=$_or_bundle/$1/manifest.json
	else
		_or_img=$_or_bundle/$1/kernel
	fi
	_or_size=$(wc -c < "$_or_img" | tr -d ' ') || return 1
	_or_digest=$(sha256sum "$_or_img") || return 1
	_or_digest=${_or_digest%% *}

	# install-check: RAUC keeps stderr's last line as the reason
	_ota_say "rauc: $_or_bundle/hook.sh install-check"
	_or_err=$OTA_WORK/rauc/install-check.err
	_or_rc=0
	RAUC_SYSTEM_COMPATIBLE=$OTA_RAUC_COMPATIBLE RAUC_SYSTEM_VARIANT='' \
	RAUC_SYSTEM_VERSION='' RAUC_MF_COMPATIBLE=$OTA_RAUC_COMPATIBLE \
	RAUC_MF_VERSION="$1-ota" RAUC_MF_BUILD='' RAUC_MOUNT_PREFIX=$_or_prefix \
	    "$_or_bundle/hook.sh" install-check 2> "$_or_err" || _or_rc=$?
	cat "$_or_err" >&2
	if [ "$_or_rc" -ne 0 ]; then
		if [ "$_or_rc" -ge 10 ]; then
			_ota_say "rauc: bundle rejected: $(tail -n 1 "$_or_err")"
		else
			_ota_say "rauc: install-check failed (exit $_or_rc)"
		fi
		return "$_or_rc"
	fi

	# slot-install of the one slot of class domud-SVC (docs/ota.md's
	# system.conf part)
	_ota_say "rauc: $_or_bundle/hook.sh slot-install (RAUC_SLOT_CLASS=domud-$1 RAUC_IMAGE_NAME=$_or_img)"
	RAUC_SYSTEM_COMPATIBLE=$OTA_RAUC_COMPATIBLE RAUC_SYSTEM_VARIANT='' \
	RAUC_SYSTEM_VERSION='' RAUC_SLOT_NAME="domud-$1.0" \
	RAUC_SLOT_STATE=inactive RAUC_SLOT_CLASS="domud-$1" RAUC_SLOT_TYPE=raw \
	RAUC_SLOT_DEVICE=/var/lib/domud RAUC_SLOT_BOOTNAME='' RAUC_SLOT_PARENT='' \
	RAUC_IMAGE_NAME=$_or_img RAUC_IMAGE_SIZE=$_or_size \
	RAUC_IMAGE_DIGEST=$_or_digest RAUC_IMAGE_CLASS="domud-$1" \
	RAUC_MOUNT_PREFIX=$_or_prefix RAUC_BUNDLE_MOUNT_POINT=$_or_bundle \
	RAUC_BUNDLE_SPKI_HASHES='' \
	    "$_or_bundle/hook.sh" slot-install || _or_rc=$?
	[ "$_or_rc" -eq 0 ] || _ota_say "rauc: slot-install failed (exit $_or_rc)"
	return "$_or_rc"
}
