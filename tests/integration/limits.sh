#!/bin/bash
# Limits and hostile input on the TLS listeners: idle connections time out
# and are recorded; more idle connections than libmicrohttpd's default limit
# do not lock phones out; garbage, truncated and SSL 3.0 hellos are recorded
# and survived; legacy DHE stays at 1024 bits unless configured otherwise.
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 35

PY=/usr/bin/python3
IDLE_CONNS=1100        # more than libmicrohttpd's default limit of 1020

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"

# Raw socket clients, one subcommand per experiment.  Every wait is bounded.
cat >"$T/raw.py" <<'EOF'
import os, resource, select, socket, struct, sys, time

def client_hello(version, suites, record_version=None):
    body = version + os.urandom(32) + b'\x00'
    body += struct.pack('!H', 2 * len(suites))
    body += b''.join(struct.pack('!H', s) for s in suites)
    body += b'\x01\x00'                       # null compression only
    msg = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return (b'\x16' + (record_version or version) +
            struct.pack('!H', len(msg)) + msg)

def wait_closed(s, limit):
    """Seconds until the peer closed the connection, or None."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(4096) == b'':
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:                       # reset
            return time.monotonic() - t0
    return None

def idle(port, limit):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    t = wait_closed(s, limit)
    s.close()
    print('closed %.1f' % t if t is not None else 'open')

def bad(port, kind):
    if kind == 'garbage':
        data = bytes((i * 37 + 11) % 256 for i in range(700))
    elif kind == 'truncated':                 # record cut short, then EOF
        data = client_hello(b'\x03\x01', [0x35, 0x2f, 0x0a])[:40]
    elif kind == 'short':                     # whole record, 10-byte hello
        body = b'\x03\x01' + os.urandom(8)
        msg = b'\x01' + struct.pack('!I', len(body))[1:] + body
        data = b'\x16\x03\x01' + struct.pack('!H', len(msg)) + msg
    elif kind == 'ssl3':                      # SSL 3.0 only, as from 2003
        data = client_hello(b'\x03\x00', [0x35, 0x2f, 0x0a, 0x05, 0x04])
    else:
        sys.exit('unknown kind ' + kind)
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        s.sendall(data)
        if kind == 'truncated':
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass                                  # already closed by the server
    t = wait_closed(s, 10)
    s.close()
    print('closed' if t is not None else 'open')

def hold(port, n, ready, release, result):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard != resource.RLIM_INFINITY
                            else want, hard))
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection(('127.0.0.1', port),
                                                  timeout=10))
    except OSError as e:
        print('connect %d failed: %s' % (len(socks) + 1, e), file=sys.stderr)
    with open(ready, 'w') as f:
        f.write('%d\n' % len(socks))
    t0 = time.monotonic()
    while not os.path.exists(release) and time.monotonic() - t0 < 120:
        time.sleep(0.1)
    still = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK) != b'':
                still += 1                    # (the server sent something)
        except BlockingIOError:
            still += 1                        # open and silent: held
        except OSError:
            pass
    with open(result, 'w') as f:
        f.write('%d\n' % still)
    for s in socks:
        s.close()

cmd = sys.argv[1]
if cmd == 'idle':
    idle(int(sys.argv[2]), float(sys.argv[3]))
elif cmd == 'bad':
    bad(int(sys.argv[2]), sys.argv[3])
elif cmd == 'hold':
    hold(int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:7])
EOF

# wait_hsfail_after ID: until a handshake_failures row newer than ID is
# there (they are written asynchronously), 5 s at most
wait_hsfail_after() {
	w=0
	while [ "$(sql "select count(*) from handshake_failures where id > $1")" -eq 0 ] &&
		[ $w -lt 50 ]; do
		sleep 0.1
		w=$((w + 1))
	done
}
hsfail_after() {
	sql "select $2 from handshake_failures where id > $1 order by id limit 1"
}
last_hsfail() { sql "select coalesce(max(id), 0) from handshake_failures"; }
status_of() { sed -n 's/^status=\([0-9]*\) .*/\1/p' "$T/phone.err"; }

# --- (a) connection_timeout -----------------------------------------------
CONN_TIMEOUT=2 write_conf
start_daemon || bail "spaprovd did not start"
echo '<flat-profile><!-- {{mac}} {{listener}} --></flat-profile>' >"$T/lim.xml"
"$SPAPROVCTL" -c "$CONF" profile set lim "$T/lim.xml" >/dev/null ||
	bail "profile set failed"
for m in 0022bd010201 0022bd010203; do
	"$SPAPROVCTL" -c "$CONF" device add "$m" --profile lim >/dev/null ||
		bail "device add $m failed"
done

before=$(last_hsfail)
res=$(timeout 20 "$PY" "$T/raw.py" idle "$(port_of sb2k)" 15)
like "a silent TCP client is closed by the server" "$res" "closed *"
t=${res#closed }
t=${t%.*}
if [ "$res" != open ] && [ "${t:-99}" -ge 1 ] && [ "${t:-99}" -le 6 ]; then
	ok "... after about connection_timeout = 2 s (${res#closed } s)"
else
	not_ok "... after about connection_timeout = 2 s"
	diag "got: $res"
fi
wait_hsfail_after "$before"
like "handshake_failures records it: no ClientHello" \
	"$(hsfail_after "$before" "listener || '|' || error || '|' || coalesce(client_hello, 'NULL')")" \
	"sb2k|no ClientHello*|NULL"
stop_daemon
is "spaprovd (connection_timeout = 2) exits 0 on SIGTERM" "$?" 0

# --- (b) more idle connections than libmicrohttpd's default limit ---------
write_conf
start_daemon || bail "spaprovd did not restart"
port=$(port_of sb2k)
fds0=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
hs0=$(last_hsfail)
rm -f "$T/hold.ready" "$T/hold.release" "$T/hold.result"
timeout 180 "$PY" "$T/raw.py" hold "$port" "$IDLE_CONNS" "$T/hold.ready" \
	"$T/hold.release" "$T/hold.result" 2>"$T/hold.err" &
hold_pid=$!
w=0
while [ ! -s "$T/hold.ready" ] && [ $w -lt 600 ]; do
	sleep 0.1
	w=$((w + 1))
done
is "$IDLE_CONNS idle TCP connections opened to sb2k" \
	"$(cat "$T/hold.ready" 2>/dev/null)" "$IDLE_CONNS"
# the daemon has accepted them all (one socket each), not left them queued
w=0
while [ $(($(ls "/proc/$DAEMON_PID/fd" | wc -l) - fds0)) -lt "$IDLE_CONNS" ] &&
	[ $w -lt 100 ]; do
	sleep 0.1
	w=$((w + 1))
done
held=$(($(ls "/proc/$DAEMON_PID/fd" | wc -l) - fds0))
if [ "$held" -ge "$IDLE_CONNS" ]; then
	ok "spaprovd holds them all ($held more descriptors)"
else
	not_ok "spaprovd holds them all"
	diag "only $held more descriptors than at start"
fi
phone sb2k 0022bd010203 legacy-rsa >"$T/body"
is "a phone still resyncs on that listener within --timeout 10" \
	"$? $(status_of)" "0 200"
like "with its profile" "$(cat "$T/body")" "*0022bd010203 sb2k*"
touch "$T/hold.release"
wait "$hold_pid"
is "the server closed none of the idle connections meanwhile" \
	"$(cat "$T/hold.result" 2>/dev/null)" "$IDLE_CONNS"
[ -s "$T/hold.err" ] && diag "$(cat "$T/hold.err")"
# closing them makes one handshake_failures row each; let that settle
idle_rows() {
	sql "select count(*) from handshake_failures where id > $hs0 and listener = 'sb2k' and error like 'no ClientHello%'"
}
w=0
while [ "$(idle_rows)" -lt "$IDLE_CONNS" ] && [ $w -lt 100 ]; do
	sleep 0.1
	w=$((w + 1))
done
is "each closed idle connection is recorded once" \
	"$(idle_rows)/$(sql "select count(*) from handshake_failures where id > $hs0")" \
	"$IDLE_CONNS/$IDLE_CONNS"

# --- (c) garbage, truncated and SSL 3.0 hellos -----------------------------
# bad KIND 'LISTENER|ERROR-GLOB|HELLO-GLOB'
bad() {
	b_before=$(last_hsfail)
	b_res=$(timeout 20 "$PY" "$T/raw.py" bad "$(port_of sb)" "$1")
	is "$1: the server closes the connection" "$b_res" closed
	wait_hsfail_after "$b_before"
	like "$1: one handshake_failures row, error and hello recorded" \
		"$(sql "select count(*) from handshake_failures where id > $b_before")|$(hsfail_after "$b_before" "listener || '|' || error || '|' || coalesce(client_hello, 'NULL')")" \
		"1|$2"
	check "$1: spaprovd is still running" kill -0 "$DAEMON_PID"
}
bad garbage 'sb|no ClientHello*|NULL'
bad truncated 'sb|?*|NULL'
bad short 'sb|?*|*truncated ClientHello*'
bad ssl3 'sb|?*|SSL3.0 suites=TLS_RSA_AES_256_CBC_SHA1,*ARCFOUR_128_MD5'
diag "recorded:" "$(sql "select error || ' / ' || coalesce(client_hello, '-') from handshake_failures where listener = 'sb'")"
phone sb 0022bd010203 legacy-rsa >/dev/null
is "a phone still resyncs on sb afterwards" "$(status_of)" 200

# --- (d) legacy DHE: 1024-bit group by default, refused at 2048 ------------
for lst in sipura linksys sb; do
	phone "$lst" 0022bd010201 legacy-dhe >/dev/null
	like "legacy-dhe on $lst: 200 with a 1024-bit DH group" \
		"$(cat "$T/phone.err")" "status=200 *kx=DHE-RSA dh_bits=1024 *"
done
stop_daemon
is "spaprovd exits 0 on SIGTERM" "$?" 0

LISTENER_EXTRA='dh_bits = 2048' write_conf
start_daemon || bail "spaprovd (dh_bits = 2048) did not start"
before=$(last_hsfail)
for lst in sipura linksys sb; do
	phone "$lst" 0022bd010201 legacy-dhe >/dev/null
	e=$?
	is "dh_bits = 2048 on $lst: legacy-dhe phone refuses the group (exit 3)" \
		"$e" 3
	phone "$lst" 0022bd010201 legacy-rsa >/dev/null
	is "dh_bits = 2048 on $lst: legacy-rsa still gets 200" "$(status_of)" 200
done
# phone-emu finishes the handshake, then refuses with a fatal
# insufficient_security alert and sends no request: the operator should
# still see why the phone never asked for its profile.
sleep 0.5
is "each refusal leaves a trace in handshake_failures" \
	"$(sql "select count(*) from handshake_failures where id > $before and client_hello like '%DHE_RSA%' and error like 'handshake completed, then the client refused%peer alert: %'")" \
	3
phone sb 0022bd010201 legacy-dhe --max-dh-bits 0 >/dev/null
like "a DHE client without a limit sees the 2048-bit group" \
	"$(cat "$T/phone.err")" "status=200 *dh_bits=2048 *"
stop_daemon
is "spaprovd (dh_bits = 2048) exits 0 on SIGTERM" "$?" 0

done_testing
