#!/bin/bash
# The whole test suite, as CI runs it: a -Werror build with `make check`
# and `make distcheck`, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Builds live in _build/ (VPATH).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

# VPATH builds need a source tree without an in-tree configuration.
if [ -f config.status ]; then
	make distclean >/dev/null
fi
./autogen.sh >/dev/null 2>&1 || ./autogen.sh

# run_check NAME CONFIGURE-ARGS...: configure in _build/NAME, make check
run_check() {
	local name=$1
	shift
	rm -rf "_build/$name"
	mkdir -p "_build/$name"
	(cd "_build/$name" && "$top/configure" -q "$@" && make -j"$jobs" >/dev/null &&
		make -j"$jobs" check) || {
		echo "test-all: $name: FAILED" >&2
		find "_build/$name" -name '*.log' -path '*tests*' -newer "_build/$name/config.status" \
			-exec grep -l -E '^(not ok|FAIL|ERROR)' {} + 2>/dev/null |
			while read -r log; do echo "=== $log"; tail -n 60 "$log"; done
		exit 1
	}
}

run_check plain --enable-werror
echo "test-all: plain build passed; make distcheck"
(cd _build/plain && make -j"$jobs" distcheck >/dev/null 2>"$top/_build/distcheck.err") || {
	tail -n 80 "$top/_build/distcheck.err"
	exit 1
}
run_check asan --enable-asan

# Every fuzz target for a few seconds (fuzz/run-fuzzers.sh 60 locally).
echo "test-all: fuzzing each target for ${FUZZ_SECONDS:-10} s"
FUZZ_BUILDDIR="$top/_build/fuzz" fuzz/run-fuzzers.sh "${FUZZ_SECONDS:-10}" >"$top/_build/fuzz.log" 2>&1 || {
	tail -n 60 "$top/_build/fuzz.log"
	echo "test-all: fuzzing found a problem (see _build/fuzz.log)" >&2
	exit 1
}

# One closing line that counts every test of every build.
pass=0 fail=0
for log in _build/plain/test-suite.log _build/asan/test-suite.log; do
	p=$(awk '$1 == "#" && $2 == "PASS:" { s += $3 } END { print s + 0 }' "$log")
	f=$(awk '$1 == "#" && ($2 == "FAIL:" || $2 == "ERROR:" || $2 == "XPASS:") { s += $3 } END { print s + 0 }' "$log")
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "test-all: plain, distcheck and asan builds, fuzzing"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
