#!/bin/sh
# Build the libFuzzer targets in a private build directory and run each
# for SECONDS (default 60) on a copy of its committed corpus.
#
#   fuzz/run-fuzzers.sh [SECONDS]
#
# Environment:
#   FUZZ_TARGETS   targets to run (default: all)
#   FUZZ_BUILDDIR  build here and keep it (default: a temporary directory,
#                  removed unless something failed)
#   CC             compiler (default clang; it must have libFuzzer)
#   FUZZ_JOBS      make -j value (default: number of CPUs)
#
# The build is a VPATH build of this source tree (./autogen.sh is run
# first if there is no configure script); the source tree itself must not
# be configured in place.  New corpus entries stay in the build directory:
# the committed corpora are never changed.  Exits 1 if any target crashed,
# leaked, timed out or broke an invariant, printing where the reproducers
# (crash-*, leak-*, timeout-*, oom-*) are.

set -u

SECONDS_EACH=${1:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"ua ident tmpl conf mac_path csv"}
CC=${CC:-clang}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

case $SECONDS_EACH in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$srcdir/config.status" ]; then
	echo "$0: $srcdir is configured in place; run 'make distclean' there" \
	     "first (a VPATH build needs a clean source tree)" >&2
	exit 2
fi
if [ ! -x "$srcdir/configure" ]; then
	(cd "$srcdir" && ./autogen.sh) >/dev/null 2>&1 || {
		echo "$0: autogen.sh failed" >&2
		exit 2
	}
fi

if [ -n "${FUZZ_BUILDDIR:-}" ]; then
	build=$FUZZ_BUILDDIR
	keep=1
	mkdir -p "$build" || exit 2
else
	build=$(mktemp -d "${TMPDIR:-/tmp}/spaprov-fuzz.XXXXXX") || exit 2
	keep=0
fi
build=$(cd "$build" && pwd)
log="$build/build.log"

cleanup() {
	if [ "$keep" = 0 ]; then
		rm -rf "$build"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# building in $build"
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && CC="$CC" "$srcdir/configure" --enable-fuzzing) \
		>"$log" 2>&1 || {
		keep=1
		echo "$0: configure failed, see $log" >&2
		exit 2
	}
fi
progs=
for t in $FUZZ_TARGETS; do
	progs="$progs fuzz/fuzz_$t"
done
make -C "$build" -j"$FUZZ_JOBS" $progs >>"$log" 2>&1 || {
	keep=1
	echo "$0: build failed, see $log" >&2
	exit 2
}

failed=0
for t in $FUZZ_TARGETS; do
	work="$build/fuzz-run/$t"
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts" || exit 2
	cp "$srcdir/fuzz/corpus/$t"/* "$work/corpus/" || exit 2
	if "$build/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/fuzz.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
			"$work/fuzz.log")
		echo "ok - $t: $runs runs in ${SECONDS_EACH}s," \
		     "corpus now $(ls "$work/corpus" | wc -l) files"
	else
		keep=1
		failed=1
		echo "not ok - $t: see $work/fuzz.log; reproducers:"
		ls "$work/artifacts" | sed "s|^|#   $work/artifacts/|"
	fi
done
[ "$failed" = 0 ] || echo "# build directory kept: $build"
exit $failed
