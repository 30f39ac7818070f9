#!/bin/bash
# Fleet (issue 7): encrypted profiles on a plain-HTTP and a server-auth
# HTTPS listener, decrypted with the real `openssl enc`; firmware
# downloads (authenticated on mutual listeners, anyone on plain ones,
# no way out of firmware_dir); the firmware report; device reports
# (Report_Rule) and their differences from the profile served.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_pki || exit 1
FW="$T/fw"
mkdir -p "$FW" "$FW/subdir"
head -c 300000 /dev/urandom >"$FW/spa504g-7.6.2.bin"
head -c 1000 /dev/urandom >"$FW/spa962-7.6.2.bin"
echo "NOT FOR PHONES" >"$T/outside.bin"
ln -s "$T/outside.bin" "$FW/link.bin"
echo "hidden" >"$FW/.hidden"
write_conf "firmware_dir = $FW"
cat >>"$CONF" <<EOF

[listener http]
ca = sipura
mode = plain
address = 127.0.0.1
port = 0
threads = 2

[listener tlsonly]
ca = sb
mode = server-auth
address = 127.0.0.1
port = 0
certificate = $PKI/server/sb.crt
key = $PKI/server/sb.key
threads = 2
EOF
start_daemon || exit 1
HTTP="http://127.0.0.1:$(port_of http)"
TLSONLY="https://127.0.0.1:$(port_of tlsonly)"
CURL_TLS="--ciphers DEFAULT:@SECLEVEL=0 -k"

ctl() { "$SPAPROVCTL" -c "$CONF" "$@"; }
last() { sql "select $1 from resyncs order by id desc limit 1"; }
# get URL [curl options]: body in $T/body, "STATUS CONTENT-TYPE" on stdout
get() {
	url=$1
	shift
	curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$url"
}
decrypt() { # decrypt KEY: $T/body -> stdout
	openssl enc -d -aes-256-cbc -md md5 -k "$1" -in "$T/body" \
		2>/dev/null | gunzip 2>/dev/null
}

ctl profile set legacy - >/dev/null <<'EOF'
<flat-profile>
  <User_ID_1_>{{sip_user}}</User_ID_1_>
  <Password_1_>{{sip_password}}</Password_1_>
  <Station_Name>{{station}}</Station_Name>
  <Upgrade_Rule>{{upgrade_rule}}</Upgrade_Rule>
  <!-- {{mac}} {{mac_upper}} {{serial}} {{model}} {{firmware}} {{ca}} {{listener}} [{{firmware_target}}] -->
  <Profile_Rule>[--key $B] http://prov.spaprov.test/spa$MAU.cfg</Profile_Rule>
</flat-profile>
EOF
MAC=0022bd0102a1
ctl device add "$MAC" --profile legacy --description "SPA9000 lobby" \
	--var sip_user=3001 --var sip_password=pw-3001-secret \
	--var 'station=Lobby & <Door>' >/dev/null

# --- encrypted profile over plain HTTP -------------------------------------
is "no key yet: 404" "$(get "$HTTP/spa0022BD0102A1.cfg")" "404 text/plain; charset=utf-8"
is "recorded as no-key, url-mac, nothing asked of TLS" \
	"$(last "status, outcome, trust, mac, verify, tls_version is null")" \
	"404|no-key|url-mac|$MAC|not-requested|1"

KEY=$(ctl device key "$MAC" --generate)
like "device key --generate prints 32 base64url characters" "$KEY" \
	"$(printf '[A-Za-z0-9_-]%.0s' $(seq 32))"
is "device key prints the same key" "$(ctl device key 00:22:BD:01:02:A1)" "$KEY"
ctl device key "$MAC" --set 'has space' 2>/dev/null
is "an invalid key is refused (exit 3)" "$?" 3
ctl device key 0022bd0102ff --generate >/dev/null 2>&1
is "no key for a device not in the inventory (exit 2)" "$?" 2

is "encrypted profile over plain HTTP: 200, octet-stream" \
	"$(get "$HTTP/spa0022BD0102A1.cfg")" "200 application/octet-stream"
