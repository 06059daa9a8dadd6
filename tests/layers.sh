#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The include layering of src/: which folder may include which, and which
# folder alone may include a library's headers. One line per rule:
#   PASS layers/RULE
#   FAIL layers/RULE: FILE: "INCLUDE"        (one per violation)
# Exit status 1 when any rule fails. Needs only POSIX sh, sed, awk and find.
#
# A quoted include is resolved as the compiler does: the including file's
# own folder first, then src/ (-Isrc); the agent also has -Isrc/chan.
# src/core is the top layer and may include anything.
set -uf	# no globbing of what the files say
cd "$(dirname "$0")/.." || exit 2

failed=0

# the includes of FILE, as written: "x.h" or <x.h>
includes() {
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^">]*[">]\).*/\1/p' "$1"
}

# a path with . and .. folded away
normalize() {
	printf '%s\n' "$1" | awk -F/ '{
		n = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "" || $i == ".")
				continue
			if ($i == ".." && n > 0 && s[n] != "..") { n--; continue }
			s[++n] = $i
		}
		out = ""
		for (i = 1; i <= n; i++)
			out = out (i > 1 ? "/" : "") s[i]
		print out
	}'
}

# resolve DIR NAME [EXTRA_DIR]: the path under src/ that #include "NAME" in
# src/DIR/ means; one that exists nowhere is taken as written from DIR
resolve() {
	for cand in "$1/$2" "$2" ${3:+"$3/$2"}; do
		p=$(normalize "$cand")
		if [ -f "src/$p" ]; then
			printf '%s\n' "$p"
			return
		fi
	done
	case $2 in
	*/*)	normalize "$2" ;;
	*)	normalize "$1/$2" ;;
	esac
}

# rule RULE DIR EXTRA_DIR ALLOWED...: each quoted include of src/DIR/ must
# resolve to a path matching one of the ALLOWED patterns
rule() {
	name=$1 dir=$2 extra=$3
	shift 3
	bad=0
	for f in $(find "src/$dir" -name '*.[ch]' 2>/dev/null | sort); do
		for inc in $(includes "$f" | sed -n 's/^"\(.*\)"$/\1/p'); do
			p=$(resolve "$dir" "$inc" "$extra")
			ok=0
			for pat in "$@"; do
				# shellcheck disable=SC2254
				case $p in $pat) ok=1; break ;; esac
			done
			if [ $ok = 0 ]; then
				echo "FAIL layers/$name: $f: \"$inc\""
				bad=1
			fi
		done
	done
	finish "$name" $bad
}

# headers RULE OWNER PATTERN...: no file outside src/OWNER/ includes
# <header> matching one of the PATTERNs
headers() {
	name=$1 owner=$2
	shift 2
	bad=0
	for f in $(find src -name '*.[ch]' | sort); do
		case $f in "src/$owner/"*) continue ;; esac
		for inc in $(includes "$f" | sed -n 's/^<\(.*\)>$/\1/p'); do
			for pat in "$@"; do
				# shellcheck disable=SC2254
				case $inc in $pat)
					echo "FAIL layers/$name: $f: <$inc>"
					bad=1
					break ;;
				esac
			done
		done
	done
	finish "$name" $bad
}

finish() {
	if [ "$2" = 0 ]; then
		echo "PASS layers/$1"
	else
		failed=1
	fi
}

[ -d src/base ] || { echo "layers: run from the domud tree" >&2; exit 2; }

rule base	base	''	'base/*'
rule proto	proto	''	'base/*' 'proto/*'
rule chan	chan	''	'base/*' 'chan/*'
rule net	net	''	'base/*' 'net/*' core/config.h core/backend.h
rule xen	xen	''	'base/*' 'xen/*' core/config.h core/backend.h
rule boot	boot	''	'base/*' 'boot/*'
rule ctl	ctl	''	'base/*' 'proto/*' 'ctl/*'
rule agent	agent	chan	'agent/*' chan/frame.h
headers libxl	xen	'libxl*.h' xentoollog.h libxlutil.h
headers netlink	net	'netlink/*' 'libiptc/*' 'linux/netfilter*'
headers compression	boot	zlib.h lzma.h zstd.h

exit $failed
