#!/bin/bash
# The web admin: the real daemon with an [admin] listener on loopback,
# accounts made with spaprovctl, the API with a token, then Debian's
# Chromium driven by playwright-core (tests/web-admin/e2e.mjs): log in,
# register a phone, resync it with the phone emulator, see it on the
# device page, in the history and on the dashboard chart; a <script>
# User-Agent stays text; forged POSTs are refused; wrong passwords are
# throttled; the fleet panels: a phone on a listener its firmware does
# not trust, a firmware target, a pin mismatch, and Re-pin on the device
# page.  Screenshots go to tests/artifacts/web-admin/.
#
# Skips (exit 0) only when node or /usr/bin/chromium is missing.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1 || [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP needs node and $CHROMIUM (contrib/install-deps.sh)"
	exit 0
fi

ADMIN_PASS='correct horse battery staple'
VICTIM_PASS='victim password 1234'
PHONE_MAC=0022bd010205
ARTIFACTS="$top_builddir/tests/artifacts/web-admin"

make_pki || exit 1
write_conf
cat >>"$CONF" <<EOF

[admin]
address = 127.0.0.1
port = 0
assets = $top_srcdir/web-admin/static
session_timeout = 1h
EOF

# --- configuration checks ----------------------------------------------------
sed 's/^address = 127.0.0.1$/address = 0.0.0.0/' "$CONF" >"$T/open.conf"
"$SPAPROVD" -t -c "$T/open.conf" >"$T/open.out" 2>&1
is "plain HTTP on a public address: refused" "$?" 1
like "... naming the [admin] address line" "$(cat "$T/open.out")" \
	"*open.conf:*: address: plain HTTP only on a loopback address*"

start_daemon || exit 1
ADMIN_PORT=$(port_of admin)
like "the ports file lists the admin listener" "$ADMIN_PORT" "[1-9]*"
BASE="http://127.0.0.1:$ADMIN_PORT"

# --- accounts ----------------------------------------------------------------
printf '%s\n' "$ADMIN_PASS" | "$SPAPROVCTL" -c "$CONF" admin add operator \
	>"$T/add.out" 2>&1
is "admin add" "$?" 0
printf '%s\n' "$VICTIM_PASS" | "$SPAPROVCTL" -c "$CONF" admin add victim \
	>/dev/null 2>&1
printf 'short\n' | "$SPAPROVCTL" -c "$CONF" admin add shorty >"$T/short.out" 2>&1
is "a password under 10 characters is refused (exit 3)" "$?" 3
printf '%s\n' "$ADMIN_PASS" | "$SPAPROVCTL" -c "$CONF" admin add operator \
	>/dev/null 2>&1
is "the same name twice is refused" "$?" 3
printf '%s\n' "$ADMIN_PASS" | "$SPAPROVCTL" -c "$CONF" admin add 'bad name' \
	>/dev/null 2>&1
is "an invalid name is refused" "$?" 3
like "passwords are stored as yescrypt hashes" \
	"$(sql "select password_hash from admin_accounts where name = 'operator'")" \
	'$y$*'
TOKEN=$("$SPAPROVCTL" -c "$CONF" admin token operator 2>/dev/null)
like "admin token prints a token" "$TOKEN" "spa_????????????????????????????????????????????????????????????????"
is "only its SHA-256 is stored" \
	"$(sql "select count(*) from admin_tokens where hash = '$(printf '%s' "$TOKEN" | sha256sum | cut -c1-64)'")" 1
is "admin list" "$("$SPAPROVCTL" -c "$CONF" admin list --json |
	python3 -c 'import json,sys; print(",".join(a["name"] + ":" + str(a["tokens"]) for a in json.load(sys.stdin)))')" \
	"operator:1,victim:0"

# --- the API with a token ------------------------------------------------------
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
is "no credentials: 401" "$(code "$BASE/api/v1/devices")" 401
is "a wrong token: 401" "$(code -H 'Authorization: Bearer spa_0000000000000000000000000000000000000000000000000000000000000000' "$BASE/api/v1/devices")" 401
is "the token reads the inventory" "$(code -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/devices")" 200
is "the token stores a profile (no CSRF token needed)" \
	"$(code -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary '{"body":"<flat-profile>\n  <Station_Name>{{station_name}}</Station_Name>\n  <Password_1_>{{sip_password}}</Password_1_>\n  <Profile_Rule>https://prov.spaprov.test:8444/spa$MA.xml</Profile_Rule>\n</flat-profile>\n"}' \
		"$BASE/api/v1/profiles/desk")" 200
