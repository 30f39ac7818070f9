#!/bin/bash
# Independent TLS stacks against the real daemon, so that the daemon is not
# only ever tested by our own GnuTLS client: curl (OpenSSL), openssl
# s_client forced to TLS 1.0 + AES256-SHA, and the hand-written
# sslv2-client.py opening with an SSLv2-format ClientHello (where GnuTLS
# keeps no peer certificate and the daemon must use the chain its handshake
# hook captured).
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 29

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"
write_conf
start_daemon || bail "spaprovd did not start"

cat >"$T/indep.xml" <<'EOF'
<flat-profile>
  <Station_Name>{{station}}</Station_Name>
  <!-- {{mac}} {{ca}} {{listener}} {{model}} {{serial}} {{firmware}} -->
</flat-profile>
EOF
"$SPAPROVCTL" -c "$CONF" profile set indep "$T/indep.xml" >/dev/null ||
	bail "profile set failed"
for m in 0022bd010201 0022bd010203 0022bd010205; do
	"$SPAPROVCTL" -c "$CONF" device add "$m" --profile indep \
		--var "station=desk-$m" >/dev/null || bail "device add $m failed"
done

# OpenSSL 3 at its default security level refuses the lab phones' 1024-bit
# keys while loading them, before curl applies --ciphers; a private
# configuration lowers the level for these client processes only.
cat >"$T/openssl.cnf" <<'EOF'
openssl_conf = spaprov_test
[spaprov_test]
ssl_conf = spaprov_ssl
[spaprov_ssl]
system_default = spaprov_sys
[spaprov_sys]
CipherString = DEFAULT:@SECLEVEL=0
MinProtocol = TLSv1
EOF
export OPENSSL_CONF="$T/openssl.cnf"

last_id() { sql "select coalesce(max(id), 0) from resyncs"; }
# row_after ID COLUMNS: the first ledger row written after ID
row_after() {
	sql "select $2 from resyncs where id > $1 order by id limit 1"
}
rows_after() { sql "select count(*) from resyncs where id > $1"; }

# failed_since MARK: a test failed since TAP_FAILED was MARK (for diag)
failed_since() { [ "$TAP_FAILED" -ne "$1" ]; }

# curl_get LISTENER MAC [curl options]: HTTPS GET of the phone's profile,
# body to $T/curl.body, HTTP code on stdout
curl_get() {
	c_lst=$1 c_mac=$2
	shift 2
	c_port=$(port_of "$c_lst")
	curl -sS --max-time 15 --ciphers 'DEFAULT:@SECLEVEL=0' \
		--resolve "prov.spaprov.test:$c_port:127.0.0.1" \
		--cacert "$PKI/provisioning/$c_lst-root.crt" \
		-A "$(ua_of "$c_mac")" -o "$T/curl.body" -w '%{http_code}' \
		"$@" "https://prov.spaprov.test:$c_port/spa$c_mac.xml" \
		2>"$T/curl.err"
}

