#!/bin/bash
# Faults under the database: read-only, disk full, locked by another
# process for 10 s, corrupt at start.  spaprovd says so clearly in its log,
# keeps serving (or refuses to start), never answers 200 for a resync it
# could not record, and serves 200 again once the fault is gone.  Last, its
# log of all this holds no SIP password.
#
# A real disk-full needs a small tmpfs, and a real read-only database a
# read-only mount: when this test may not mount (not root, or no
# CAP_SYS_ADMIN), those faults are simulated with SQLite triggers and a
# diagnostic line says so.  A database cannot be made read-only under a
# running daemon (its descriptors stay writable; a remount is refused as
# busy), so that case is simulated while running and real at start.
set -u
. "$top_srcdir/tests/integration/lib.sh"

PASSWORD='pw-faults-7d3f9c-secret'
MAC=0022bd010205
PY=${PYTHON3:-/usr/bin/python3}
SMALL="$T/small"
MOUNTED=0
LOCK_PID=

# lib.sh's trap stops the daemon and removes $T; a mount and a lock holder
# have to go first.
faults_cleanup() {
	[ -n "$LOCK_PID" ] && kill "$LOCK_PID" 2>/dev/null
	stop_daemon
	[ "$MOUNTED" -eq 1 ] && umount "$SMALL" 2>/dev/null
	cleanup
}
trap faults_cleanup EXIT
trap 'exit 1' INT TERM

make_pki || { echo "Bail out! spaprovctl lab-pki failed"; exit 1; }
mkdir "$SMALL"
if [ "$(id -u)" -eq 0 ] &&
	mount -t tmpfs -o size=8m,mode=0700 spaprov-faults "$SMALL" 2>/dev/null; then
	MOUNTED=1
	DB="$SMALL/spaprov.db"
else
	diag "cannot mount a tmpfs here: disk full and read-only are simulated" \
		"with SQLite triggers (RAISE) instead of a full or read-only filesystem"
fi
write_conf
start_daemon || { echo "Bail out! spaprovd did not start"; exit 1; }

"$SPAPROVCTL" -c "$CONF" profile set office - >/dev/null <<'EOF'
<flat-profile>
  <User_ID_1_>{{sip_user}}</User_ID_1_>
  <Password_1_>{{sip_password}}</Password_1_>
</flat-profile>
EOF
"$SPAPROVCTL" -c "$CONF" device add "$MAC" --profile office \
	--var sip_user=4001 --var "sip_password=$PASSWORD" >/dev/null ||
	{ echo "Bail out! device add failed"; exit 1; }

