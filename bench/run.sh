#!/bin/bash
# bench/run.sh quick|full [spaprov-bench options...]
#
# Runs spaprov-bench (built by `make`) against the spaprovd of the same
# build tree and prints every figure bench/README.md quotes.
#   quick  about two minutes: every command once, small sizes
#   full   the issue's sizes (20,000-phone storm, 1,000,000 devices,
#          thread settings, repeats); 15-25 minutes on 2 cores
# Environment: BENCH_DIR (work dir, default /tmp/spaprov-bench; the PKI
# made there is reused by later runs), SPAPROVD, BENCH (program paths).
# nginx/apache/SoftHSM2 figures are skipped when those are not installed
# (bench/install-deps.sh installs them).  Every server is started on
# 127.0.0.1 by the bench and stopped by it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/.." && pwd)}
BENCH=${BENCH:-$top/bench/spaprov-bench}
SPAPROVD=${SPAPROVD:-$top/spaprovd}
DIR=${BENCH_DIR:-/tmp/spaprov-bench}
what=${1:-quick}
[ $# -gt 0 ] && shift

for f in "$BENCH" "$SPAPROVD"; do
	[ -x "$f" ] || { echo "run.sh: $f not built (run make)" >&2; exit 2; }
done

targets=spaprovd,baseline
command -v nginx >/dev/null 2>&1 && targets=$targets,nginx
command -v apache2 >/dev/null 2>&1 && targets=$targets,apache

b() {
	echo "\$ spaprov-bench $*"
	"$BENCH" "$@" --dir "$DIR" --spaprovd "$SPAPROVD"
	echo
}

# PKCS#11: the bench server key in a SoftHSM2 token; prints the URL.
# (Set here, not in the function: it runs in a command substitution.)
export SOFTHSM2_CONF="$DIR/softhsm/softhsm2.conf"
softhsm_url() {
	command -v softhsm2-util >/dev/null 2>&1 || return 1
	command -v openssl >/dev/null 2>&1 || return 1
	local hsm="$DIR/softhsm"
	if [ ! -f "$hsm/done" ]; then
		rm -rf "$hsm"
		mkdir -p "$hsm/tokens"
		printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' \
			"$hsm" >"$SOFTHSM2_CONF"
		softhsm2-util --init-token --free --label bench \
			--pin 1234 --so-pin 12345678 >/dev/null
		openssl pkcs8 -topk8 -nocrypt -in "$DIR/pki/server.key" \
			-out "$hsm/server.p8"
		softhsm2-util --import "$hsm/server.p8" --token bench \
			--label server --id 01 --pin 1234 >/dev/null
		touch "$hsm/done"
	fi
	echo "pkcs11:token=bench;object=server;type=private?pin-value=1234"
}

echo "# spaprov-bench $what on $(nproc) cores, $(date -u +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# the clients run on the same cores as the server under test"
echo

case $what in
quick)
	b crypto "$@"
	b load --target "$targets" --mode legacy --phones 300 \
		--requests 1000 --concurrency 16 "$@"
	b load --target spaprovd,baseline --mode rsa,resume-id --phones 300 \
		--requests 1000 --concurrency 16 "$@"
	b storm --target spaprovd --storm-phones 2000 --storm-seconds 10 "$@"
	b idle --idle 500 --phones 300 --requests 600 "$@"
	b inventory --devices 100000 --phones 300 --ledger-seconds 2 "$@"
	;;
full)
	b crypto "$@"
	if command -v openssl >/dev/null 2>&1; then
		echo "\$ openssl speed -seconds 3 rsa2048"
		openssl speed -seconds 3 rsa2048 2>/dev/null | tail -n 2
		echo
	fi
	# the thread model: spaprovd threads per listener 1, 2, 4
	b load --target spaprovd,baseline --mode legacy --threads 1,2,4 \
		--phones 2000 --requests 3000 --concurrency 32 --repeat 3 "$@"
	b load --target "$targets" --mode legacy,rsa --phones 2000 \
		--requests 3000 --concurrency 32 --repeat 3 "$@"
	b load --target "$targets" --mode resume-id,resume --phones 2000 \
		--requests 3000 --concurrency 32 "$@"
	if url=$(softhsm_url); then
		echo "# baseline with the server key in SoftHSM2 (PKCS#11)"
		b load --target baseline --mode legacy,rsa --phones 2000 \
			--requests 2000 --concurrency 32 --server-key "$url" "$@"
	fi
	b storm --target "${targets%,apache}" --storm-phones 20000 \
		--storm-seconds 40 "$@"
	b storm --target spaprovd --storm-phones 20000 --storm-seconds 40 \
		--threads 1 "$@"
	b idle --idle 1000 --phones 2000 --requests 3000 "$@"
	b inventory --devices 1000000 --phones 2000 --ledger-seconds 10 "$@"
	;;
*)
	echo "usage: bench/run.sh quick|full [spaprov-bench options]" >&2
	exit 2
	;;
esac
echo "# done; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