like "openssl enc format: Salted__ and a salt" "$(head -c 8 "$T/body")" "Salted__"
decrypt "$KEY" >"$T/decrypted"
ctl profile render "$MAC" --listener http >"$T/rendered" 2>/dev/null
if cmp -s "$T/decrypted" "$T/rendered" && [ -s "$T/rendered" ]; then
	ok "openssl enc -d -aes-256-cbc -md md5 -k KEY | gunzip = profile render"
else
	not_ok "openssl enc -d -aes-256-cbc -md md5 -k KEY | gunzip = profile render"
	diag "$(diff "$T/decrypted" "$T/rendered" | head -20)"
fi
like "the device's own values, escaped, \$MAU left for the phone" \
	"$(cat "$T/decrypted")" \
	*"<User_ID_1_>3001</User_ID_1_>"*"Lobby &amp; &lt;Door&gt;"*"0022bd0102a1 0022BD0102A1"*"sipura http"*'spa$MAU.cfg'*
if grep -q "pw-3001-secret" "$T/body"; then
	not_ok "the password does not travel in clear"
else
	ok "the password does not travel in clear"
fi
is "ledger: ok-encrypted, url-mac, bytes sent" \
	"$(last "status, outcome, trust, mac, bytes = $(wc -c <"$T/body")")" \
	"200|ok-encrypted|url-mac|$MAC|1"
is "the device row is not touched by a url-mac request" \
	"$(sql "select last_seen is null from devices where mac = '$MAC'")" 1
decrypt "wrong-key-123" >"$T/wrong"
if [ -s "$T/wrong" ] && grep -q 3001 "$T/wrong"; then
	not_ok "another key does not open it"
else
	ok "another key does not open it"
fi
get "$HTTP/cfg/$MAC.xml" >/dev/null
is "lower-case MAC in the URL works too" "$(last "status, outcome")" "200|ok-encrypted"

is "no MAC in the URL: 404" "$(get "$HTTP/spa.cfg" | cut -d' ' -f1)" 404
is "recorded as no-mac-in-url" "$(last "outcome, mac is null, trust is null")" \
	"no-mac-in-url|1|1"
is "two different MACs: 404" \
	"$(get "$HTTP/spa0022bd0102a1.cfg?0022bd0102a2" | cut -d' ' -f1)" 404
is "recorded as no-mac-in-url, naming the problem" "$(last detail)" \
	"the URL names two different MACs"
is "unknown MAC: 404" "$(get "$HTTP/spa0022bd0102a9.cfg" | cut -d' ' -f1)" 404
is "unknown-device, and never added as pending" \
	"$(last outcome)|$(sql "select count(*) from devices where mac = '0022bd0102a9'")" \
	"unknown-device|0"
ctl device disable "$MAC" >/dev/null
is "disabled device: 403" "$(get "$HTTP/spa$MAC.cfg" | cut -d' ' -f1)" 403
ctl device enable "$MAC" >/dev/null
is "PUT is not served: 405" \
	"$(get "$HTTP/spa$MAC.cfg" -X PUT | cut -d' ' -f1)" 405
head -c 70000 /dev/zero | tr '\0' x >"$T/big"
is "the listener's limits hold on plain HTTP too: 413" \
	"$(get "$HTTP/spa$MAC.cfg" --data-binary @"$T/big" | cut -d' ' -f1)|$(last "outcome, verify")" \
	"413|body-too-large|not-requested"
is "and 414" \
	"$(get "$HTTP/spa$MAC.cfg?$(head -c 5000 /dev/zero | tr '\0' a)" | cut -d' ' -f1)|$(last outcome)" \
	"414|uri-too-long"

# --- encrypted profile over server-auth HTTPS ------------------------------
is "server-auth HTTPS, no client certificate: 200" \
	"$(get "$TLSONLY/spa0022BD0102A1.cfg" $CURL_TLS)" \
	"200 application/octet-stream"