# --- (a) curl with a lab phone certificate, sb2k and mpp ------------------
for pair in sb2k:0022bd010203:legacy-rsa mpp:0022bd010205:modern; do
	lst=${pair%%:*} rest=${pair#*:}
	m=${rest%%:*} emu=${rest#*:}
	before=$(last_id)
	code=$(curl_get "$lst" "$m" --cert "$PKI/phones/$m.crt" \
		--key "$PKI/phones/$m.key")
	mark=$TAP_FAILED
	is "curl (OpenSSL) with $m's certificate gets 200 on $lst" "$code" 200
	failed_since "$mark" && diag "$(cat "$T/curl.err")"
	cp "$T/curl.body" "$T/curl-$lst.body"
	phone "$lst" "$m" "$emu" --user-agent "$(ua_of "$m")" \
		>"$T/emu-$lst.body"
	like "phone-emu gets 200 on $lst too" "$(cat "$T/phone.err")" \
		"status=200 *"
	like "curl's body is $m's profile" "$(cat "$T/curl-$lst.body")" \
		"*desk-$m*<!-- $m $lst $lst *"
	if cmp -s "$T/curl-$lst.body" "$T/emu-$lst.body" &&
		[ -s "$T/curl-$lst.body" ]; then
		ok "curl and phone-emu get the same bytes on $lst"
	else
		not_ok "curl and phone-emu get the same bytes on $lst"
		diag "$(diff "$T/curl-$lst.body" "$T/emu-$lst.body")"
	fi
	is "ledger: curl's request is $m, ok, verify ok" \
		"$(row_after "$before" "listener, mac, status, outcome, verify, bytes = $(wc -c <"$T/curl-$lst.body")")" \
		"$lst|$m|200|ok|ok|1"
	diag "curl on $lst negotiated $(row_after "$before" "tls_version || ' ' || cipher")"
done

# --- (b) curl without a client certificate --------------------------------
before=$(last_id)
code=$(curl_get sb2k 0022bd010203)
is "curl without a client certificate gets 403" "$code" 403
is "ledger: one row, no-certificate, no MAC" \
	"$(rows_after "$before")|$(row_after "$before" "status, outcome, verify, coalesce(mac, 'NULL'), coalesce(cert_subject, 'NULL')")" \
	"1|403|no-certificate|no-certificate|NULL|NULL"

# --- (c) openssl s_client, TLS 1.0, AES256-SHA, on a legacy listener ------
m=0022bd010203
before=$(last_id)
printf 'GET /spa%s.xml HTTP/1.1\r\nHost: prov.spaprov.test\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n' \
	"$m" "$(ua_of "$m")" |
	timeout 20 openssl s_client -connect "127.0.0.1:$(port_of sb)" \
		-tls1 -cipher 'AES256-SHA:@SECLEVEL=0' -quiet \
		-cert "$PKI/phones/$m.crt" -key "$PKI/phones/$m.key" \
		-CAfile "$PKI/provisioning/sb-root.crt" -verify_return_error \
		-verify_hostname prov.spaprov.test \
		>"$T/s_client.out" 2>"$T/s_client.err"
s_rc=$?
tr -d '\r' <"$T/s_client.out" >"$T/s_client.txt"
mark=$TAP_FAILED
is "openssl s_client -tls1 gets HTTP/1.1 200 on sb" \
	"$s_rc $(head -n 1 "$T/s_client.txt")" "0 HTTP/1.1 200 OK"
failed_since "$mark" && diag "$(tail -n 5 "$T/s_client.err")"
sed '1,/^$/d' "$T/s_client.txt" >"$T/s_client.body"
phone sb "$m" legacy-rsa --user-agent "$(ua_of "$m")" >"$T/emu-sb.body"
if [ -s "$T/s_client.body" ] && cmp -s "$T/s_client.body" "$T/emu-sb.body"; then
	ok "s_client's body equals phone-emu's"
else
	not_ok "s_client's body equals phone-emu's"
	diag "$(diff "$T/s_client.body" "$T/emu-sb.body")"
fi
is "ledger: TLS1.0, TLS_RSA_WITH_AES_256_CBC_SHA, the phone's MAC" \
	"$(row_after "$before" "listener, tls_version, cipher, mac, status, outcome")" \
	"sb|TLS1.0|TLS_RSA_WITH_AES_256_CBC_SHA|$m|200|ok"

# --- (d) SSLv2-format ClientHello (PAP2 style) -----------------------------
# sslv2 MAC CERT KEY [options]: one fetch on the sipura listener
sslv2() {
	v_mac=$1 v_cert=$2 v_key=$3
	shift 3
	timeout 30 /usr/bin/python3 "$top_srcdir/tests/sslv2-client.py" \
		--host 127.0.0.1 --port "$(port_of sipura)" \
		--cert "$v_cert" --key "$v_key" \
		--ca "$PKI/provisioning/sipura-root.crt" \
		--server-name prov.spaprov.test --mac "$v_mac" \
		--user-agent "$(ua_of 0022bd010201)" --timeout 10 "$@" \
		>"$T/sslv2.body" 2>"$T/sslv2.err"
}
m=0022bd010201
before=$(last_id)
sslv2 "$m" "$PKI/phones/$m.crt" "$PKI/phones/$m.key"
v_rc=$?
mark=$TAP_FAILED
is "sslv2-client (v2 hello, then TLS 1.0) gets 200 on sipura" \
	"$v_rc $(sed -n 's/^\(status=[0-9]*\) .* \(hello=[a-z0-9]*\).*/\1 \2/p' "$T/sslv2.err")" \
	"0 status=200 hello=sslv2"
failed_since "$mark" && diag "$(cat "$T/sslv2.err")"
is "its body is $m's profile (identity from the hook-captured chain)" \
	"$(cat "$T/sslv2.body")" "<flat-profile>
  <Station_Name>desk-$m</Station_Name>
  <!-- $m sipura sipura SPA-962 88019FA42805 6.1.5(a) -->
</flat-profile>"
phone sipura "$m" legacy-rsa --user-agent "$(ua_of "$m")" >"$T/emu-sipura.body"
check "sslv2-client's body equals phone-emu's" \
	cmp "$T/sslv2.body" "$T/emu-sipura.body"
is "ledger: mac from the certificate, TLS1.0, verify ok" \
	"$(row_after "$before" "mac, tls_version, cipher, verify, status, outcome, ua_mismatch")" \
	"$m|TLS1.0|TLS_RSA_WITH_AES_256_CBC_SHA|ok|200|ok|0"
is "devices row of $m updated by the v2-hello resync" \
	"$(sql "select last_seen is not null, model from devices where mac = '$m'")" \
	"1|SPA-962"

before=$(last_id)
sslv2 0022bd0102ff "$PKI/impostor/phone.crt" "$PKI/impostor/phone.key" \
	--expect-status 403
v_rc=$?
mark=$TAP_FAILED
is "sslv2-client with the impostor certificate gets 403" \
	"$v_rc $(sed -n 's/^\(status=[0-9]*\) .*/\1/p' "$T/sslv2.err")" \
	"0 status=403"
failed_since "$mark" && diag "$(cat "$T/sslv2.err")"
is "ledger: untrusted-certificate, no MAC" \
	"$(row_after "$before" "status, outcome, coalesce(mac, 'NULL'), verify <> 'ok'")" \
	"403|untrusted-certificate|NULL|1"
like "ledger keeps the impostor's subject" \
	"$(row_after "$before" "cert_subject")" "*0022bd0102ff*"
is "the impostor is not added as a pending device" \
	"$(sql "select count(*) from devices where mac = '0022bd0102ff'")" 0

# The fallback trusts a chain GnuTLS no longer exposes; it is safe only if
# GnuTLS still checked the CertificateVerify.  Present 0022bd010201's real
# certificate but sign with another phone's key: no profile, no resync.
cat >"$T/forge.py" <<'EOF'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location('sslv2client', sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
other = mod.load_key(os.environ['FORGE_KEY'])
real_sign = mod.rsa_sign_raw
mod.rsa_sign_raw = lambda key, data: real_sign(other, data)
sys.argv = sys.argv[1:]
sys.exit(mod.main())
EOF
m=0022bd010201
before=$(last_id)
hs_before=$(sql "select coalesce(max(id), 0) from handshake_failures")
FORGE_KEY="$PKI/phones/0022bd010203.key" timeout 30 /usr/bin/python3 \
	"$T/forge.py" "$top_srcdir/tests/sslv2-client.py" \
	--host 127.0.0.1 --port "$(port_of sipura)" \
	--cert "$PKI/phones/$m.crt" --key "$PKI/phones/$m.key" --mac "$m" \
	--timeout 10 >"$T/forge.body" 2>"$T/forge.err"
is "v2 hello, $m's certificate, forged CertificateVerify: TLS error, no body, no resync row" \
	"$? $(wc -c <"$T/forge.body") $(rows_after "$before")" "3 0 0"
w=0
while [ "$(sql "select count(*) from handshake_failures where id > $hs_before")" -lt 1 ] &&
	[ $w -lt 50 ]; do
	sleep 0.1
	w=$((w + 1))
done
like "handshake_failures: stopped at the CertificateVerify" \
	"$(sql "select error || '|' || client_hello from handshake_failures where id > $hs_before")" \
	"handshake stopped after receiving CERTIFICATE VERIFY*|TLS1.0 (SSLv2-format hello)*"

# --- the daemon survived all of it -----------------------------------------
phone sb2k 0022bd010203 legacy-rsa >/dev/null
like "daemon still serves a phone" "$(cat "$T/phone.err")" "status=200 *"
is "no other handshake failure recorded" \
	"$(sql "select count(*) from handshake_failures")" 1
stop_daemon
is "spaprovd exits 0 on SIGTERM" "$?" 0

done_testing
