#!/bin/bash
# spaprovctl while the daemon is under load: three phones resync in a loop
# on three listeners while the operator adds 200 devices one by one,
# imports a 5,000-row CSV with --update, lists, reads the history and the
# stats, changes a profile and backs the database up.  Every command exits
# 0, no phone request fails, every 200 a phone received is in the ledger,
# and the database (and its backup) pass PRAGMA integrity_check.
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 17

LOAD_MAX_SECS=120      # the phone loops run until the commands are done
ADDS=200
IMPORT_ROWS=5000       # the first $ADDS of them are the devices added

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"

# load_for SECONDS: three phones resyncing in a loop on three listeners
# until $T/load.stop exists (SECONDS at most); each loop appends its status
# lines to $T/load.N
load_for() {
	local secs=$1
	rm -f "$T/load.stop"
	LOAD_PIDS=
	n=0
	for spec in "sb 0022bd010203 legacy-rsa" "sb2k 0022bd010208 fw206" \
		"mpp 0022bd010205 modern"; do
		n=$((n + 1))
		: >"$T/load.$n"
		(
			set -- $spec
			end=$((SECONDS + secs))
			i=0
			while [ $SECONDS -lt $end ] && [ $i -lt 5000 ] &&
				[ ! -e "$T/load.stop" ]; do
				i=$((i + 1))
				"$PHONE" --host 127.0.0.1 --port "$(port_of "$1")" \
					--profile "$3" --cert "$PKI/phones/$2.crt" \
					--key "$PKI/phones/$2.key" --mac "$2" \
					--path '/spa$MA.xml' --timeout 10 \
					>/dev/null 2>>"$T/load.$n"
			done
		) &
		LOAD_PIDS="$LOAD_PIDS $!"
	done
}
wait_load() { touch "$T/load.stop"; for p in $LOAD_PIDS; do wait "$p"; done; }
load_running() {
	for p in $LOAD_PIDS; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}
count_status() { cat "$T"/load.* | grep -c "^status=$1 "; }
count_other() { cat "$T"/load.* | grep -vc "^status=200 "; }

# ctl DESCRIPTION ARGS...: run spaprovctl, ok when it exits 0
ctl() {
	desc=$1
	shift
	if "$SPAPROVCTL" -c "$CONF" "$@" >"$T/ctl.out" 2>"$T/ctl.err"; then
		ok "$desc"
	else
		not_ok "$desc (exit $?)"
		diag "$(tail -n 5 "$T/ctl.err")"
	fi
}

write_conf
"$SPAPROVCTL" -c "$CONF" profile set p - >/dev/null <<'EOF' || bail "profile set failed"
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_><MAC>{{mac}}</MAC></flat-profile>
EOF
for mac in 0022bd010203 0022bd010205 0022bd010208; do
	"$SPAPROVCTL" -c "$CONF" device add "$mac" --profile p \
		--var sip_user=u$mac >/dev/null || bail "device add $mac failed"
done
start_daemon || bail "spaprovd did not start"

# the CSV: the $ADDS devices added below (now with a description) and more
awk -v n="$IMPORT_ROWS" 'BEGIN {
	print "mac,profile,description,var:sip_user"
	for (i = 1; i <= n; i++)
		printf "00aa%08x,p,\"desk %d, floor %d\",u%d\n", i, i, i % 7, i
}' >"$T/inventory.csv"

t_start=$SECONDS
load_for "$LOAD_MAX_SECS"
sleep 1

fails=0
for i in $(seq "$ADDS"); do
	mac=$(printf '00aa%08x' "$i")
	"$SPAPROVCTL" -c "$CONF" device add "$mac" --profile p \
		--var sip_user=a$i >/dev/null 2>>"$T/add.err" ||
		fails=$((fails + 1))
done
is "$ADDS device adds under load: all exit 0" "$fails" 0 ||
	diag "$(head -n 5 "$T/add.err")"
load_running && ok "... while the phones were resyncing" ||
	not_ok "... while the phones were resyncing (load ended first)"

ctl "device import --update of $IMPORT_ROWS rows under load" \
	device import --update "$T/inventory.csv"
like "... all of them ($ADDS updated)" "$(cat "$T/ctl.out")" \
	"imported $IMPORT_ROWS devices ($((IMPORT_ROWS - ADDS)) new, $ADDS updated)*"
ctl "device list under load" device list --limit 10000 --json
ctl "history under load" history --limit 100
ctl "stats under load" stats
"$SPAPROVCTL" -c "$CONF" profile set p - >"$T/ctl.out" 2>"$T/ctl.err" <<'EOF'
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_><MAC>{{mac}}</MAC><!-- v2 --></flat-profile>
EOF
is "profile set under load: exit 0" "$?" 0 || diag "$(cat "$T/ctl.err")"
ctl "db backup under load" db backup "$T/backup.db"
load_running && ok "... all while the phones were resyncing" ||
	not_ok "... all while the phones were resyncing (load ended first)"
sleep 1
diag "the commands took $((SECONDS - t_start)) s under load"

wait_load
is "no phone request failed" "$(count_other)" 0 ||
	diag "$(cat "$T"/load.* | grep -v '^status=200 ' | head -5)"
ok200=$(count_status 200)
like "and phones were served throughout ($ok200 resyncs)" "$ok200" "[1-9]*"
is "every 200 is in the ledger" \
	"$(sql "select count(*) from resyncs where status = 200")" "$ok200"
is "every device is there" "$(sql "select count(*) from devices")" \
	$((IMPORT_ROWS + 3))
is "PRAGMA integrity_check of the database" \
	"$(sql "pragma integrity_check")" ok
is "PRAGMA integrity_check of the backup" \
	"$("$SQLITE" -batch -noheader "$T/backup.db" "pragma integrity_check")" ok
stop_daemon
is "spaprovd exits 0 on SIGTERM" "$?" 0

done_testing