decrypt "$KEY" >"$T/decrypted2"
ctl profile render "$MAC" --listener tlsonly >"$T/rendered2" 2>/dev/null
if cmp -s "$T/decrypted2" "$T/rendered2" && [ -s "$T/rendered2" ]; then
	ok "decrypted = profile render on that listener"
else
	not_ok "decrypted = profile render on that listener"
	diag "$(diff "$T/decrypted2" "$T/rendered2" | head -20)"
fi
is "ledger: TLS recorded, url-mac" \
	"$(last "outcome, trust, verify, tls_version is not null")" \
	"ok-encrypted|url-mac|not-requested|1"
# the handshake messages: no CertificateRequest on server-auth
handshake() {
	echo | openssl s_client -connect "127.0.0.1:$(port_of "$1")" \
		-cipher 'DEFAULT:@SECLEVEL=0' -msg 2>&1
}
handshake tlsonly >"$T/s_client"
if grep -q "Finished" "$T/s_client" && ! grep -q "CertificateRequest" "$T/s_client"; then
	ok "server-auth listener asks for no client certificate"
else
	not_ok "server-auth listener asks for no client certificate"
	diag "$(grep -i "handshake\|error" "$T/s_client" | head)"
fi
like "(a mutual listener does)" "$(handshake sb)" "*CertificateRequest*"
"$PHONE" --host 127.0.0.1 --port "$(port_of sb)" --profile legacy-rsa \
	--path /spa0022BD0102A1.cfg --expect-status 403 --timeout 10 \
	>/dev/null 2>"$T/phone.err"
is "mutual listeners still want a certificate for the same URL" \
	"$(last "status, outcome, trust is null")" "403|no-certificate|1"

# --- firmware ----------------------------------------------------------------
phone sb 0022bd010203 legacy-rsa --user-agent "$(ua_of 0022bd010203)" \
	--path /firmware/spa504g-7.6.2.bin --out "$T/fw.out" >/dev/null
if cmp -s "$T/fw.out" "$FW/spa504g-7.6.2.bin"; then
	ok "firmware over mutual TLS: the image, byte for byte"
else
	not_ok "firmware over mutual TLS: the image, byte for byte"
	diag "$(cat "$T/phone.err")"
fi
is "recorded as firmware, with the device, its firmware and the size" \
	"$(last "status, outcome, mac, firmware, bytes, detail")" \
	"200|firmware|0022bd010203|7.4.4|300000|spa504g-7.6.2.bin"
"$PHONE" --host 127.0.0.1 --port "$(port_of sb)" --profile legacy-rsa \
	--path /firmware/spa504g-7.6.2.bin --expect-status 403 --timeout 10 \
	>"$T/fw.out" 2>"$T/phone.err"
is "no client certificate on a mutual listener: 403" \
	"$(last "status, outcome")" "403|no-certificate"
if cmp -s "$T/fw.out" "$FW/spa504g-7.6.2.bin"; then
	not_ok "and no image"
else
	ok "and no image"
fi
is "plain HTTP: anyone gets the image" \
	"$(get "$HTTP/firmware/spa504g-7.6.2.bin")" "200 application/octet-stream"
if cmp -s "$T/body" "$FW/spa504g-7.6.2.bin"; then
	ok "byte for byte"
else
	not_ok "byte for byte"
fi
is "recorded without a MAC" "$(last "outcome, mac is null, trust is null")" \
	"firmware|1|1"
get "$HTTP/firmware/spa504g-7.6.2.bin?0022BD0102A1" >/dev/null
is "a MAC in the query (\$MA) names the device, url-mac" \
	"$(last "outcome, mac, trust")" "firmware|$MAC|url-mac"
is "HEAD: headers only" \
	"$(curl -s -I -o /dev/null -w '%{http_code}' "$HTTP/firmware/spa962-7.6.2.bin")" 200
is "server-auth listener: no firmware (no authenticated device)" \
	"$(get "$TLSONLY/firmware/spa504g-7.6.2.bin" $CURL_TLS | cut -d' ' -f1)" 403

