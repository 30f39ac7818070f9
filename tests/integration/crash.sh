#!/bin/bash
# kill -9 under load: every profile a phone received was recorded first.
# Five phones resync in a loop on the legacy listeners, spaprovd is killed
# with SIGKILL mid-way, and after a restart on the same database the ledger
# holds at least as many 200 rows as the phones received 200 responses,
# per phone, and the database passes PRAGMA integrity_check.
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 12

PHONES="0022bd010201 0022bd010202 0022bd010203 0022bd010206 0022bd010208"
LISTENERS="sipura linksys sb sb2k sb"
REPEAT=2000             # far more than fit in the run; the kill ends it
KILL_AFTER=1.5          # seconds of load before SIGKILL
MIN_OK=10               # ... and at least this many 200s seen by then

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"
write_conf
start_daemon || bail "spaprovd did not start"
echo '<flat-profile><Station_Name>{{mac}}</Station_Name><!-- {{listener}} --></flat-profile>' >"$T/crash.xml"
"$SPAPROVCTL" -c "$CONF" profile set crash "$T/crash.xml" >/dev/null ||
	bail "profile set failed"
for m in $PHONES; do
	"$SPAPROVCTL" -c "$CONF" device add "$m" --profile crash >/dev/null ||
		bail "device add $m failed"
done

oks_of() {
	o=$(grep -c '^status=200 ' "$T/client.$1" 2>/dev/null)
	echo "${o:-0}"
}
total_oks() {
	n=0
	for m in $PHONES; do n=$((n + $(oks_of "$m"))); done
	echo "$n"
}

# --- load ------------------------------------------------------------------
pids=
set -- $LISTENERS
for m in $PHONES; do
	timeout 120 "$PHONE" --host 127.0.0.1 --port "$(port_of "$1")" \
		--profile legacy-rsa --cert "$PKI/phones/$m.crt" \
		--key "$PKI/phones/$m.key" --ca "$PKI/provisioning/$1-root.crt" \
		--server-name prov.spaprov.test --mac "$m" --timeout 10 \
		--repeat "$REPEAT" >/dev/null 2>"$T/client.$m" &
	pids="$pids $!"
	shift
done
sleep "$KILL_AFTER"
w=0
while [ "$(total_oks)" -lt "$MIN_OK" ] && [ $w -lt 200 ]; do
	sleep 0.1
	w=$((w + 1))
done
running=0
for p in $pids; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
is "all 5 phones still looping when spaprovd is killed" "$running" 5

kill -KILL "$DAEMON_PID"
{ wait "$DAEMON_PID"; } 2>/dev/null # (no "Killed" job message)
is "spaprovd died of SIGKILL" "$?" 137
DAEMON_PID=

cut=0
for p in $pids; do
	wait "$p"
	rc=$?
	# 4: connection refused or cut mid-response; 3: cut in a handshake
	case $rc in 3 | 4) cut=$((cut + 1)) ;; esac
done
is "every phone loop ended on a connection or TLS error" "$cut" 5
got=$(total_oks)
if [ "$got" -ge "$MIN_OK" ]; then
	ok "phones received $got 200 responses before the kill"
else
	not_ok "phones received enough 200 responses before the kill"
	diag "only $got"
fi

# --- restart on the same database ------------------------------------------
start_daemon
is "spaprovd restarts on the database it was killed on" "$?" 0
rows=$(sql "select count(*) from resyncs where status = 200")
diag "200 responses received by the phones: $got" \
	"200 rows in the ledger after the restart: $rows"
if [ "${rows:-0}" -ge "$got" ]; then
	ok "the ledger has a row for every 200 a phone received"
else
	not_ok "the ledger has a row for every 200 a phone received"
	diag "lost $((got - ${rows:-0})) rows"
fi
# each phone has at most one request in flight: at most one row per phone
# may have been committed without its response reaching the phone
if [ "${rows:-0}" -le $((got + 5)) ]; then
	ok "at most one unanswered committed row per phone ($((rows - got)))"
else
	not_ok "at most one unanswered committed row per phone"
	diag "$((rows - got)) more rows than responses"
fi
short=
for m in $PHONES; do
	r=$(sql "select count(*) from resyncs where status = 200 and mac = '$m'")
	g=$(oks_of "$m")
	[ "$r" -ge "$g" ] && [ "$r" -le $((g + 1)) ] || short="$short $m:$g/$r"
done
is "per phone: rows = responses (+1 at most)" "${short:-none}" none
in_list=$(printf "'%s'," $PHONES)
is "no partial or foreign rows (every row is an ok resync of our phones)" \
	"$(sql "select count(*) from resyncs where status <> 200 or outcome <> 'ok' or mac not in (${in_list%,})")" 0
is "PRAGMA integrity_check" "$(sql "PRAGMA integrity_check")" ok

phone sb 0022bd010203 legacy-rsa >/dev/null
is "the restarted daemon serves and records a resync" \
	"$(sed -n 's/^status=\([0-9]*\) .*/\1/p' "$T/phone.err") $(sql "select count(*) from resyncs where status = 200")" \
	"200 $((rows + 1))"
stop_daemon
is "spaprovd exits 0 on SIGTERM after the restart" "$?" 0

done_testing
