#!/bin/bash
# The per-listener limits on what a client sends: request target length
# (max_url_length), header count (max_headers), request line + headers
# (max_header_size), POST body (max_body_size), client certificate chain
# depth (max_client_chain) and Certificate message size
# (max_client_cert_size).  Each refusal is answered with its status,
# recorded (resyncs or handshake_failures) with the limit named, and the
# daemon keeps serving phones.  (Connection limits, timeouts and bad
# hellos: limits.sh.)
set -u
. "$top_srcdir/tests/integration/lib.sh"

MAC=0022bd010205 # MPP phone, one certificate, on the mpp listener
CHAINED=0022bd010204 # SPA525G2: leaf + intermediate, on sb2k
PY=${PYTHON3:-/usr/bin/python3}

make_pki || { echo "Bail out! spaprovctl lab-pki failed"; exit 1; }

# A client that sends its certificate file as it is (GnuTLS clients drop
# repeated certificates): tls.py PORT CERT KEY 1.2|1.3 prints the HTTP
# status, or "closed"
cat >"$T/tls.py" <<'PYEOF'
import socket, ssl, sys
port, cert, key, ver = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
v = {'1.2': ssl.TLSVersion.TLSv1_2, '1.3': ssl.TLSVersion.TLSv1_3}[ver]
ctx.minimum_version = ctx.maximum_version = v
ctx.load_cert_chain(cert, key)
s = socket.create_connection(('127.0.0.1', port), timeout=10)
try:
    t = ctx.wrap_socket(s)
    t.sendall(b'GET /spa.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    data = t.recv(100)
    print(data.split(b' ')[1].decode() if data else 'closed')
except (ssl.SSLError, OSError):
    print('closed')
PYEOF

write_conf
start_daemon || { echo "Bail out! spaprovd did not start"; exit 1; }
"$SPAPROVCTL" -c "$CONF" profile set office - >/dev/null <<'EOF'
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_></flat-profile>
EOF
for m in $MAC $CHAINED; do
	"$SPAPROVCTL" -c "$CONF" device add $m --profile office \
		--var sip_user=5001 >/dev/null ||
		{ echo "Bail out! device add failed"; exit 1; }
done

# get [curl options] URL-PATH: HTTPS to the mpp listener with the phone's
# certificate; prints the status (000: no response)
get() {
	path=${*: -1}
	curl -sk --max-time 10 --cert "$PKI/phones/$MAC.crt" \
		--key "$PKI/phones/$MAC.key" -o "$T/body" -w '%{http_code}' \
		"${@:1:$#-1}" "https://127.0.0.1:$(port_of mpp)$path"
}
# wait_count TABLE N: until TABLE holds N rows, at most 5 s.  A request
# libmicrohttpd refused itself is recorded just after its answer went
# out, and handshake failures are queued, not waited for.
wait_count() {
	i=0
	while [ "$(sql "select count(*) from $1")" -lt "$2" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
count() { sql "select count(*) from $1"; }
last() { sql "select $1 from resyncs order by id desc limit 1"; }
lastfail() { sql "select $1 from handshake_failures order by id desc limit 1"; }
repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }
OK=/spa$MAC.xml

is "a normal resync: 200" "$(get $OK)" 200

# --- defaults -------------------------------------------------------------
rows=$(count resyncs)
is "request target of 5000 bytes (max_url_length 4096): 414" \
	"$(get "/$(repeat a 5000)")" 414
wait_count resyncs $((rows + 1))   # refused on its headers: answered first
is "recorded as uri-too-long with the limit, the path cut at 4096" \
	"$(last "status, outcome, mac, length(path), detail")" \
	"414|uri-too-long|$MAC|4096|request target of 5001 bytes, max_url_length 4096"

hdrs=()
for i in $(seq 70); do hdrs+=(-H "X-Filler-$i: x"); done
rows=$(count resyncs)
is "73 header fields (max_headers 64): 431" "$(get "${hdrs[@]}" $OK)" 431
wait_count resyncs $((rows + 1))
is "recorded as too-many-headers" "$(last "status, outcome, detail")" \
	"431|too-many-headers|73 header fields, max_headers 64"

rows=$(count resyncs)
is "a 40 kB header (max_header_size 32768): 431" \
	"$(get -H "X-Big: $(repeat b 40000)" $OK)" 431
wait_count resyncs $((rows + 1))
is "recorded as headers-too-large, with the client's identity" \
	"$(last "status, outcome, mac, path, detail")" \
	"431|headers-too-large|$MAC|$OK|request line and headers over max_header_size 32768"

rows=$(count resyncs)
is "a 40 kB request line: 414 from libmicrohttpd" \
	"$(get "/$(repeat a 40000)")" 414
sleep 0.5
like "no row (refused before any request), but a log line at info" \
	"$(count resyncs) $(grep 'level=info' "$T/daemon.log" | grep 'HTTP response code is 414' | tail -n 1)" \
	"$rows *listener=mpp*Error processing request*414*"

repeat x 100000 >"$T/big"
rows=$(count resyncs)
is "POST with Content-Length 100000 (max_body_size 65536): 413" \
	"$(get --data-binary @"$T/big" $OK)" 413
wait_count resyncs $((rows + 1))
is "recorded as body-too-large, by its Content-Length" \
	"$(last "status, outcome, method, detail")" \
	"413|body-too-large|POST|Content-Length 100000, max_body_size 65536"
rows=$(count resyncs)
is "a chunked body growing past max_body_size: connection closed" \
	"$(get -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" $OK)" 000
wait_count resyncs $((rows + 1))
is "recorded as body-too-large, status 0 (nothing sent)" \
	"$(last "status, outcome, method, detail")" \
	"0|body-too-large|POST|body over max_body_size 65536 without Content-Length; connection closed"
repeat y 60000 >"$T/ok-body"
is "a 60 kB POST body is served" "$(get --data-binary @"$T/ok-body" $OK)" 200
is "chunked too" \
	"$(get -H 'Transfer-Encoding: chunked' --data-binary @"$T/ok-body" $OK)" 200

# A chain of 9 certificates: the leaf and 8 copies of its intermediate.
awk '/BEGIN/ { n++ } n == 2' "$PKI/phones/$CHAINED.crt" >"$T/inter.pem"
{
	awk '/BEGIN/ { n++ } n == 1' "$PKI/phones/$CHAINED.crt"
	for i in 1 2 3 4 5 6 7 8; do cat "$T/inter.pem"; done
} >"$T/chain9.pem"
is "the long chain file holds 9 certificates" \
	"$(grep -c 'BEGIN CERTIFICATE' "$T/chain9.pem")" 9
py_rows=
if "$PY" -c 'import ssl' 2>/dev/null; then
	py_rows=" 200"
	for v in 1.2 1.3; do
		fails=$(count handshake_failures)
		is "TLS $v, a 9-certificate chain (max_client_chain 8): closed" \
			"$("$PY" "$T/tls.py" "$(port_of mpp)" "$T/chain9.pem" \
				"$PKI/phones/$CHAINED.key" $v)" closed
		wait_count handshake_failures $((fails + 1))
		is "TLS $v: in handshake_failures with the limit" \
			"$(lastfail "listener, error")" \
			"mpp|client certificate chain of 9 certificates, over max_client_chain 8"
	done
	like "and logged" \
		"$(grep 'TLS handshake failed' "$T/daemon.log" | tail -n 1)" \
		"*listener=mpp *over max_client_chain 8*"
	is "TLS 1.3, its own 2-certificate chain: served" \
		"$("$PY" "$T/tls.py" "$(port_of mpp)" "$PKI/phones/$CHAINED.crt" \
			"$PKI/phones/$CHAINED.key" 1.3)" 200
else
	diag "chains of 9: skipped ($PY has no ssl module)"
fi
phone sb2k $CHAINED fw206 >/dev/null
is "the SPA525G2 with its chain on sb2k: 200" \
	"$(sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err")" 200