for p in /firmware/../spaprov.conf /firmware/..%2Fspaprov.conf \
	/firmware/%2e%2e/spaprov.conf /firmware/subdir/../spa962-7.6.2.bin \
	'/firmware/spa962-7.6.2.bin%00.txt' /firmware/.hidden /firmware/ \
	'/firmware/a%20b.bin' /firmware//etc/passwd; do
	status=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "$HTTP$p")
	is "refused: $p" "$status|$(last outcome)" "400|bad-firmware-name"
	if grep -q "NOT FOR PHONES\|database =" "$T/body"; then
		not_ok "nothing from outside firmware_dir for $p"
	fi
done
is "a symbolic link is not followed: 404" \
	"$(get "$HTTP/firmware/link.bin" | cut -d' ' -f1)|$(last "outcome, detail")" \
	"404|no-firmware|link.bin: a symbolic link"
is "a directory is no image: 404" \
	"$(get "$HTTP/firmware/subdir" | cut -d' ' -f1)|$(last outcome)" \
	"404|no-firmware"
is "a missing image: 404" \
	"$(get "$HTTP/firmware/none.bin" | cut -d' ' -f1)|$(last outcome)" \
	"404|no-firmware"

# --- targets, {{upgrade_rule}}, the firmware report ------------------------
ctl firmware target SPA504G 7.6.2 spa504g-7.6.2.bin
is "firmware target set" "$?" 0
ctl firmware target SPA-962 7.6.2 spa962-7.6.2.bin
ctl firmware target SPA112 1.4.1 missing.bin 2>"$T/ctl.err"
like "a target whose file is missing is accepted with a warning" \
	"$(cat "$T/ctl.err")" "*warning*missing.bin*"
ctl firmware target SPA112 1.4.1 ../x.bin 2>/dev/null
is "a target file outside firmware_dir is refused (exit 3)" "$?" 3
like "firmware target lists them" "$(ctl firmware target)" \
	*"SPA-962"*"7.6.2"*"spa962-7.6.2.bin"*"SPA112"*"SPA504G"*
ctl firmware target SPA112 --remove
is "and removes one" "$(ctl firmware target | grep -c SPA112)" 0

for mac in 0022bd010201 0022bd010203 0022bd010205; do
	ctl device add "$mac" --profile legacy --var sip_user=1 \
		--var sip_password=x --var station=s >/dev/null
done
phone sb 0022bd010203 legacy-rsa --user-agent "$(ua_of 0022bd010203)" >"$T/body"
like "{{upgrade_rule}}: https on its own listener and port (SPA504G)" \
	"$(cat "$T/body")" \
	"*<Upgrade_Rule>https://prov.spaprov.test:$(port_of sb)/firmware/spa504g-7.6.2.bin</Upgrade_Rule>*[7.6.2]*"
phone sipura 0022bd010201 legacy-dhe --user-agent "$(ua_of 0022bd010201)" >"$T/body"
like "{{upgrade_rule}}: plain HTTP with \$MA for a Sipura-CA phone" \
	"$(cat "$T/body")" \
	"*<Upgrade_Rule>http://prov.spaprov.test:*/firmware/spa962-7.6.2.bin?\$MA</Upgrade_Rule>*"
phone mpp 0022bd010205 modern >"$T/body"
like "no target for the model: both empty" "$(cat "$T/body")" \
	"*<Upgrade_Rule></Upgrade_Rule>*CP-8841-3PCC 11.0 mpp mpp []*"

for i in 1 2; do
	phone sb 0022bd010203 legacy-rsa --user-agent "$(ua_of 0022bd010203)" \
		--path /firmware/spa504g-7.6.2.bin --out /dev/null >/dev/null
done
ctl firmware report --json >"$T/report.json"
pyq() {
	python3 -c "import json,sys; d=json.load(open('$T/report.json')); $1"
}
is "report: version histogram per model with its target" \
	"$(pyq "print(*[r['model']+' '+r['firmware']+' '+str(r['devices'])+' '+str(r['target']) for r in d['versions'] if r['model'] in ('SPA504G','SPA-962')], sep=';')")" \
	"SPA-962 6.1.5(a) 1 7.6.2;SPA504G 7.4.4 1 7.6.2"
