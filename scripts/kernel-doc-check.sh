#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-doc-check.sh KERNEL-TREE: the API's kernel-doc comments are clean
# and complete (scripts/check.sh runs it with each test kernel's tree):
#   - KERNEL-TREE's scripts/kernel-doc -none (plus -Wall where that
#     kernel-doc knows it: missing Return: sections and the like) on
#     include/wdmdma/*.h and src/wdmdma/*.c prints nothing;
#   - every symbol src/wdmdma exports, and every function
#     include/wdmdma/wdmdma.h declares, has a kernel-doc comment, and
#     Documentation/api.rst names every export (`:identifiers:`), so the
#     API reference (`make docs`) leaves none out.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 KERNEL-TREE"
kdoc=$1/scripts/kernel-doc
[ -f "$kdoc" ] || die "no $kdoc"
cd "$WDMDMA_TOP" || exit 1
# The sources, not build products such as wdmdma.mod.c.
if ! mapfile -t files < <(git ls-files 'include/wdmdma/*.h' 'src/wdmdma/*.c' 2>/dev/null) ||
   [ ${#files[@]} -eq 0 ]; then
	files=()
	for f in include/wdmdma/*.h src/wdmdma/*.c; do
		[[ $f == *.mod.c ]] || files+=("$f")
	done
fi
[ ${#files[@]} -gt 0 ] || die "no sources found"
bad=0

flags=(-none)
"$kdoc" -h 2>&1 | grep -q -- '-Wall' && flags+=(-Wall)
echo "$kdoc ${flags[*]} ${files[*]}"
out=$("$kdoc" "${flags[@]}" "${files[@]}" 2>&1)
rc=$?
if [ -n "$out" ] || [ $rc -ne 0 ]; then
	echo "$out"
	echo "kernel-doc exited $rc"
	bad=1
fi

# The names that have a kernel-doc comment: "/**" then " * name() - ...".
documented=$(awk 'prev ~ /^\/\*\*$/ && $0 ~ /^ \* [A-Za-z_0-9]+\(\) / {
			sub(/^ \* /, ""); sub(/\(.*/, ""); print }
		  { prev = $0 }' "${files[@]}" | sort -u)
exported=$(sed -n 's/^EXPORT_SYMBOL_WDMDMA(\([A-Za-z_0-9]*\));$/\1/p' "${files[@]}" | sort -u)
# Function prototypes in wdmdma.h: a line that opens a parameter list
# with the name just before it, not a typedef or macro.
declared=$(grep -vE '^(typedef|#|[[:space:]]|/?\*)' include/wdmdma/wdmdma.h |
	   sed -n 's/^[^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' | sort -u)
[ -n "$exported" ] || { echo "no EXPORT_SYMBOL_WDMDMA found"; bad=1; }
[ -n "$declared" ] || { echo "no function declaration found in wdmdma.h"; bad=1; }
missing=$(comm -23 <(printf '%s\n%s\n' "$exported" "$declared" | sed '/^$/d' | sort -u) \
		<(echo "$documented"))
if [ -n "$missing" ]; then
	echo "no kernel-doc comment for: ${missing//$'\n'/ }"
	bad=1
fi
# Documentation/api.rst renders the exports by name (`:identifiers:`).
rendered=$(awk '/^   :identifiers:/ { on = 1; sub(/^   :identifiers:/, "") }
		/^$/ { on = 0 } on { for (i = 1; i <= NF; i++) print $i }' \
	   Documentation/api.rst | sort -u)
unrendered=$(comm -23 <(echo "$exported") <(echo "$rendered"))
if [ -n "$unrendered" ]; then
	echo "exported but not in Documentation/api.rst: ${unrendered//$'\n'/ }"
	bad=1
fi
echo "$(echo "$exported" | wc -w) exported, $(echo "$declared" | wc -w) declared in wdmdma.h, $(echo "$missing" | wc -w) of them undocumented"
exit $bad