check "spaprovd is still running" alive
is "served and refused requests, one row each" \
	"$(sql "select group_concat(status, ' ') from (select status from resyncs order by id)")" \
	"200 414 431 431 413 0 200 200$py_rows 200"
stop_daemon
is "spaprovd exits 0" "$DAEMON_STATUS" 0

# --- configured limits ----------------------------------------------------
LISTENER_EXTRA='max_url_length = 64
max_headers = 8
max_body_size = 100
max_header_size = 4096
max_client_chain = 1
max_client_cert_size = 1024'
write_conf
start_daemon || { echo "Bail out! spaprovd did not restart"; exit 1; }

is "small limits: a normal resync still gets 200" "$(get $OK)" 200
rows=$(count resyncs)
is "request target of 70 bytes (max_url_length 64): 414" \
	"$(get "/$(repeat a 69)")" 414
wait_count resyncs $((rows + 1))
is "... with the configured limit in the row" "$(last "outcome, detail")" \
	"uri-too-long|request target of 70 bytes, max_url_length 64"
rows=$(count resyncs)
is "11 header fields (max_headers 8): 431" \
	"$(get "${hdrs[@]:0:16}" $OK)" 431
wait_count resyncs $((rows + 1))
is "... too-many-headers" "$(last "outcome, detail")" \
	"too-many-headers|11 header fields, max_headers 8"
rows=$(count resyncs)
is "a 5 kB header (max_header_size 4096): 431" \
	"$(get -H "X-Big: $(repeat b 5000)" $OK)" 431
wait_count resyncs $((rows + 1))   # recorded just after the answer
is "... headers-too-large" "$(last "outcome, detail")" \
	"headers-too-large|request line and headers over max_header_size 4096"
is "a 101-byte body (max_body_size 100): 413" \
	"$(get --data-binary "$(repeat z 101)" $OK)" 413
is "a 100-byte body: 200" "$(get --data-binary "$(repeat z 100)" $OK)" 200

fails=$(count handshake_failures)
phone sb2k $CHAINED fw206 >/dev/null
is "a 2-certificate chain: the handshake is refused" "$?" 3
wait_count handshake_failures $((fails + 1))
like "recorded: the Certificate message is over max_client_cert_size" \
	"$(lastfail "listener, error")" \
	"sb2k|client Certificate message of * bytes, over max_client_cert_size 1024"
sed -i 's/^max_client_cert_size = 1024$/max_client_cert_size = 65536/' "$CONF"
stop_daemon
start_daemon || { echo "Bail out! spaprovd did not restart"; exit 1; }
fails=$(count handshake_failures)
phone sb2k $CHAINED fw206 >/dev/null
is "max_client_cert_size 65536: the chain is refused for its depth" "$?" 3
wait_count handshake_failures $((fails + 1))
is "recorded: over max_client_chain 1" "$(lastfail "error")" \
	"client certificate chain of 2 certificates, over max_client_chain 1"
is "a one-certificate phone still gets 200" "$(get $OK)" 200

check "spaprovd is still running" alive
stop_daemon
is "spaprovd exits 0" "$DAEMON_STATUS" 0

done_testing
