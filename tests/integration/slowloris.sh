#!/bin/bash
# Slowloris: 500 connections trickling bytes into one listener must not
# delay a phone's resync on it.  Half of them send a ClientHello one byte a
# second (the handshake never completes), the other half complete a TLS 1.2
# handshake without a client certificate and then send request headers one
# byte a second.  Meanwhile a phone resyncs five times; afterwards the
# server closes the connections itself (connection_timeout) once they fall
# silent, and still serves.  Times are printed, never asserted.
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 15

PY=/usr/bin/python3
SLOW_CONNS=500          # half byte-wise ClientHello, half byte-wise headers
TRICKLE_SECS=8          # how long they keep trickling
RESYNCS=5

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"

# One process, every socket in it; every wait bounded.  Writes
#   ready:  "<opened> <handshakes completed>" once all are set up,
#   result: "<ClientHello ones open after the trickle> <header ones open
#            after it> <closed by the server afterwards> <still open at the
#            end> <connect or handshake errors>"
cat >"$T/slow.py" <<'EOF'
import os, resource, select, socket, ssl, struct, sys, time

port, n, secs, idle_limit = (int(sys.argv[1]), int(sys.argv[2]),
                             float(sys.argv[3]), float(sys.argv[4]))
ready, result = sys.argv[5], sys.argv[6]

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    want = n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

def client_hello():
    suites = [0x0035, 0x002f, 0x000a, 0xc013, 0xc014, 0x0033]
    body = b'\x03\x03' + os.urandom(32) + b'\x00'
    body += struct.pack('!H', 2 * len(suites))
    body += b''.join(struct.pack('!H', s) for s in suites) + b'\x01\x00'
    msg = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('!H', len(msg)) + msg

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
try:
    ctx.set_ciphers('ALL:@SECLEVEL=0')
except ssl.SSLError:
    pass
request = b'GET /spa0022bd0102ff.xml HTTP/1.1\r\nHost: prov.spaprov.test\r\n' \
          b'User-Agent: slowloris\r\n' + b'X-Slow: ' + b'a' * 200

conns = []    # [socket, data, offset]
errors = 0
for i in range(n):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=10)
        if i % 2 == 0:
            conns.append([s, client_hello(), 0])
        else:
            t = ctx.wrap_socket(s, do_handshake_on_connect=False)
            t.settimeout(10)
            t.do_handshake()
            conns.append([t, request, 0])
    except (OSError, ssl.SSLError) as e:
        errors += 1
        if errors <= 3:
            print('connection %d: %s' % (i, e), file=sys.stderr)
hs = sum(1 for c in conns if isinstance(c[0], ssl.SSLSocket))
with open(ready + '.tmp', 'w') as f:
    f.write('%d %d\n' % (len(conns), hs))
os.rename(ready + '.tmp', ready)

# one byte a second on every connection
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    tick = time.monotonic()
    for c in conns:
        if c[0] is None:
            continue
        try:
            c[0].settimeout(2)
            c[0].send(c[1][c[2]:c[2] + 1])
            c[2] = min(c[2] + 1, len(c[1]) - 1)
        except (OSError, ssl.SSLError):
            c[0].close()
            c[0] = None
    time.sleep(max(0, 1 - (time.monotonic() - tick)))
hello_open = sum(1 for c in conns
                 if c[0] is not None and not isinstance(c[0], ssl.SSLSocket))
header_open = sum(1 for c in conns if isinstance(c[0], ssl.SSLSocket))

# silence: the server should close them (connection_timeout)
t0 = time.monotonic()
closed = 0
live = [c[0] for c in conns if c[0] is not None]
for s in live:
    s.setblocking(False)
while live and time.monotonic() - t0 < idle_limit:
    r, _, _ = select.select(live, [], [], 0.5)
    for s in r:
        try:
            data = s.recv(4096)
        except (ssl.SSLWantReadError, BlockingIOError):
            continue
        except (OSError, ssl.SSLError):
            data = b''
        if data == b'':
            closed += 1
            live.remove(s)
            s.close()
still = len(live)
for s in live:
    s.close()
with open(result, 'w') as f:
    f.write('%d %d %d %d %d\n' % (hello_open, header_open, closed, still,
                                  errors))
EOF

