#!/bin/bash
# per_ip_connection_limit counts one address's connections across all the
# worker threads that accept on a listener: with 2 threads and a limit of
# 3, three open connections lock that address out (a per-thread count
# would let it have 6), and closing them lets the phone in again.
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 7

PY=/usr/bin/python3
bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"
LISTENER_EXTRA="per_ip_connection_limit = 3" write_conf
grep -q '^threads = 2$' "$CONF" || bail "the test needs [server] threads = 2"
start_daemon || bail "spaprovd did not start"
echo '<flat-profile><!-- {{mac}} --></flat-profile>' >"$T/p.xml"
"$SPAPROVCTL" -c "$CONF" profile set p "$T/p.xml" >/dev/null ||
	bail "profile set failed"
"$SPAPROVCTL" -c "$CONF" device add 0022bd010201 --profile p >/dev/null ||
	bail "device add failed"
status_of() { sed -n 's/^status=\([0-9]*\) .*/\1/p' "$T/phone.err"; }

phone sipura 0022bd010201 legacy-dhe >/dev/null
is "below the limit: 200" "$(status_of)" 200

# hold N connections open (each made sure to be accepted: the server
# answers garbage with a TLS alert only once it has the connection)
cat >"$T/hold.py" <<'PYEOF'
import socket, sys, time
port, n, ready, release = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = [socket.create_connection(('127.0.0.1', port), timeout=5) for _ in range(n)]
time.sleep(0.5)   # let the workers accept them
open(ready, 'w').write('%d\n' % n)
t0 = time.monotonic()
while time.monotonic() - t0 < 60:
    try:
        open(release).close()
        break
    except OSError:
        time.sleep(0.05)
for s in socks:
    s.close()
PYEOF
rm -f "$T/ready" "$T/release"
timeout 90 "$PY" "$T/hold.py" "$(port_of sipura)" 3 "$T/ready" "$T/release" &
hold=$!
w=0
while [ ! -s "$T/ready" ] && [ $w -lt 200 ]; do sleep 0.05; w=$((w + 1)); done
is "three idle connections from 127.0.0.1 held" "$(cat "$T/ready")" 3

rows0=$(sql "select count(*) from resyncs")
phone sipura 0022bd010201 legacy-dhe >/dev/null
is "a fourth connection is refused at the limit: no HTTP status" \
	"$(status_of)" ""
until_is "... and logged with the limit" 1 \
	grep -c 'connection refused: per_ip_connection_limit.*listener=sipura remote=127.0.0.1 limit=3' \
	"$T/daemon.log"
is "... no request reached the ledger" "$(sql "select count(*) from resyncs")" \
	"$rows0"

touch "$T/release"
wait "$hold"
# the closed connections are counted out once libmicrohttpd cleans up
n=0
while [ $n -lt 40 ]; do
	phone sipura 0022bd010201 legacy-dhe >/dev/null
	[ "$(status_of)" = 200 ] && break
	sleep 0.25
	n=$((n + 1))
done
is "after they closed: 200 again" "$(status_of)" 200

stop_daemon
is "spaprovd stopped cleanly" "$?" 0
done_testing
