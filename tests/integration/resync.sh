#!/bin/bash
# The resync path end to end: the real daemon with one listener per CA, the
# lab PKI, the phone emulator with each firmware profile, and the ledger.
set -u
. "$top_srcdir/tests/integration/lib.sh"


make_pki || exit 1
write_conf
start_daemon || exit 1

"$SPAPROVCTL" -c "$CONF" profile set office - >/dev/null <<'EOF'
<flat-profile>
  <User_ID_1_>{{sip_user}}</User_ID_1_>
  <Password_1_>{{sip_password}}</Password_1_>
  <Station_Name>{{station}}</Station_Name>
  <Profile_Rule>https://prov.spaprov.test/spa$MA.xml</Profile_Rule>
  <!-- {{mac}} {{mac_upper}} {{serial}} {{model}} {{firmware}} {{ca}} {{listener}} -->
</flat-profile>
EOF
n=1001
for mac in 0022bd010201 0022bd010202 0022bd010203 0022bd010204 0022bd010205 \
	0022bd010206 0022bd010208; do
	"$SPAPROVCTL" -c "$CONF" device add "$mac" --profile office \
		--description "desk $n" --var sip_user=$n \
		--var "sip_password=pw-$n-secret" --var "station=A&B <$n>" \
		>/dev/null || echo "device add $mac failed" >&2
	n=$((n + 1))
done

requests=0
# resync LISTENER MAC PROFILE: a phone of that model, with its own UA
resync() {
	requests=$((requests + 1))
	phone "$1" "$2" "$3" --user-agent "$(ua_of "$2")" "${@:4}" >"$T/body"
}
row() { # row MAC COLUMNS: the newest row of that phone
	sql "select $2 from resyncs where mac = '$1' order by id desc limit 1"
}

# --- every firmware profile on the listener its CA needs ------------------
resync sipura 0022bd010201 legacy-dhe
is "SPA-962 (MD5-signed chain, X.509 v1 root) gets 200 on sipura" \
	"$(sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err")" 200
like "its own profile, \$MA left for the phone" "$(cat "$T/body")" \
	*"<User_ID_1_>1001</User_ID_1_>"*"<Password_1_>pw-1001-secret</Password_1_>"*"spa\$MA.xml"*
like "variables are XML-escaped" "$(cat "$T/body")" \
	*"<Station_Name>A&amp;B &lt;1001&gt;</Station_Name>"*
like "built-ins filled from certificate, User-Agent and listener" \
	"$(cat "$T/body")" \
	*"0022bd010201 0022BD010201 88019FA42805 SPA-962 6.1.5(a) sipura sipura"*
is "ledger row: TLS 1.0 DHE-RSA-AES256-SHA, model, firmware, outcome" \
	"$(row 0022bd010201 "tls_version, cipher, model, firmware, status, outcome, verify")" \
	"TLS1.0|TLS_DHE_RSA_WITH_AES_256_CBC_SHA|SPA-962|6.1.5(a)|200|ok|ok"
like "DH group stayed at 1024 bits" "$(cat "$T/phone.err")" "*dh_bits=1024*"

resync linksys 0022bd010202 rc4
like "SPA-2102 with RC4-SHA gets 200 on linksys" "$(cat "$T/phone.err")" "status=200 *"
is "ledger records RC4" "$(row 0022bd010202 "cipher, listener, ca, bytes > 0")" \
	"TLS_RSA_WITH_RC4_128_SHA|linksys|linksys|1"

resync sb 0022bd010203 legacy-rsa
like "SPA504G under an expired root, expired leaf: 200 on sb" \
	"$(cat "$T/phone.err")" "status=200 *"
is "AES256-SHA with RSA key exchange recorded" \
	"$(row 0022bd010203 "cipher, ua_mac, ua_mismatch")" \
	"TLS_RSA_WITH_AES_256_CBC_SHA|0022bd010203|0"

resync sb2k 0022bd010204 fw206
like "SPA525G2 (alternative subject, v1 intermediate) with the fw 2.0.6 suites: 200 on sb2k" \
	"$(cat "$T/phone.err")" "status=200 *"
like "its profile carries its serial from the CN layout" "$(cat "$T/body")" \
	*"0022bd010204 0022BD010204 CBT141900G7"*
is "ledger: model from the certificate" "$(row 0022bd010204 "model, firmware")" \
	"SPA-525G2|7.5.7"

resync mpp 0022bd010205 modern
like "CP-8841-3PCC with TLS 1.2 ECDHE: 200 on mpp" "$(cat "$T/phone.err")" \
	"status=200 tls=TLS1.2 *"
like "ledger: TLS 1.2 ECDHE" "$(row 0022bd010205 "tls_version || ' ' || cipher")" \
	"TLS1.2 TLS_ECDHE_*"