status_of() { sed -n 's/^status=\([0-9]*\) .*/\1/p' "$T/phone.err"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# connection_timeout 3: longer than the one-second trickle, so that the
# slow connections stay open while they trickle and close when they stop
CONN_TIMEOUT=3 write_conf
start_daemon || bail "spaprovd did not start"
echo '<flat-profile><!-- {{mac}} {{listener}} --></flat-profile>' >"$T/slow.xml"
"$SPAPROVCTL" -c "$CONF" profile set slow "$T/slow.xml" >/dev/null ||
	bail "profile set failed"
"$SPAPROVCTL" -c "$CONF" device add 0022bd010203 --profile slow >/dev/null ||
	bail "device add failed"
port=$(port_of sb2k)

phone sb2k 0022bd010203 legacy-rsa >/dev/null
is "a phone resyncs on sb2k before the attack" "$(status_of)" 200

rm -f "$T/slow.ready" "$T/slow.result"
timeout 120 "$PY" "$T/slow.py" "$port" "$SLOW_CONNS" "$TRICKLE_SECS" 15 \
	"$T/slow.ready" "$T/slow.result" 2>"$T/slow.err" &
slow_pid=$!
w=0
while [ ! -s "$T/slow.ready" ] && [ $w -lt 600 ]; do
	sleep 0.1
	w=$((w + 1))
done
read -r opened handshakes <"$T/slow.ready" 2>/dev/null
is "$SLOW_CONNS slow connections opened to sb2k" "${opened:-0}" "$SLOW_CONNS" ||
	diag "$(head -5 "$T/slow.err")"
is "half of them completed a TLS 1.2 handshake without a client certificate" \
	"${handshakes:-0}" $((SLOW_CONNS / 2))

# the phone, while they trickle
statuses= worst=0 total=0
for i in $(seq "$RESYNCS"); do
	t0=$(now_ms)
	phone sb2k 0022bd010203 legacy-rsa >"$T/body.$i"
	t=$(($(now_ms) - t0))
	statuses="$statuses $(status_of)"
	total=$((total + t))
	[ "$t" -gt "$worst" ] && worst=$t
	sleep 1     # spread over the trickle
done
slow_alive=no
kill -0 "$slow_pid" 2>/dev/null && [ ! -s "$T/slow.result" ] && slow_alive=yes
is "the slow connections were still trickling during the resyncs" \
	"$slow_alive" yes
is "$RESYNCS resyncs during the attack: all 200" "$statuses" \
	"$(printf ' 200%.0s' $(seq "$RESYNCS"))"
like "with the phone's profile" "$(cat "$T/body.$RESYNCS")" \
	"*0022bd010203 sb2k*"
diag "phone resync latency under $SLOW_CONNS slow connections: worst ${worst} ms, mean $((total / RESYNCS)) ms"

wait "$slow_pid"
is "the slow client finished within its bounds" "$?" 0
read -r hello_open header_open closed still errors <"$T/slow.result" 2>/dev/null
diag "after ${TRICKLE_SECS} s of trickle: ${hello_open:-?} byte-wise ClientHellos and ${header_open:-?} byte-wise headers still open; the server then closed ${closed:-?}, ${still:-?} left open; ${errors:-?} connect/handshake errors"
is "no slow connection failed to connect" "${errors:-x}" 0
is "the server closed every slow connection (while or after trickling)" \
	"${still:-x}" 0
is "the ones it kept open while they trickled, it closed once silent" \
	"$((${hello_open:-0} + ${header_open:-0})) ${closed:-x}" \
	"$((${hello_open:-0} + ${header_open:-0})) $((${hello_open:-0} + ${header_open:-0}))"

phone sb2k 0022bd010203 legacy-rsa >/dev/null
is "the daemon still serves afterwards" "$(status_of)" 200

# A handshake that stops halfway (ClientHello sent, the server's flight
# never answered) must not keep a worker busy: libmicrohttpd 0.9.75 asks
# to be run again at once until the client's bytes come, which spent a
# whole core per stalled handshake (500 of 500 ticks in 5 s) before the
# workers backed off (server/workers.c).
cat >"$T/stall.py" <<'PYEOF'
import os, socket, struct, sys, time
body = b'\x03\x01' + os.urandom(32) + b'\x00' + struct.pack('!H', 6) + \
    b'\x00\x39\x00\x35\x00\x2f' + b'\x01\x00'
msg = b'\x01' + struct.pack('!I', len(body))[1:] + body
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'\x16\x03\x01' + struct.pack('!H', len(msg)) + msg)
s.settimeout(5)
got = s.recv(5)   # the server's flight has begun: it now waits for us
print('server answered' if got[:1] == b'\x16' else 'no answer')
time.sleep(float(sys.argv[2]))
PYEOF
ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
t0=$(ticks)
res=$(timeout 20 "$PY" "$T/stall.py" "$(port_of sb2k)" 5)
t1=$(ticks)
is "a stalled handshake: the server sent its flight and waits" "$res" \
	"server answered"
hz=$(getconf CLK_TCK)
diag "spaprovd CPU while one handshake stalled 5 s: $((t1 - t0)) ticks of $((5 * hz))"
check "... without spinning: under a fifth of a core for those 5 s" \
	[ $((t1 - t0)) -lt "$hz" ]
is "every resync is in the ledger" \
	"$(sql "select count(*) from resyncs where mac = '0022bd010203' and status = 200")" \
	$((RESYNCS + 2))
stop_daemon
is "spaprovd exits 0 on SIGTERM" "$?" 0

done_testing
