# Shared helpers for the integration tests (sourced, POSIX sh + bash).
#
# Each test gets a private temp dir, a lab PKI made by `spaprovctl lab-pki`,
# a config with one listener per CA on 127.0.0.1 and port 0, and the real
# daemon, which writes the ports it bound to a file.  A trap stops the
# daemon and removes the temp dir whatever happens.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SPAPROVD="$top_builddir/spaprovd"
SPAPROVCTL="$top_builddir/spaprovctl"
PHONE="$top_builddir/tests/phone-emu"
SQLITE=${SQLITE:-sqlite3}

T=$(mktemp -d "${TMPDIR:-/tmp}/spaprov-test.XXXXXX")
PKI="$T/pki"
CONF="$T/spaprov.conf"
DB="$T/spaprov.db"
DAEMON_PID=
TAP_N=0
TAP_FAILED=0

cleanup() {
	stop_daemon
	if [ "$TAP_FAILED" -ne 0 ] && [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT INT TERM

# --- TAP -------------------------------------------------------------------
# The plan is printed at the end (TAP allows it there): a script that
# dies early has no plan and fails.  plan N only documents the count.
plan() { :; }
ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}
not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: ok if the command succeeds
check() {
	desc=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "command: $*" "$(tail -n 20 "$T/check.out")"
	fi
}
# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "got:  '$2'" "want: '$3'"
		return 1
	fi
}
# like DESCRIPTION GOT GLOB
like() {
	case "$2" in
	$3) ok "$1" ;;
	*) not_ok "$1"; diag "got:  '$2'" "want match: '$3'" ;;
	esac
}
done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# --- lab PKI and configuration ---------------------------------------------
make_pki() {
	"$SPAPROVCTL" lab-pki "$PKI" \
		--cisco-root "$top_srcdir/ca/cisco-sb-client-root-2.pem" \
		>"$T/labpki.out" 2>&1 || {
		cat "$T/labpki.out" >&2
		return 1
	}
}

# write_conf [EXTRA-SERVER-LINES]: four legacy listeners and one mpp one.
write_conf() {
	{
		echo "[server]"
		echo "database = $DB"
		echo "client_roots = $PKI/client-roots.pem"
		echo "client_roots = $top_srcdir/ca/cisco-sb-client-root-2.pem"
		echo "client_cert_time_check = no"
		echo "unknown_devices = record"
		echo "log_level = debug"
		echo "run_as_root = yes"
		echo "threads = 2"
		if [ -n "${1:-}" ]; then printf '%s\n' "$1"; fi
		for ca in sipura linksys sb sb2k mpp; do
			echo
			echo "[listener $ca]"
			echo "ca = $ca"
			echo "address = 127.0.0.1"
			echo "port = 0"
			echo "certificate = $PKI/server/$ca.crt"
			echo "key = $PKI/server/$ca.key"
			echo "connection_limit = 4096"
			echo "connection_timeout = ${CONN_TIMEOUT:-30}"
			if [ -n "${LISTENER_EXTRA:-}" ]; then
				printf '%s\n' "$LISTENER_EXTRA"
			fi
		done
	} >"$CONF"
}

# --- the daemon ------------------------------------------------------------
start_daemon() {
	rm -f "$T/ports"
	"$SPAPROVD" -c "$CONF" --ports-file "$T/ports" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	i=0
	while [ ! -s "$T/ports" ]; do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "spaprovd exited during start:" >&2
			cat "$T/daemon.log" >&2
			DAEMON_PID=
			return 1
		fi
		i=$((i + 1))
		[ $i -gt 300 ] && { echo "spaprovd not ready" >&2; return 1; }
		sleep 0.1
	done
}

# stop_daemon: SIGTERM, wait, and report a non-zero exit status.
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	DAEMON_STATUS=$?
	DAEMON_PID=
	return $DAEMON_STATUS
}

# until_is DESCRIPTION WANT COMMAND...: run COMMAND until it prints WANT
# (asynchronous: the ledger, a closed connection, the health cache);
# bounded, then compared once more for the report.
until_is() {
	desc=$1 want=$2
	shift 2
	for _ in $(seq 100); do
		[ "$("$@")" = "$want" ] && break
		sleep 0.1
	done
	is "$desc" "$("$@")" "$want"
}

port_of() {
	awk -v n="$1" '$1 == n { print $2 }' "$T/ports"
}

# phone LISTENER MAC PROFILE [phone-emu options...]: one resync with the
# phone's lab certificate; stdout is the body, status line in $T/phone.err
phone() {
	lst=$1 mac=$2 prof=$3
	shift 3
	"$PHONE" --host 127.0.0.1 --port "$(port_of "$lst")" --profile "$prof" \
		--cert "$PKI/phones/$mac.crt" --key "$PKI/phones/$mac.key" \
		--ca "$PKI/provisioning/$lst-root.crt" \
		--server-name prov.spaprov.test --mac "$mac" \
		--path '/spa$MA.xml' --timeout 10 "$@" 2>"$T/phone.err"
}

ua_of() {
	awk -F, -v m="$1" 'NR > 1 && $1 == m { print $5 }' "$PKI/phones/phones.csv"
}

sql() {
	"$SQLITE" -batch -noheader "$DB" "$1"
}
