#!/bin/sh
# Replay the committed fuzz corpora through the replay_<target> programs
# (`make check` runs this).  TAP: one test per target.  A missing program,
# a missing or empty corpus directory or a broken invariant fails it.
#
# Environment: top_srcdir (corpora), top_builddir (programs); both default
# to the tree this script sits in.

FUZZ_TARGETS="ua ident tmpl conf mac_path csv"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/..}"
: "${top_builddir:=$here/..}"

set -- $FUZZ_TARGETS
echo "1..$#"
n=0
failed=0
for t in $FUZZ_TARGETS; do
	n=$((n + 1))
	prog="$top_builddir/fuzz/replay_$t"
	corpus="$top_srcdir/fuzz/corpus/$t"
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $t: $prog not built"
		failed=1
		continue
	fi
	if out=$("$prog" "$corpus" 2>&1); then
		echo "ok $n - $t: ${out##*: }"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $n - $t"
		failed=1
	fi
done
exit $failed