is "report: devices behind target, with their downloads" \
	"$(pyq "print(*[r['mac']+' '+str(r['downloads']) for r in d['behind']], sep=';')")" \
	"0022bd010201 0;0022bd010203 3"
is "report: stuck = same firmware after 3 downloads" \
	"$(pyq "print(*[r['mac'] for r in d['stuck']], sep=';')")" "0022bd010203"
ctl firmware report --stuck-after 4 >"$T/report.txt"
like "--stuck-after 4: nobody stuck yet" "$(cat "$T/report.txt")" \
	*"Stuck: same firmware after 4 or more downloads"*"(none)"*

# --- device reports (Report_Rule) --------------------------------------------
REPORT='<flat-profile>
<User_ID_1_ ua="na">1</User_ID_1_>
<Password_1_ ua="na"></Password_1_>
<Station_Name ua="rw">Front desk</Station_Name>
<Upgrade_Rule>old-rule</Upgrade_Rule>
<Extra_Param>x</Extra_Param>
</flat-profile>'
phone sb 0022bd010203 legacy-rsa --user-agent "$(ua_of 0022bd010203)" \
	--method POST --post "$REPORT" --path '/report/$MA' >"$T/body"
like "report POSTed to /report/\$MA: 200" "$(cat "$T/phone.err")" "status=200 *"
is "recorded as report" "$(last "outcome, mac, method, detail")" \
	"report|0022bd010203|POST|5 parameters"
is "kept as the device's latest report" \
	"$(sql "select listener, body = '$REPORT' from device_reports where mac = '0022bd010203'")" \
	"sb|1"
ctl device report 0022bd010203 >"$T/shown" 2>"$T/ctl.err"
is "device report shows it as received" "$(cat "$T/shown")" "$REPORT"
ctl device report 0022bd010203 --diff >"$T/diff" 2>"$T/ctl.err"
like "--diff: what differs from the profile rendered now" "$(cat "$T/diff")" \
	*"Password_1_"*"********"*"Profile_Rule"*"(not reported)"*"Station_Name"*"s"*"Front desk"*"Upgrade_Rule"*"https://prov.spaprov.test"*"old-rule"*
if grep -q "User_ID_1_\|Extra_Param" "$T/diff"; then
	not_ok "equal and unserved parameters are not listed"
else
	ok "equal and unserved parameters are not listed"
fi
like "with a count" "$(cat "$T/ctl.err")" "4 of 5 parameters served differ*"
ctl device report 0022bd010203 --diff --reveal --json >"$T/diff.json" 2>/dev/null
is "--reveal --json" \
	"$(python3 -c "import json; print(*[r['parameter']+'='+str(r['reported']) for r in json.load(open('$T/diff.json'))], sep=';')")" \
	"Password_1_=;Profile_Rule=(not reported);Station_Name=Front desk;Upgrade_Rule=old-rule"
phone sb 0022bd010203 legacy-rsa --method POST --post 'not xml' \
	--path '/cfg?report' --expect-status 400 >/dev/null
is "?report with a body that is no flat-profile: 400 bad-report" \
	"$(last "status, outcome")" "400|bad-report"
is "and the stored report stays" \
	"$(sql "select count(*) from device_reports where body = '$REPORT'")" 1
is "reports on a plain listener: 403" \
	"$(get "$HTTP/report/$MAC" -d '<flat-profile/>' | cut -d' ' -f1)|$(last outcome)" \
	"403|no-certificate"
ctl device report 0022bd010201 >/dev/null 2>&1
is "no report yet: exit 2" "$?" 2

is "every request is in the ledger, trust only on url-mac rows" \
	"$(sql "select count(*) from resyncs where trust is not null and trust <> 'url-mac'")" 0
stop_daemon
is "spaprovd stops cleanly" "$?" 0
done_testing