is "a template error is refused with 422" \
	"$(code -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d '{"body":"<a>{{broken</a>"}' "$BASE/api/v1/profiles/broken")" 422
is "a form-encoded body is refused (415)" \
	"$(code -X PUT -H "Authorization: Bearer $TOKEN" -d 'body=x' "$BASE/api/v1/profiles/x")" 415
is "path traversal in the front end: 404" \
	"$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$BASE/../spaprov.conf")" 404
is "a dot file: 404" "$(code "$BASE/.htaccess")" 404
# an unknown phone is recorded as pending; the API approves it
PENDING=0022bd010203
phone sb $PENDING legacy-rsa --user-agent "$(ua_of $PENDING)" \
	--expect-status 404 >/dev/null
is "an unknown phone is recorded as pending" \
	"$(sql "select status from devices where mac = '$PENDING'")" pending
is "the token approves it" "$(code -X POST -H "Authorization: Bearer $TOKEN" \
	"$BASE/api/v1/devices/00:22:BD:01:02:03/approve")" 200
is "... now enabled, audited" \
	"$(sql "select d.status || ' ' || a.account from devices d, audit a where d.mac = '$PENDING' and a.target = d.mac and a.action = 'device-approve'")" \
	"enabled operator"
is "the token disables it" "$(code -X POST -H "Authorization: Bearer $TOKEN" \
	"$BASE/api/v1/devices/$PENDING/disable")" 200
is "a disabled phone cannot be approved (409)" "$(code -X POST \
	-H "Authorization: Bearer $TOKEN" "$BASE/api/v1/devices/$PENDING/approve")" 409
is "a MAC that is not one: 400" "$(code -H "Authorization: Bearer $TOKEN" \
	"$BASE/api/v1/devices/not-a-mac")" 400
headers=$(curl -s -D - -o /dev/null "$BASE/api/v1/session")
like "API answers carry the CSP" "$headers" "*Content-Security-Policy: default-src 'self'*frame-ancestors 'none'*"
like "... and no-store" "$headers" "*Cache-Control: no-store*"

# --- the browser -----------------------------------------------------------------
E2E="$T/e2e"
mkdir -p "$E2E" "$ARTIFACTS"
cp "$top_srcdir/tests/web-admin/e2e.mjs" "$top_srcdir/tests/web-admin/package.json" \
	"$top_srcdir/tests/web-admin/package-lock.json" "$E2E/"
for d in "$top_srcdir/tests/web-admin/node_modules" \
	"$top_builddir/tests/web-admin/node_modules"; do
	if [ -f "$d/playwright-core/package.json" ]; then
		ln -s "$d" "$E2E/node_modules"
		break
	fi
done
if [ ! -e "$E2E/node_modules" ] &&
	! (cd "$E2E" && npm ci --no-audit --no-fund --prefer-offline) >"$T/npm.log" 2>&1; then
	not_ok "playwright-core installed (npm ci --prefix tests/web-admin)"
	diag "$(tail -n 20 "$T/npm.log")"
	done_testing
	exit
fi

cat >"$T/resync" <<EOF
#!/bin/sh
# one resync of the lab phone $PHONE_MAC on the mpp listener, User-Agent \$1
exec "$PHONE" --host 127.0.0.1 --port $(port_of mpp) --profile modern \\
	--cert "$PKI/phones/$PHONE_MAC.crt" --key "$PKI/phones/$PHONE_MAC.key" \\
	--ca "$PKI/provisioning/mpp-root.crt" --server-name prov.spaprov.test \\
	--mac $PHONE_MAC --path '/spa\$MA.xml' --timeout 10 --user-agent "\$1" \\
	2>>"$T/resync.err"
EOF
chmod +x "$T/resync"

# --- the fleet panels ----------------------------------------------------------
# An SPA508G on firmware 7.5.5 trusts the sb CA; the e2e test resyncs it on
# sb2k (FLEET_RESYNC), so the dashboard lists it as on the wrong listener.
FLEET_MAC=0022bd010208
"$SPAPROVCTL" -c "$CONF" profile set fleet - >/dev/null <<'EOF'
<flat-profile>
  <Station_Name>{{mac}}</Station_Name>
  <Profile_Rule>{{profile_rule}}</Profile_Rule>
</flat-profile>
EOF
"$SPAPROVCTL" -c "$CONF" device add $FLEET_MAC --profile fleet \
	--description 'Fleet <b>test</b>' >/dev/null
is "fleet: the SPA508G is registered" "$?" 0
"$SPAPROVCTL" -c "$CONF" firmware target SPA508G 7.5.6 spa508g-7-5-6.bin \
	>/dev/null 2>"$T/target.err"
is "fleet: firmware target SPA508G 7.5.6 set" "$?" 0
# a refused certificate as spaprovd records it under pin_policy = refuse
sql "insert into resyncs (ts, listener, ca, remote_addr, mac, cert_serial,
	cert_issuer, verify, method, path, status, bytes, duration_ms, outcome,
	detail) values (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'sb2k', 'sb2k',
	'127.0.0.1', '$FLEET_MAC', '0badc0de', 'CN=<i>Other</i> Root', 'ok',
	'GET', '/spa$FLEET_MAC.xml', 403, 0, 1.0, 'pin-mismatch',
	'certificate changed: pinned 11, presented 22')"
