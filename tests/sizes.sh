#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sizes a newcomer can read: no .c file of src/ over FILE_MAX lines and no
# function over FUNC_MAX lines, unless the comment just above it gives the
# reason on a line with "long:" (for a file: in its first 30 lines).
#   PASS sizes/files | sizes/functions
#   FAIL sizes/files: FILE: N lines
#   FAIL sizes/functions: FILE:LINE NAME: N lines
# A function is found as the style writes it: its name at column 0 followed
# by "(", its body ending with "}" at column 0. Exit status 1 on a FAIL.
set -uf
cd "$(dirname "$0")/.." || exit 2
FILE_MAX=${FILE_MAX:-1000}
FUNC_MAX=${FUNC_MAX:-120}
failed=0

files=$(find src -name '*.c' | sort)

out=$(for f in $files; do
	n=$(wc -l < "$f")
	if [ "$n" -gt "$FILE_MAX" ] && ! head -n 30 "$f" | grep -q 'long:'; then
		echo "FAIL sizes/files: $f: $n lines (over $FILE_MAX)"
	fi
done)
if [ -n "$out" ]; then printf '%s\n' "$out"; failed=1; else echo "PASS sizes/files"; fi

# shellcheck disable=SC2086
out=$(awk -v max="$FUNC_MAX" '
	FNR == 1 { incomment = 0; reason = 0; infn = 0 }
	# the comment block last seen before a definition, and whether it says why
	!infn && /^\/\*/ { incomment = 1; reason = 0 }
	!infn && incomment && /long:/ { reason = 1 }
	!infn && incomment && /\*\// { incomment = 0; next }
	!infn && /^[A-Za-z_][A-Za-z0-9_]*\(/ && !/;[[:space:]]*$/ {
		name = $0; sub(/\(.*/, "", name); start = FNR; infn = 1; why = reason; next
	}
	!infn && /^$/ { reason = 0 }
	infn && /^}/ {
		n = FNR - start + 1
		if (n > max && !why)
			printf "FAIL sizes/functions: %s:%d %s: %d lines (over %d)\n", FILENAME, start, name, n, max
		infn = 0; reason = 0
	}' $files)
if [ -n "$out" ]; then printf '%s\n' "$out"; failed=1; else echo "PASS sizes/functions"; fi
exit $failed
