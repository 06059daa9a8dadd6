#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The layering of src/: which folder may include which, which folder alone
# may include a library's headers, and, on the compiled objects, which
# folder's functions a folder's code calls (an include can be avoided with a
# prototype of one's own; a call cannot). One line per rule:
#   PASS layers/RULE
#   FAIL layers/RULE: FILE: "INCLUDE"        (one per violation)
#   FAIL layers/calls-DIR: OBJ calls SYM, defined in OBJ2
# Exit status 1 when any rule fails. Needs POSIX sh, sed, awk, find, and nm
# for the calls (the objects of O, default build: `make layers` builds them;
# without them the calls rules say SKIP and the exit status is 1).
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

# the calls of object OBJ into src/'s objects: SYM DEFINING_OBJ FOLDER a line
foreign() {
	nm -u "$1" | awk -v defs="$defs" '
		BEGIN { while ((getline l < defs) > 0) { split(l, f, " "); def[f[1]] = f[2] " " f[3] } }
		($NF in def) { print $NF, def[$NF] }'
}

# the calls of OBJ that PICK (an awk condition on $1 SYM, $2 OBJ2, $3
# FOLDER) selects, each a FAIL of RULE; 1 if any
bad_calls() {
	out=$(foreign "$3" | awk -v obj="$3" "$2"' { printf "%s calls %s, defined in %s\n", obj, $1, $2 }')
	[ -z "$out" ] && return 0
	printf '%s\n' "$out" | sed "s|^|FAIL layers/$1: |"
	return 1
}

no_objects() {
	[ -f "$defs" ] && return 1
	echo "SKIP layers/$1: no objects in $objdir (make layers builds them)"
	failed=1
}

# calls RULE DIR ALLOWED_DIR...: the objects of O/DIR/ call only functions
# (and use only data) defined in their own folder or an ALLOWED one
calls() {
	name=calls-$1 dir=$2
	shift 2
	no_objects "$name" && return
	bad=0
	for o in $(objects "$dir"); do
		bad_calls "$name" "index(\" $dir $* \", \" \" \$3 \" \") == 0" "$o" || bad=1
	done
	finish "$name" $bad
}

# below RULE DIR "LOWER..." "HIGHER...": inside src/DIR, no object of a
# LOWER file calls a function defined in a HIGHER file (names without .c)
below() {
	name=$1 dir=$2 lower=$3 higher=$4
	no_objects "$name" && return
	bad=0
	hi=
	for h in $higher; do
		[ -f "src/$dir/$h.c" ] || { echo "FAIL layers/$name: no src/$dir/$h.c"; bad=1; }
		hi="$hi $objdir/$dir/$h.o"
	done
	for l in $lower; do
		o="$objdir/$dir/$l.o"
		[ -f "$o" ] || { echo "FAIL layers/$name: no $o"; bad=1; continue; }
		bad_calls "$name" "index(\"$hi \", \" \" \$2 \" \") > 0" "$o" || bad=1
	done
	finish "$name" $bad
}

[ -d src/base ] || { echo "layers: run from the domud tree" >&2; exit 2; }

# the objects of src/DIR's sources (not stale ones of moved files)
objects() {
	for c in $(find "src/$1" -name '*.c' | sort); do
		o="$objdir/${c#src/}"
		o="${o%.c}.o"
		[ -f "$o" ] && printf '%s\n' "$o"
	done
}

# SYM OBJ FOLDER for every global symbol the objects of src/ define
objdir=${O:-build}
defs=
if [ -d "$objdir/base" ] && command -v nm >/dev/null; then
	defs=$(mktemp) || exit 2
	trap 'rm -f "$defs"' EXIT
	for d in base proto chan conf net xen boot ctl core; do
		for o in $(objects "$d"); do
			nm -g --defined-only "$o" | awk -v o="$o" -v d="$d" 'NF == 3 { print $3, o, d }'
		done
	done > "$defs"
fi

rule base	base	''	'base/*'
rule proto	proto	''	'base/*' 'proto/*'
rule chan	chan	''	'base/*' 'chan/*'
rule conf	conf	''	'base/*' 'conf/*'
rule net	net	''	'base/*' 'conf/*' 'net/*'
rule xen	xen	''	'base/*' 'conf/*' 'xen/*'
rule boot	boot	''	'base/*' 'boot/*'
rule ctl	ctl	''	'base/*' 'proto/*' 'ctl/*'
rule agent	agent	chan	'agent/*' chan/frame.h
calls base	base
calls proto	proto	base
calls chan	chan	base
calls conf	conf	base
calls net	net	base conf
calls xen	xen	base conf
calls boot	boot	base
calls ctl	ctl	base proto
# inside core: the control side goes one way (control <- jobs <- rundisk <-
# verbs), and the parts the supervisor uses do not call it back
below core-control	core	control	"jobs rundisk verbs updverbs"
below core-jobs		core	jobs	"rundisk verbs updverbs"
below core-rundisk	core	rundisk	"verbs updverbs"
below core-service	core	"service lifecycle destroy stopping standby idle adopt reload spec persist view metrics update updstore upddata updview" \
			"control jobs rundisk verbs updverbs"
below core-parts	core	"health state pools events console auth" \
			"service lifecycle destroy stopping standby idle adopt reload spec persist view metrics update updstore upddata updview control jobs rundisk verbs updverbs"
headers libxl	xen	'libxl*.h' xentoollog.h libxlutil.h
headers netlink	net	'netlink/*' 'libiptc/*' 'linux/netfilter*'
headers compression	boot	zlib.h lzma.h zstd.h
headers crypto		boot	'sodium*'
headers seccomp		base	'seccomp*'

exit $failed