resync sb 0022bd010206 legacy-dhe
like "SPA-942 with its MAC in surname: 200" "$(cat "$T/phone.err")" "status=200 *"
is "identified by the surname MAC" "$(row 0022bd010206 "status, outcome")" "200|ok"

resync sb 0022bd010208 legacy-dhe --post 'mac=$MA&status=$PRVST'
like "POST (--post) is served too" "$(cat "$T/phone.err")" "status=200 *"
is "ledger records the method" "$(row 0022bd010208 method)" "POST"

# --- refusals -------------------------------------------------------------
requests=$((requests + 1))
"$PHONE" --host 127.0.0.1 --port "$(port_of sb)" --profile legacy-rsa \
	--path /spa0022bd010203.xml --expect-status 403 --timeout 10 \
	>/dev/null 2>"$T/phone.err"
like "no client certificate: 403" "$(cat "$T/phone.err")" "status=403 *"
is "recorded as no-certificate" \
	"$(sql "select status, outcome, verify, mac is null from resyncs order by id desc limit 1")" \
	"403|no-certificate|no-certificate|1"

requests=$((requests + 1))
"$PHONE" --host 127.0.0.1 --port "$(port_of sb2k)" --profile legacy-rsa \
	--cert "$PKI/impostor/phone.crt" --key "$PKI/impostor/phone.key" \
	--mac 0022bd0102ff --path '/spa$MA.xml' --expect-status 403 \
	--timeout 10 >/dev/null 2>"$T/phone.err"
like "impostor root with the Cisco DN: 403" "$(cat "$T/phone.err")" "status=403 *"
like "recorded as untrusted, no MAC believed" \
	"$(sql "select status, outcome, mac is null, verify from resyncs order by id desc limit 1")" \
	"403|untrusted-certificate|1|signe*"
like "the impostor's subject is kept for the operator" \
	"$(sql "select cert_subject from resyncs order by id desc limit 1")" "*0022bd0102ff*"

requests=$((requests + 1))
"$PHONE" --host 127.0.0.1 --port "$(port_of sb)" --profile legacy-rsa \
	--cert "$PKI/generic/generic.crt" --key "$PKI/generic/generic.key" \
	--path /spa0022bd010203.xml --expect-status 403 --timeout 10 \
	>/dev/null 2>"$T/phone.err"
like "generic ciscogeneric certificate: 403" "$(cat "$T/phone.err")" "status=403 *"
is "recorded as generic-certificate with a good chain" \
	"$(sql "select outcome, verify, mac is null from resyncs order by id desc limit 1")" \
	"generic-certificate|ok|1"

for path in /spa0022bd010205.xml /cfg/00:22:BD:01:02:05.xml \
	'/config?Linksys0022BD010205'; do
	resync sb 0022bd010203 legacy-rsa --path "$path" --expect-status 403
	like "foreign MAC in $path: 403" "$(cat "$T/phone.err")" "status=403 *"
	is "recorded as a spoof naming both MACs" \
		"$(row 0022bd010203 "outcome, detail")" \
		"spoof|path names 0022bd010205, certificate 0022bd010203"
done
resync sb 0022bd010203 legacy-rsa --path /Cisco/SPA0022BD010203.cfg
like "own MAC in upper case in the path: 200" "$(cat "$T/phone.err")" "status=200 *"
resync sb 0022bd010203 legacy-rsa --path /profile.xml
like "no MAC in the path: 200" "$(cat "$T/phone.err")" "status=200 *"

# --- unknown, pending, disabled -------------------------------------------
resync sb 0022bd010207 legacy-rsa --expect-status 404
like "unregistered phone: 404" "$(cat "$T/phone.err")" "status=404 *"
is "recorded as unknown-device" "$(row 0022bd010207 "status, outcome")" \
	"404|unknown-device"
is "added to the inventory as pending with model, serial, firmware" \
	"$(sql "select status, model, serial, firmware from devices where mac = '0022bd010207'")" \
	"pending|SPA112|CCQ17040001|1.3.3"
like "and the issuer of its certificate" \
	"$(sql "select cert_issuer from devices where mac = '0022bd010207'")" \
	"*Cisco Small Business Client Root Authority 1*"
resync sb 0022bd010207 legacy-rsa --expect-status 403
is "a pending device is refused until approved" "$(row 0022bd010207 "status, outcome")" \
	"403|pending-approval"

sql "update devices set status = 'disabled' where mac = '0022bd010206'"
resync sb 0022bd010206 legacy-rsa --expect-status 403
is "disabled device: 403" "$(row 0022bd010206 "status, outcome")" "403|disabled"

