#!/bin/bash
# The layer check: each folder of the tree uses only the folders below it
# (docs/architecture.md).  Two views, one TAP line per folder and view:
#   - includes: every #include "FOLDER/..." in a folder's sources;
#   - symbols: every symbol a folder's objects use (nm -u) and the folder
#     whose objects define it (nm --defined-only), so that a call through a
#     declaration written by hand is caught too.
# Run by make check from the build tree (BUILDDIR, SRCDIR).
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR}
export LC_ALL=C

# FOLDER: the folders it may use.  A folder not listed here is not a layer
# (tests, bench, examples sit on top and may use anything).
declare -A ALLOWED=(
	[lib]=""
	[netfn]="lib"
	[hal]="lib netfn"
	[tenants]="lib netfn hal"
	[proto]="lib netfn hal tenants"
	[api]="lib netfn hal tenants proto"
	[cli]="lib netfn hal tenants"
	[cnwd]="lib netfn hal tenants proto api"
)
ORDER="lib netfn hal tenants proto api cli cnwd"

n=0
failed=0
echo "1..$(( $(echo $ORDER | wc -w) * 2 ))"

report() {	# report FOLDER VIEW BAD-LINES
	n=$((n + 1))
	if [ -z "$3" ]; then
		echo "ok $n - $1/ $2: only folders below it"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1/ $2: uses a folder above it or beside it"
		printf '%s\n' "$3" | head -20 | sed 's/^/# /'
	fi
}

allowed() {	# allowed FOLDER OTHER -> 0 if FOLDER may use OTHER
	[ "$1" = "$2" ] && return 0
	case " ${ALLOWED[$1]} " in *" $2 "*) return 0 ;; esac
	return 1
}

# Includes.
for d in $ORDER; do
	bad=""
	for f in "$SRCDIR/$d"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			other=${inc%%/*}
			[ -n "${ALLOWED[$other]+x}" ] || continue
			allowed "$d" "$other" || bad+="${f#"$SRCDIR"/} includes $inc"$'\n'
		done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([a-z]*\/[^"]*\)".*/\1/p' "$f")
	done
	report "$d" includes "${bad%$'\n'}"
done

# Symbols: which folder defines each global symbol, from the objects built
# (one nm over them all: "FOLDER/FILE.o: T SYMBOL").
defs=$(mktemp)
uses=$(mktemp)
trap 'rm -f "$defs" "$uses"' EXIT
objs=()
for d in $ORDER; do
	for o in "$BUILDDIR/$d"/*.o; do [ -e "$o" ] && objs+=("${o#"$BUILDDIR"/}"); done
done
(cd "$BUILDDIR" && nm -A -g --defined-only "${objs[@]}" 2>/dev/null) |
    awk '{ split($1, p, "/"); print $NF, p[1] }' | sort -u -k1,1 >"$defs"
(cd "$BUILDDIR" && nm -A -u "${objs[@]}" 2>/dev/null) |
    awk '{ f = $1; sub(/:$/, "", f); print $NF, f }' | sort -k1,1 >"$uses"
bad_uses=$(join "$uses" "$defs" | while read -r sym file other; do
	d=${file%%/*}
	allowed "$d" "$other" || echo "$d $file uses $sym of $other/"
done)
for d in $ORDER; do
	# A folder with no objects would pass the symbol view unread.
	if ! printf '%s\n' "${objs[@]}" | grep -q "^$d/"; then
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - $d/ symbols: no objects built in $BUILDDIR/$d"
		continue
	fi
	report "$d" symbols "$(printf '%s\n' "$bad_uses" | awk -v d="$d" '$1 == d { $1 = ""; print substr($0, 2) }')"
done
exit 0
