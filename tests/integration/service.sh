#!/bin/bash
# Running spaprovd as a service: privilege drop, SIGHUP reload under load,
# a bad reload, graceful stop under load, -d with a pidfile, retention,
# and the systemd notify protocol.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_pki || exit 1

setup_inventory() {
	"$SPAPROVCTL" -c "$CONF" profile set p - >/dev/null <<'EOF'
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_><MAC>{{mac}}</MAC></flat-profile>
EOF
	for mac in 0022bd010203 0022bd010205 0022bd010208; do
		"$SPAPROVCTL" -c "$CONF" device add "$mac" --profile p \
			--var sip_user=u$mac >/dev/null
	done
}

# load_for SECONDS: three phones resyncing in a loop on three listeners;
# each loop appends its status lines to $T/load.N
load_for() {
	local secs=$1
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
			while [ $SECONDS -lt $end ] && [ $i -lt 2000 ]; do
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
wait_load() { for p in $LOAD_PIDS; do wait "$p"; done; }
count_status() { cat "$T"/load.* | grep -c "^status=$1 " ; }
count_other() { cat "$T"/load.* | grep -vc "^status=200 " ; }

# --- root without a user ---------------------------------------------------
write_conf
sed -i '/^run_as_root = yes/d' "$CONF"
if [ "$(id -u)" -eq 0 ]; then
	"$SPAPROVD" -c "$CONF" >"$T/out" 2>&1
	is "as root without user: refuses to serve (exit 1)" "$?" 1
	like "and says how to fix it" "$(cat "$T/out")" \
		"*refusing to serve as root: set user (and group) in \[server\], or run_as_root = yes*"
else
	ok "# SKIP not root"
	ok "# SKIP not root"
fi

# --- privilege drop --------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	mkdir -p "$T/var"
	DB="$T/var/spaprov.db"
	write_conf "user = nobody
group = nogroup"
	sed -i '/^run_as_root = yes/d' "$CONF"
	chmod 0777 "$T"   # the ports file is written after the drop
	"$SPAPROVD" -c "$CONF" >"$T/out" 2>&1
	is "database directory not writable by the user: refused" "$?" 1
	like "with the reason" "$(cat "$T/out")" \
		"*directory $T/var must be writable by the service user*"
	chown nobody "$T/var"
	chmod -R a+rX "$PKI"
	setup_inventory
	start_daemon || exit 1
	is "the daemon runs as nobody" \
		"$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" nobody
	phone sb 0022bd010203 legacy-rsa >/dev/null
	like "and serves phones" "$(cat "$T/phone.err")" "status=200 *"
	is "the database belongs to nobody" "$(stat -c %U "$DB")" nobody
	stop_daemon
	is "and stops cleanly" "$DAEMON_STATUS" 0
	rm -rf "$T/var"
	DB="$T/spaprov.db"
else
	for i in 1 2 3 4 5 6; do ok "# SKIP privilege drop needs root and user nobody"; done
fi

# --- reload under load -------------------------------------------------------
write_conf
setup_inventory
start_daemon || exit 1
rows0=$(sql "select count(*) from resyncs")
load_for 6
sleep 1
kill -HUP "$DAEMON_PID"          # nothing changed: every listener kept
sleep 1
sed -i '0,/^connection_limit = 4096/s//connection_limit = 4000/' "$CONF"   # sipura changes
# sb2k gets threads of its own
sed -i '/^\[listener sb2k\]/,/^$/s/^connection_limit = 4096/connection_limit = 4096\nthreads = 3/' "$CONF"
kill -HUP "$DAEMON_PID"
sleep 1
cp "$CONF" "$T/good.conf"
echo "this is not = a valid [line" >>"$CONF"
kill -HUP "$DAEMON_PID"
sleep 1
wait_load
is "reload under load: no failed request" "$(count_other)" 0 ||
	diag "$(cat "$T"/load.* | grep -v '^status=200 ' | head -5)"
ok200=$(count_status 200)
like "and requests were served throughout ($ok200)" "$ok200" "[1-9]*"
is "every 200 is in the ledger" \
	"$(sql "select count(*) from resyncs where status = 200")" \
	"$((ok200 + 0))"
like "unchanged reload kept every listener" "$(cat "$T/daemon.log")" \
	"*configuration reloaded\" listeners=5 kept=5 replaced=0*"
like "changed listeners were replaced" "$(cat "$T/daemon.log")" \
	"*configuration reloaded\" listeners=5 kept=3 replaced=2*"
like "a bad configuration is refused and the old one stays" \
	"$(cat "$T/daemon.log")" "*reload refused, the running configuration stays*$CONF:*"
phone sb2k 0022bd010208 fw206 >/dev/null
like "still serving after the refused reload" "$(cat "$T/phone.err")" "status=200 *"
cp "$T/good.conf" "$CONF"

# --- online backup and check ---------------------------------------------------
load_for 2
"$SPAPROVCTL" -c "$CONF" db backup "$T/backup.db" >"$T/out" 2>&1
is "db backup while phones resync: exit 0" "$?" 0 || diag "$(cat "$T/out")"
wait_load
is "the copy is readable by the owner only (it holds the secrets)" \
	"$(stat -c %a "$T/backup.db")" 600
is "the copy passes SQLite's integrity check" \
	"$(sqlite3 "$T/backup.db" 'pragma integrity_check')" ok
like "and holds the inventory" \
	"$(sqlite3 "$T/backup.db" 'select count(*) from devices')" "[1-9]*"
"$SPAPROVCTL" -c "$CONF" db backup "$T/backup.db" >"$T/out" 2>&1
is "db backup never overwrites a file (exit 4)" "$?" 4
"$SPAPROVCTL" -c "$CONF" db check >"$T/out" 2>&1
is "db check on the live database: exit 0" "$?" 0
like "and says so" "$(cat "$T/out")" "database OK (schema version *)"
cp "$T/backup.db" "$T/broken.db"
head -c 2000 /dev/urandom | dd of="$T/broken.db" bs=1 seek=4096 conv=notrunc 2>/dev/null
sed "s|^database = .*|database = $T/broken.db|" "$CONF" >"$T/broken.conf"
"$SPAPROVCTL" -c "$T/broken.conf" db check >"$T/out" 2>&1
is "db check on a damaged copy: exit 4" "$?" 4

# --- stop under load ---------------------------------------------------------
before=$(sql "select count(*) from resyncs where status = 200")
load_for 3
sleep 1.5
stop_daemon
is "SIGTERM under load: exit 0" "$DAEMON_STATUS" 0
wait_load
got=$(count_status 200)
is "every 200 a phone received is in the ledger" \
	"$(sql "select count(*) from resyncs where status = 200")" "$((before + got))"

# --- -d and a pidfile ----------------------------------------------------------
rm -f "$T/ports"
"$SPAPROVD" -d --pidfile "$T/spaprovd.pid" -c "$CONF" --ports-file "$T/ports" \
	>"$T/out" 2>&1
is "-d returns at once with status 0" "$?" 0
for i in $(seq 1 50); do [ -s "$T/ports" ] && break; sleep 0.1; done
pid=$(cat "$T/spaprovd.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "the pidfile names the running daemon"
else
	not_ok "the pidfile names the running daemon"
fi
phone sb 0022bd010203 legacy-rsa >/dev/null
like "the detached daemon serves" "$(cat "$T/phone.err")" "status=200 *"
kill -TERM "$pid" 2>/dev/null
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "the detached daemon stops on SIGTERM"
	kill -9 "$pid"
else
	ok "the detached daemon stops on SIGTERM"
fi

# --- retention -----------------------------------------------------------------
sql "insert into resyncs (ts, listener, ca, remote_addr, verify, method, path,
	status, bytes, duration_ms, outcome)
	select '2001-01-01T00:00:00.000Z', 'sb', 'sb', '192.0.2.1', 'ok', 'GET',
	'/old', 200, 0, 1, 'ok' from (with recursive n(i) as (select 1 union all
	select i + 1 from n where i < 1200) select i from n)"
sql "insert into handshake_failures (ts, listener, ca, remote_addr, error)
	values ('2001-01-01T00:00:00.000Z', 'sb', 'sb', '192.0.2.1', 'old')"
recent=$(sql "select count(*) from resyncs where ts > '2002'")
write_conf "resync_retention_days = 30"
start_daemon || exit 1
for i in $(seq 1 100); do
	[ "$(sql "select count(*) from resyncs where ts < '2002'")" = 0 ] && break
	sleep 0.1
done
is "resync_retention_days prunes old ledger rows (in batches)" \
	"$(sql "select count(*) from resyncs where ts < '2002'")" 0
is "and old handshake failures" \
	"$(sql "select count(*) from handshake_failures where ts < '2002'")" 0
is "recent rows are kept" "$(sql "select count(*) from resyncs where ts > '2002'")" "$recent"
stop_daemon

# --- systemd notify ------------------------------------------------------------
/usr/bin/python3 - "$T/notify.sock" "$T/notify.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as out:
    try:
        while True:
            msg = s.recv(4096).decode()
            out.write(msg + "\n")
            out.flush()
            if msg.startswith("STOPPING"):
                break
    except socket.timeout:
        pass
EOF
npid=$!
for i in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" start_daemon || exit 1
kill -HUP "$DAEMON_PID"
sleep 0.5
stop_daemon
wait "$npid"
is "sd_notify: READY, RELOADING, READY, STOPPING" \
	"$(tr '\n' ' ' <"$T/notify.out")" "READY=1 RELOADING=1 READY=1 STOPPING=1 "

done_testing