# --- profile problems -----------------------------------------------------
"$SPAPROVCTL" -c "$CONF" profile set needs-vlan - >/dev/null <<'EOF'
<flat-profile><Password_1_>{{sip_password}}</Password_1_><VLAN_ID>{{vlan}}</VLAN_ID></flat-profile>
EOF
sql "update devices set profile = 'needs-vlan' where mac = '0022bd010208'"
resync sb 0022bd010208 legacy-rsa --expect-status 500
like "template naming a missing variable: 500" "$(cat "$T/phone.err")" "status=500 *"
if grep -q 'pw-1007-secret' "$T/body"; then
	not_ok "no secret in the 500 body"
else
	ok "no secret in the 500 body"
fi
is "recorded as render-error naming the variable" "$(row 0022bd010208 "outcome, detail")" \
	"render-error|profile 'needs-vlan': line 1: missing variable 'vlan'"

sql "update devices set profile = 'no-such-profile' where mac = '0022bd010208'"
resync sb 0022bd010208 legacy-rsa --expect-status 404
is "profile that does not exist: 404 no-profile" "$(row 0022bd010208 "status, outcome")" \
	"404|no-profile"

# --- User-Agent cross-check -----------------------------------------------
resync sb 0022bd010203 legacy-rsa \
	--user-agent 'Cisco/SPA504G-7.4.4 (0022BD0102AA)(CBT141100HR)'
like "User-Agent naming another MAC still gets 200" "$(cat "$T/phone.err")" "status=200 *"
is "but is recorded as a mismatch" "$(row 0022bd010203 "ua_mac, ua_mismatch")" \
	"0022bd0102aa|1"
resync sb 0022bd010203 legacy-rsa --user-agent '<script>alert(1)</script>'
like "garbage User-Agent: 200 (the certificate decides)" "$(cat "$T/phone.err")" "status=200 *"
like "unknown firmware renders as empty" "$(cat "$T/body")" *"0022bd010203 0022BD010203 CBT141100HR SPA504G  sb sb"*
is "stored verbatim, no firmware parsed" \
	"$(row 0022bd010203 "user_agent, firmware is null")" "<script>alert(1)</script>|1"

# --- the ledger as operators read it --------------------------------------
is "every request is in the ledger" "$(sql "select count(*) from resyncs")" "$requests"
is "resync_history: description joined, readable time" \
	"$(sql "select description, status, time like '____-__-__ __:__:__.___' from resync_history where mac = '0022bd010201'")" \
	"desk 1001|200|1"
is "resync_history: resumption, trust and User-Agent MAC at the end" \
	"$(sql "select tls_resumed, coalesce(trust, 'certificate'), ua_mismatch from resync_history where mac = '0022bd010201' order by id desc limit 1")" \
	"0|certificate|0"
like "timestamps are UTC ISO-8601 with milliseconds" \
	"$(sql "select ts from resyncs order by id desc limit 1")" \
	"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z"
is "devices.last_seen and firmware follow the resyncs" \
	"$(sql "select firmware, last_seen is not null from devices where mac = '0022bd010205'")" \
	"11.0|1"
"$SPAPROVCTL" -c "$CONF" history 0022bd010201 >"$T/history" 2>&1
like "spaprovctl history shows the phone's resync" "$(cat "$T/history")" \
	*"0022bd010201"*"desk 1001"*"sipura"*"200"*"ok"*"SPA-962"*
"$SPAPROVCTL" -c "$CONF" history 0022bd0100ff >/dev/null 2>&1
is "history of a phone never seen: exit 2" "$?" 2
is "no handshake failures from all of this" \
	"$(sql "select count(*) from handshake_failures")" 0

# --- the legacy DH trap on every legacy listener --------------------------
for lst in sipura linksys sb; do
	resync "$lst" 0022bd010203 legacy-dhe
	like "legacy-dhe on $lst: 1024-bit DH" "$(cat "$T/phone.err")" \
		"status=200 *dh_bits=1024*"
done

# --- stop, then the time check --------------------------------------------
stop_daemon
is "SIGTERM: spaprovd exits 0" "$DAEMON_STATUS" 0
write_conf
sed -i 's/^client_cert_time_check = no/client_cert_time_check = yes/' "$CONF"
start_daemon || exit 1
resync sb 0022bd010203 legacy-rsa --expect-status 403
is "client_cert_time_check = yes: the expired phone is refused" \
	"$(sql "select status, outcome, verify from resyncs order by id desc limit 1")" \
	"403|untrusted-certificate|expired"
resync mpp 0022bd010205 modern
like "a phone with valid dates still gets 200" "$(cat "$T/phone.err")" "status=200 *"
is "rows survive the restart" "$(sql "select count(*) from resyncs")" "$requests"
stop_daemon
is "second SIGTERM: exit 0" "$DAEMON_STATUS" 0

done_testing
