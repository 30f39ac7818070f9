#!/bin/bash
# spaprovctl profile get/list/rm/render, history filters and stats, against
# rows written by real resyncs through the daemon (200, 403 spoof, 404
# unknown, untrusted certificate, failed handshake) and rows inserted with
# old timestamps.
set -u
. "$top_srcdir/tests/integration/lib.sh"

CTL() { "$SPAPROVCTL" -c "$CONF" "$@"; }
# json FILE PYTHON-EXPRESSION: evaluate with d = the parsed file
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
status_of() { sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err"; }

make_pki || exit 1
write_conf
start_daemon || exit 1

cat >"$T/office.xml" <<'EOF'
<flat-profile>
  <User_ID_1_>{{sip_user}}</User_ID_1_>
  <Password_1_>{{ sip_password }}</Password_1_>
  <Station_Name>{{station}}</Station_Name>
  <Profile_Rule>https://prov.spaprov.test/spa$MA.xml</Profile_Rule>
  <!-- {{mac}} {{mac_upper}} {{serial}} {{model}} {{firmware}} {{ca}} {{listener}} -->
</flat-profile>
EOF
CTL profile set office "$T/office.xml" >/dev/null
printf '<x>{{sip_user}}</x><v>{{vlan}}</v>\n' >"$T/vlan.xml"
CTL profile set needs-vlan "$T/vlan.xml" >/dev/null
printf 'nothing to fill\n' | CTL profile set plain - >/dev/null

add() { # add MAC PROFILE-OR-"" N
	CTL device add "$1" ${2:+--profile "$2"} --description "desk $3" \
		--var sip_user=$3 --var "sip_password=pw-$3" \
		--var "station=A&B <$3>" >/dev/null ||
		echo "device add $1 failed" >&2
}
add 0022bd010203 office 1003
add 0022bd010205 office 1005
add 0022bd010206 needs-vlan 1006
add 0022bd010208 "" 1008

requests=0
resync() { # resync LISTENER MAC PROFILE [phone-emu options]: body in $T/body
	requests=$((requests + 1))
	phone "$1" "$2" "$3" --user-agent "$(ua_of "$2")" "${@:4}" >"$T/body"
}

# --- profile render: byte for byte what the daemon served ----------------
resync sb 0022bd010203 legacy-rsa
is "SPA504G resyncs on sb" "$(status_of)" 200
cp "$T/body" "$T/served-sb"
CTL profile render 0022bd010203 >"$T/render" 2>"$T/render.err"
is "render exits 0" "$?" 0
check "render = the body served on sb, byte for byte" cmp "$T/served-sb" "$T/render"
like "and it is the filled profile" "$(cat "$T/render")" \
	*"<Password_1_>pw-1003</Password_1_>"*"A&amp;B &lt;1003&gt;"*" sb sb -->"*

resync linksys 0022bd010203 legacy-rsa
is "the same phone resyncs on linksys" "$(status_of)" 200
CTL profile render 00:22:BD:01:02:03 >"$T/render"
check "render follows the last listener (linksys)" cmp "$T/body" "$T/render"
CTL profile render 0022bd010203 --listener sb >"$T/render"
check "--listener sb renders what sb served" cmp "$T/served-sb" "$T/render"

resync mpp 0022bd010205 modern
is "CP-8841 resyncs on mpp" "$(status_of)" 200
CTL profile render 0022bd010205 >"$T/render"
check "render = the body served on mpp (TLS 1.2 phone)" cmp "$T/body" "$T/render"
CTL profile render 0022bd010205 --profile plain >"$T/render"
check "--profile renders another template" cmp "$T/render" - <<'EOF'
nothing to fill
EOF

resync sb 0022bd010206 legacy-dhe --expect-status 500
is "a missing variable: 500 from the daemon" "$(status_of)" 500
detail=$(sql "select detail from resyncs where mac = '0022bd010206' order by id desc limit 1")
CTL profile render 0022bd010206 >"$T/render" 2>"$T/render.err"
is "render of a missing variable: exit 3" "$?" 3
is "with the daemon's error, word for word" "$(cat "$T/render.err")" \
	"spaprovctl: $detail"
is "(which names the variable)" "$detail" \
	"profile 'needs-vlan': line 1: missing variable 'vlan'"
is "and nothing on stdout" "$(wc -c <"$T/render")" 0

CTL profile render 0022bd010208 >/dev/null 2>&1
is "device without a profile: exit 2" "$?" 2
CTL profile render 0022bd010203 --profile no-such >/dev/null 2>&1
is "--profile that does not exist: exit 2" "$?" 2
CTL profile render 0022bd0100ff >/dev/null 2>&1
is "device that does not exist: exit 2" "$?" 2
CTL profile render 0022bd010208 --profile office >/dev/null 2>"$T/render.err"
is "never connected, template uses {{ca}}: exit 3" "$?" 3
like "asking for --listener" "$(cat "$T/render.err")" *"--listener"*
CTL profile render 0022bd010208 --profile office --listener mpp >"$T/render"
like "with --listener: its CA and name" "$(cat "$T/render")" *" mpp mpp -->"*
CTL profile render 0022bd010203 --listener nope >/dev/null 2>&1
is "--listener not in the configuration: exit 2" "$?" 2
CTL profile render not-a-mac >/dev/null 2>&1
is "invalid MAC: exit 3" "$?" 3

# --- profile get / list / rm ------------------------------------------------
CTL profile get office >"$T/get"
check "get prints the template exactly" cmp "$T/office.xml" "$T/get"
CTL profile get no-such >/dev/null 2>&1
is "get of a missing profile: exit 2" "$?" 2
CTL profile list --json >"$T/list.json"
is "list --json: one object per profile, by name" \
	"$(json "$T/list.json" '[p["name"] for p in d]')" \
	"['needs-vlan', 'office', 'plain']"
is "office: bytes, variables in order of use, devices" \
	"$(json "$T/list.json" '[(p["bytes"], p["variables"], p["devices"]) for p in d if p["name"] == "office"][0]')" \
	"($(wc -c <"$T/office.xml"), 'sip_user,sip_password,station,mac,mac_upper,serial,model,firmware,ca,listener', 2)"
like "updated is a ledger time" "$(json "$T/list.json" 'd[0]["updated"]')" \
	"20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z"
CTL profile list >"$T/list"
like "list as a table" "$(cat "$T/list")" \
	"name*bytes*variables*devices*updated*office*plain*"

CTL profile rm office >/dev/null 2>"$T/rm.err"
is "rm of a profile in use: exit 3" "$?" 3
like "saying how many devices use it" "$(cat "$T/rm.err")" *"2 devices"*
CTL profile get office >/dev/null
is "and it is still there" "$?" 0
CTL profile rm plain >/dev/null
is "rm of an unused profile: exit 0" "$?" 0
CTL profile rm needs-vlan --force >/dev/null 2>&1
is "rm --force of a profile in use: exit 0" "$?" 0
CTL profile get needs-vlan >/dev/null 2>&1
is "it is gone" "$?" 2
is "the device keeps the name" \
	"$(sql "select profile from devices where mac = '0022bd010206'")" needs-vlan
CTL profile rm no-such >/dev/null 2>&1
is "rm of a missing profile: exit 2" "$?" 2

# --- more traffic: spoof, unknown phone, impostor, failed handshake ---------
resync sb 0022bd010203 legacy-rsa --path /spa0022bd010205.xml --expect-status 403
is "spoof: 403" "$(status_of)" 403
resync sb 0022bd010207 legacy-rsa --expect-status 404
is "unknown phone: 404" "$(status_of)" 404
requests=$((requests + 1))
"$PHONE" --host 127.0.0.1 --port "$(port_of sb2k)" --profile legacy-rsa \
	--cert "$PKI/impostor/phone.crt" --key "$PKI/impostor/phone.key" \
	--mac 0022bd0102ff --expect-status 403 --timeout 10 \
	>/dev/null 2>"$T/phone.err"
is "impostor certificate: 403" "$(status_of)" 403
"$PHONE" --host 127.0.0.1 --port "$(port_of mpp)" --profile rc4 \
	--cert "$PKI/phones/0022bd010202.crt" \
	--key "$PKI/phones/0022bd010202.key" --timeout 10 \
	>/dev/null 2>"$T/phone.err"
is "RC4 on the TLS 1.2-only listener: handshake fails" "$?" 3
i=0
while [ "$(sql "select count(*) from handshake_failures")" = 0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "all requests are in the ledger" "$(sql "select count(*) from resyncs")" "$requests"
is "the handshake failure is recorded" \
	"$(sql "select count(*) from handshake_failures where listener = 'mpp'")" 1
hs_error=$(sql "select error from handshake_failures limit 1")

# rows from long ago (for --since / --until)
sql "insert into resyncs (ts, listener, ca, remote_addr, mac, verify, method,
	path, status, bytes, duration_ms, outcome, tls_version, cipher)
	values ('2025-06-01T10:00:00.000Z', 'sb', 'sb', '192.0.2.1',
	'0022bd010203', 'ok', 'GET', '/old.xml', 200, 10, 1.0, 'ok',
	'TLS1.0', 'TLS_RSA_WITH_RC4_128_SHA'),
	('2025-06-01T11:00:00.000Z', 'sb', 'sb', '192.0.2.2', '0022bd010203',
	'ok', 'GET', '/spa0022bd010299.xml', 403, 0, 1.0, 'spoof', 'TLS1.0',
	'TLS_RSA_WITH_RC4_128_SHA'),
	('2025-06-02T09:00:00.000Z', 'sb2k', 'sb2k', '192.0.2.3', NULL,
	'signer-not-found', 'GET', '/x.xml', 403, 0, 1.0,
	'untrusted-certificate', 'TLS1.0', 'TLS_RSA_WITH_AES_256_CBC_SHA')"
sql "update resyncs set cert_issuer = 'CN=Old Impostor' where path = '/x.xml'"
sql "insert into handshake_failures (ts, listener, ca, remote_addr, error)
	values ('2025-06-01T08:00:00.000Z', 'sipura', 'sipura', '192.0.2.9',
	'old failure')"

# --- history -------------------------------------------------------------------
CTL history --json --limit 1000 >"$T/h.json"
is "history --json: every request, newest first" \
	"$(json "$T/h.json" 'len(d) == '$((requests + 3))' and [r["ts"] for r in d] == sorted([r["ts"] for r in d], reverse=True)')" \
	True
is "typed fields" \
	"$(json "$T/h.json" '[(type(d[0]["id"]).__name__, type(d[0]["status"]).__name__, type(d[0]["ts"]).__name__)][0]')" \
	"('int', 'int', 'str')"
CTL history 0022bd010203 --status 403 --json >"$T/h.json"
is "--status 403 for one phone: the spoofs (today's and the old one)" \
	"$(json "$T/h.json" '[(r["outcome"], r["path"]) for r in d]')" \
	"[('spoof', '/spa0022bd010205.xml'), ('spoof', '/spa0022bd010299.xml')]"
CTL history --outcome unknown-device --json >"$T/h.json"
is "--outcome unknown-device: the 404" \
	"$(json "$T/h.json" '[(r["mac"], r["status"], r["listener"]) for r in d]')" \
	"[('0022bd010207', 404, 'sb')]"
CTL history --listener linksys --json >"$T/h.json"
is "--listener linksys" "$(json "$T/h.json" '[(r["mac"], r["status"]) for r in d]')" \
	"[('0022bd010203', 200)]"
CTL history 0022bd010203 --since 30d --json >"$T/h.json"
is "--since 30d: today's requests only" \
	"$(json "$T/h.json" '[r["listener"] + "/" + str(r["status"]) for r in d]')" \
	"['sb/403', 'linksys/200', 'sb/200']"
CTL history 0022bd010203 --until 2026-01-01 --json >"$T/h.json"
is "--until: the old rows" "$(json "$T/h.json" '[r["path"] for r in d]')" \
	"['/spa0022bd010299.xml', '/old.xml']"
CTL history --since 2025-06-01T10:30 --until 2025-06-02 --json >"$T/h.json"
is "--since/--until with a time of day" "$(json "$T/h.json" '[r["path"] for r in d]')" \
	"['/spa0022bd010299.xml']"
CTL history --limit 2 --json >"$T/h.json"
is "--limit 2: the two newest" "$(json "$T/h.json" '[r["outcome"] for r in d]')" \
	"['untrusted-certificate', 'unknown-device']"
CTL history 0022bd010203 --status 200 --listener sb --since 1d --json >"$T/h.json"
is "filters combine" "$(json "$T/h.json" 'len(d)')" 1
CTL history 0022bd010203 >"$T/h.txt"
like "table: header and rows" "$(cat "$T/h.txt")" \
	"id*ts*mac*description*listener*status*outcome*0022bd010203*desk 1003*sb*403*spoof*"
CTL history 0022bd010203 --status 500 >"$T/h.txt"
is "a known phone with no matching rows: exit 0" "$?" 0
is "and no output" "$(cat "$T/h.txt")" ""
CTL history 0022bd0100ff >/dev/null 2>&1
is "a phone never seen: exit 2" "$?" 2
CTL history --outcome bogus >/dev/null 2>&1
is "unknown --outcome: exit 3" "$?" 3
CTL history --since yesterday >/dev/null 2>"$T/h.err"
is "bad --since: exit 3" "$?" 3
like "saying what is expected" "$(cat "$T/h.err")" *"2026-11-23"*"7d"*
CTL history --status 2000 >/dev/null 2>&1
is "bad --status: exit 3" "$?" 3

# --- stats -----------------------------------------------------------------------
CTL stats --json >"$T/s.json"
is "stats --json: one object, one array per section" \
	"$(json "$T/s.json" 'sorted(d.keys())')" \
	"['failures', 'firmware', 'handshake_failures', 'tls', 'untrusted_issuers']"
is "firmware census from the devices (the pending SPA112 too)" \
	"$(json "$T/s.json" '[(r["model"], r["firmware"], r["devices"]) for r in d["firmware"]]')" \
	"[('CP-8841-3PCC', '11.0', 1), ('SPA-942', '6.1.5(a)', 1), ('SPA112', '1.3.3', 1), ('SPA504G', '7.4.4', 1), (None, None, 1)]"
sql "update devices set firmware = '7.4.4' where mac = '0022bd010206'"
sql "update devices set model = 'SPA504G' where mac = '0022bd010206'"
CTL stats --json >"$T/s.json"
is "devices on the same model and firmware are counted together" \
	"$(json "$T/s.json" '[r["devices"] for r in d["firmware"] if r["model"] == "SPA504G"]')" \
	"[2]"
is "TLS mix on sb: two ciphers, today's and the old rows" \
	"$(json "$T/s.json" '[(r["tls_version"], r["cipher"], r["resyncs"], r["devices"]) for r in d["tls"] if r["listener"] == "sb"]')" \
	"$(sql "select '[' || group_concat(x, ', ') || ']' from (select '(''' || tls_version || ''', ''' || cipher || ''', ' || count(*) || ', ' || count(distinct mac) || ')' as x from resyncs where listener = 'sb' group by tls_version, cipher order by count(*) desc, tls_version, cipher)")"
is "TLS 1.2 on mpp" \
	"$(json "$T/s.json" '[(r["tls_version"], r["resyncs"]) for r in d["tls"] if r["listener"] == "mpp"]')" \
	"[('TLS1.2', 1)]"
failures_now=$(sql "select count(*) from resyncs where status <> 200 and ts > '2026'")
is "failures today: 500, 403 spoof, 404, 403 impostor" \
	"$(json "$T/s.json" 'sum(r["failures"] for r in d["failures"] if r["day"] > "2026")')" \
	"$failures_now"
is "(that is four)" "$failures_now" 4
is "spoofs today" \
	"$(json "$T/s.json" 'sum(r["spoofs"] for r in d["failures"] if r["day"] > "2026")')" 1
is "the old day: 2 requests, 1 failure, 1 spoof; next day 1 failure" \
	"$(json "$T/s.json" '[(r["day"], r["requests"], r["failures"], r["spoofs"]) for r in d["failures"] if r["day"] < "2026"]')" \
	"[('2025-06-01', 2, 1, 1), ('2025-06-02', 1, 1, 0)]"
is "untrusted issuers: the old one and the impostor root (a copy of Cisco's DN)" \
	"$(json "$T/s.json" '[(r["requests"], r["verify"], r["issuer"].split(",")[0]) for r in d["untrusted_issuers"]]')" \
	"[(1, 'signer-not-found', 'CN=Old Impostor'), (1, 'signer-not-found', 'EMAIL=ciscosb-certadmin@cisco.com')]"
is "failed handshakes by listener and error" \
	"$(json "$T/s.json" '[(r["listener"], r["error"], r["failures"]) for r in d["handshake_failures"]]')" \
	"[('mpp', '$hs_error', 1), ('sipura', 'old failure', 1)]"
CTL stats --since 7d --json >"$T/s.json"
is "--since 7d leaves the old rows out" \
	"$(json "$T/s.json" '[len(d["failures"]), len(d["untrusted_issuers"]), len(d["handshake_failures"]), sum(r["resyncs"] for r in d["tls"])]')" \
	"[1, 1, 1, $requests]"
CTL stats >"$T/s.txt"
like "tables with titles" "$(cat "$T/s.txt")" \
	"Firmware per model*model*SPA504G*TLS versions*sb*Failures*Issuers of untrusted*Failed TLS handshakes*old failure*"
CTL stats --since 1s >"$T/s.txt"
like "an empty section says so" "$(cat "$T/s.txt")" *"(none)"*
CTL stats --since soon >/dev/null 2>&1
is "bad --since: exit 3" "$?" 3

stop_daemon
is "spaprovd exits 0" "$DAEMON_STATUS" 0
done_testing