GOT200=0 # 200s this test received; each must be a row in the end
# resync [phone-emu options]: one resync of the MPP phone; sets STATUS
resync() {
	phone mpp "$MAC" modern --user-agent "Cisco-CP-8841-3PCC/11.0 ($MAC)" \
		"$@" >"$T/body"
	STATUS=$(sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err")
	[ "$STATUS" = 200 ] && GOT200=$((GOT200 + 1))
	return 0
}
rows() { sql "select count(*) from resyncs"; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

resync
is "the phone gets 200 before any fault" "$STATUS" 200
like "with its password in the profile" "$(cat "$T/body")" "*$PASSWORD*"

# --- (a) read-only database -----------------------------------------------
# While running: every write fails as on a read-only file.
before=$(rows)
sql "CREATE TRIGGER fault_ro BEFORE INSERT ON resyncs BEGIN
	SELECT RAISE(ABORT, 'attempt to write a readonly database (simulated)');
	END"
resync --expect-status 503
is "read-only: the phone gets 503, not 200" "$STATUS" 503
is "read-only: the 503 carries no profile" "$(cat "$T/body")" \
	"503 Service Unavailable"
is "read-only: nothing was recorded" "$(rows)" "$before"
like "read-only: the log names the database and the error" \
	"$(grep 'ledger: cannot write' "$T/daemon.log" | tail -n 1)" \
	"*database=$DB *readonly database (simulated)*"
like "read-only: and the request that was not recorded" \
	"$(grep 'request not recorded' "$T/daemon.log" | tail -n 1)" \
	"*listener=mpp *mac=$MAC outcome=ok*"
check "read-only: spaprovd keeps running" alive
sql "DROP TRIGGER fault_ro"
resync
is "read-only fixed: 200 again" "$STATUS" 200
is "read-only fixed: and recorded" "$(rows)" $((before + 1))

# At start, for real when a read-only mount is possible.
if [ "$MOUNTED" -eq 1 ]; then
	stop_daemon
	is "read-only at start: first a clean stop" "$DAEMON_STATUS" 0
	check "read-only at start: the filesystem is remounted read-only" \
		mount -o remount,ro "$SMALL"
	timeout 30 "$SPAPROVD" -c "$CONF" >"$T/ro.out" 2>&1
	st=$?
	mount -o remount,rw "$SMALL"
	if [ $st -ne 0 ] && [ $st -ne 124 ]; then
		ok "read-only at start: spaprovd refuses to start (exit $st)"
	else
		not_ok "read-only at start: spaprovd refuses to start (exit $st)"
	fi
	like "read-only at start: the message names the file and the cause" \
		"$(tail -n 1 "$T/ro.out")" "spaprovd: $DB: *read-only*"
	start_daemon || { echo "Bail out! spaprovd did not restart"; exit 1; }
	resync
	is "read-write again: spaprovd starts and serves 200" "$STATUS" 200
else
	diag "read-only at start: skipped (needs a read-only mount)"
fi

# --- (b) disk full --------------------------------------------------------
before=$(rows)
got_before=$GOT200
if [ "$MOUNTED" -eq 1 ]; then
	dd if=/dev/zero of="$SMALL/fill" bs=64k >/dev/null 2>&1
	like "disk full: the filesystem is full" \
		"$(df -P "$SMALL" | awk 'NR == 2 { print $4 }')" "0"
	want_error='database or disk is full'
else
	sql "CREATE TRIGGER fault_full BEFORE INSERT ON resyncs BEGIN
		SELECT RAISE(ABORT, 'database or disk is full (simulated)');
		END"
	want_error='database or disk is full (simulated)'
fi
# A commit that finds room (a reused WAL page) may still succeed, and is
# then recorded: try a few times, counting what the phone was told.
n503=0
for i in 1 2 3 4 5 6 7 8; do
	resync --expect-status 503
	[ "$STATUS" = 503 ] && n503=$((n503 + 1))
	[ $n503 -ge 3 ] && break
done
is "disk full: the phone gets 503s" "$n503" 3
is "disk full: every 200 it got meanwhile is recorded, nothing else" \
	"$(rows)" $((before + GOT200 - got_before))
like "disk full: the log says why" \
	"$(grep 'ledger: cannot write' "$T/daemon.log" | tail -n 1)" \
	"*error=\"*$want_error*"
check "disk full: spaprovd keeps running" alive
if [ "$MOUNTED" -eq 1 ]; then
	rm -f "$SMALL/fill"
else
	sql "DROP TRIGGER fault_full"
fi
before=$(rows)
resync
is "space again: 200" "$STATUS" 200
is "space again: the resync is recorded" \
	"$(rows) $(sql "select status || ' ' || outcome from resyncs order by id desc limit 1")" \
	"$((before + 1)) 200 ok"

# --- (c) database locked by another process for 10 s -----------------------
if "$PY" -c 'import sqlite3' 2>/dev/null; then
	"$PY" - "$DB" "$T/locked" <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write("locked\n")
time.sleep(10)
db.execute("COMMIT")
db.close()
EOF
	LOCK_PID=$!
	i=0
	while [ ! -s "$T/locked" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	is "locked: another process holds the database (BEGIN EXCLUSIVE)" \
		"$(cat "$T/locked" 2>/dev/null)" locked
	before=$(rows)
	t0=$(date +%s)
	resync --timeout 60
	elapsed=$(($(date +%s) - t0))
	is "locked: the phone's resync ends in 200 once the lock is gone" \
		"$STATUS" 200
	if [ $elapsed -ge 8 ] && [ $elapsed -le 40 ]; then
		ok "locked: its answer waited for the lock (${elapsed} s)"
	else
		not_ok "locked: its answer waited for the lock (${elapsed} s)"
	fi
	wait "$LOCK_PID"
	is "locked: the other process committed normally" "$?" 0
	LOCK_PID=
	is "locked: the resync is recorded, not dropped" \
		"$(rows) $(sql "select status || ' ' || outcome from resyncs order by id desc limit 1")" \
		"$((before + 1)) 200 ok"
	check "locked: spaprovd keeps running" alive
else
	diag "locked: skipped ($PY has no sqlite3 module)"
fi

# --- the ledger against what the phone saw --------------------------------
is "every 200 the phone received is a 200 row" \
	"$(sql "select count(*) from resyncs where status = 200")" "$GOT200"

# --- secrets at rest -------------------------------------------------------
is "the database spaprovd created, and its WAL, are readable by the owner only" \
	"$(stat -c %a "$DB") $(stat -c %a "$DB-wal")" "600 600"
stop_daemon
chmod 0644 "$DB"
start_daemon || { echo "Bail out! spaprovd did not restart"; exit 1; }
like "a database every user can read draws a warning at start" \
	"$(grep 'readable by every user' "$T/daemon.log" | tail -n 1)" \
	"*level=warn*SIP passwords*database=$DB mode=0644*"
chmod 0600 "$DB"

# --- no secrets in the log ------------------------------------------------
# log_level = debug (lib.sh): the most the daemon ever says.
like "the daemon log covers the resyncs" "$(cat "$T/daemon.log")" \
	"*status=200 outcome=ok*"
if grep -F -q -- "$PASSWORD" "$T/daemon.log"; then
	not_ok "the SIP password is not in the daemon log"
	diag "$(grep -F -n -- "$PASSWORD" "$T/daemon.log" | head -n 3)"
else
	ok "the SIP password is not in the daemon log"
fi

stop_daemon
is "spaprovd exits 0 on SIGTERM after all the faults" "$DAEMON_STATUS" 0

# --- (d) corrupt database at start ----------------------------------------
# The daemon is stopped: its last connection checkpointed and removed the
# WAL, so the header on disk is the one SQLite reads.
sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
printf 'garbage, not SQLite at all: %072d' 0 |
	dd of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
timeout 30 "$SPAPROVD" -c "$CONF" >"$T/corrupt.out" 2>&1
st=$?
if [ $st -ne 0 ] && [ $st -ne 124 ]; then
	ok "corrupt database: spaprovd refuses to start (exit $st)"
else
	not_ok "corrupt database: spaprovd refuses to start (exit $st)"
fi
like "corrupt database: the message names the file and says why" \
	"$(tail -n 1 "$T/corrupt.out")" \
	"spaprovd: $DB: not an SQLite database, or a corrupt one*"
timeout 30 "$SPAPROVD" -t -c "$CONF" >"$T/corrupt-t.out" 2>&1
st=$?
if [ $st -ne 0 ] && [ $st -ne 124 ]; then
	ok "corrupt database: spaprovd -t fails too (exit $st)"
else
	not_ok "corrupt database: spaprovd -t fails too (exit $st)"
fi

done_testing