cat >"$T/fleet-resync" <<EOF
#!/bin/sh
# one resync of the SPA508G $FLEET_MAC on the sb2k listener
exec "$PHONE" --host 127.0.0.1 --port $(port_of sb2k) --profile legacy-rsa \\
	--cert "$PKI/phones/$FLEET_MAC.crt" --key "$PKI/phones/$FLEET_MAC.key" \\
	--ca "$PKI/provisioning/sb2k-root.crt" --server-name prov.spaprov.test \\
	--mac $FLEET_MAC --path '/spa\$MA.xml' --timeout 10 \\
	--user-agent '$(ua_of $FLEET_MAC)' 2>>"$T/resync.err"
EOF
chmod +x "$T/fleet-resync"
FLEET_FP=$(openssl x509 -in "$PKI/phones/$FLEET_MAC.crt" -noout -fingerprint \
	-sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
FLEET_RULE="https://prov.spaprov.test:$(port_of sb)/spa\$MA.xml"

BASE_URL=$BASE ADMIN_USER=operator ADMIN_PASS=$ADMIN_PASS VICTIM_USER=victim \
PHONE_MAC=$PHONE_MAC RESYNC="$T/resync" PROFILE=desk ARTIFACTS=$ARTIFACTS \
FLEET_MAC=$FLEET_MAC FLEET_RESYNC="$T/fleet-resync" FLEET_FP=$FLEET_FP \
FLEET_RULE=$FLEET_RULE \
CHROMIUM=$CHROMIUM timeout 300 node "$E2E/e2e.mjs" >"$T/e2e.out" 2>"$T/e2e.err"
e2e_status=$?
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$T/e2e.out"
is "the browser test ran to its end" "$e2e_status" 0
if [ "$e2e_status" -ne 0 ]; then
	diag "$(tail -n 20 "$T/e2e.err")" "$(tail -n 5 "$T/resync.err" 2>/dev/null)"
fi

# --- what the browser did, seen from the database ----------------------------
is "the phone registered in the browser resynced: two ok rows" \
	"$(sql "select count(*) from resyncs where mac = '$PHONE_MAC' and outcome = 'ok'")" 2
is "the <script> User-Agent is stored as sent" \
	"$(sql "select count(*) from resyncs where user_agent = '<script>alert(1)</script>'")" 1
is "audit: device added by operator" \
	"$(sql "select account from audit where action = 'device-add' and target = '$PHONE_MAC'")" operator
like "audit: failed logins of victim recorded" \
	"$(sql "select count(*) from audit where action = 'login-failure' and target = 'victim'")" "[5-9]"
is "audit: profile edited in the browser" \
	"$(sql "select count(*) from audit where action = 'profile-edit' and target = 'desk' and account = 'operator'")" 2
is "fleet: the SPA508G resynced on sb2k and was pinned, then re-pinned" \
	"$(sql "select count(*) from resyncs where mac = '$FLEET_MAC' and listener = 'sb2k' and outcome = 'ok'")|$(sql "select count(*) from device_pins where mac = '$FLEET_MAC'")" \
	"1|0"
is "audit: the re-pin, by operator, naming the old pin" \
	"$(sql "select account || ' ' || detail from audit where action = 'device-repin' and target = '$FLEET_MAC'")" \
	"operator pin $FLEET_FP removed"
auth="Authorization: Bearer $TOKEN"
is "the fleet endpoints need a login" \
	"$(code "$BASE/api/v1/fleet/misplaced")|$(code "$BASE/api/v1/fleet/firmware")|$(code "$BASE/api/v1/fleet/pins")|$(code -X POST -H 'X-CSRF-Token: x' "$BASE/api/v1/devices/$FLEET_MAC/repin")" \
	"401|401|401|401"
code -H "$auth" "$BASE/api/v1/fleet/misplaced" >/dev/null
is "API: the misplaced phone, its recommended listener and Profile_Rule" \
	"$(python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    print(d["mac"], d["ca"], d["recommended_ca"], d["recommended_listener"], d["profile_rule"])' "$T/body")" \
	"$FLEET_MAC sb2k sb sb $FLEET_RULE"
code -H "$auth" "$BASE/api/v1/fleet/firmware?stuck_after=1" >/dev/null
is "API: firmware per model with the target and the phone behind it" \
	"$(python3 -c 'import json, sys
for m in json.load(open(sys.argv[1]))["models"]:
    if m["model"].upper() == "SPA508G":
        print(m["target"], m["devices"], m["behind"], m["stuck"],
              ",".join("%s:%d" % (v["firmware"], v["devices"]) for v in m["versions"]))' "$T/body")" \
	"7.5.6 1 1 0 7.5.5:1"
code -H "$auth" "$BASE/api/v1/fleet/pins?range=7d" >/dev/null
is "API: recent pin mismatches" \
	"$(python3 -c 'import json, sys
for m in json.load(open(sys.argv[1]))["mismatches"]:
    print(m["mac"], m["outcome"], m["status"])' "$T/body")" \
	"$FLEET_MAC pin-mismatch 403"
is "API: re-pin of a device that is not there: 404" \
	"$(code -X POST -H "$auth" "$BASE/api/v1/devices/000e08000077/repin")" 404
n=$(ls "$ARTIFACTS"/*.png 2>/dev/null | wc -l)
like "screenshots saved in tests/artifacts/web-admin" "$n" "2[0-9]"

stop_daemon
is "spaprovd stops cleanly" "$DAEMON_STATUS" 0

# --- HTTPS -------------------------------------------------------------------
# A second daemon with the admin listener on HTTPS: the session cookie is
# then Secure with the __Host- prefix, and a key that does not go with the
# certificate is refused before anything is served.
sed -e "s|^session_timeout = 1h$|certificate = $PKI/server/mpp.crt\\
key = $PKI/server/sb.key|" "$CONF" >"$T/badkey.conf"
"$SPAPROVD" -t -c "$T/badkey.conf" >"$T/badkey.out" 2>&1
is "admin key of another certificate: refused" "$?" 1
like "... FILE:LINE: key: reason" "$(cat "$T/badkey.out")" \
	"*badkey.conf:*: key: does not go with the certificate*"
sed -e "s|^session_timeout = 1h$|certificate = $PKI/server/mpp.crt\\
key = $PKI/server/mpp.key|" "$CONF" >"$T/https.conf"
"$SPAPROVD" -c "$T/https.conf" --ports-file "$T/ports.https" \
	>>"$T/https.log" 2>&1 &
https_pid=$!
for i in $(seq 100); do [ -s "$T/ports.https" ] && break; sleep 0.1; done
HPORT=$(awk '$1 == "admin" { print $2 }' "$T/ports.https")
hdrs=$(curl -s -k -D - -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "{\"name\":\"operator\",\"password\":\"$ADMIN_PASS\"}" \
	"https://127.0.0.1:$HPORT/api/v1/session")
like "HTTPS login sets a Secure __Host- cookie" "$hdrs" \
	"*Set-Cookie: __Host-spaprov_session=*; Path=/; *HttpOnly; SameSite=Strict; Secure*"
like "... with HSTS" "$hdrs" "*Strict-Transport-Security: max-age=*"
is "plain HTTP to the HTTPS admin port gets no answer" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HPORT/")" 000
kill -TERM "$https_pid"
wait "$https_pid"
is "the HTTPS daemon stops cleanly" "$?" 0
done_testing
