#!/bin/bash
# spaprovctl device: every subcommand and its error paths against a real
# database file, JSON checked field by field, filters and pagination on 300
# devices, one page out of 100,000, and the daemon for the two things only
# it can show: a phone's last resync, and approving a pending phone.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_pki || exit 1
write_conf

# run ARGS...: spaprovctl with the test config; stdout in $T/out, stderr
# in $T/err, exit status in $rc
run() {
	"$SPAPROVCTL" -c "$CONF" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# exits DESC WANT: the last run's exit status
exits() {
	if [ "$rc" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "exit status $rc, want $2" "stdout: $(head -c 600 "$T/out")" \
			"stderr: $(head -c 600 "$T/err")"
	fi
}
# jcheck DESC PYTHON: PYTHON (statements, asserts) with d = the JSON on
# the last run's stdout
jcheck() {
	if python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$T/out" >"$T/py.err" 2>&1; then
		ok "$1"
	else
		not_ok "$1"
		diag "$(tail -n 5 "$T/py.err")" "stdout: $(head -c 800 "$T/out")"
	fi
}
# no_secret DESC FILE...: none of the test secrets is in the files
no_secret() {
	d=$1
	shift
	if grep -q -e 's3cret' -e '4711' -e 'tok-abc' -e 'k-xyz' \
		-e 'shh-42' "$@"; then
		not_ok "$d"
		diag "$(grep -h -e 's3cret' -e '4711' -e 'tok-abc' -e 'k-xyz' \
			-e 'shh-42' "$@")"
	else
		ok "$d"
	fi
}

M=000e08abcdef
# --- help and usage ----------------------------------------------------------
run device --help
exits "device --help: exit 0" 0
for sub in add set show list rm enable disable approve; do
	like "device --help lists $sub" "$(cat "$T/out")" "*  $sub *"
done
for sub in add set show list rm enable disable approve; do
	run device "$sub" --help
	exits "device $sub --help: exit 0" 0
	like "device $sub --help: its usage on stdout" "$(head -n 1 "$T/out")" \
		"Usage: spaprovctl device $sub*"
done
run device
exits "device without a command: exit 1" 1
run device frobnicate
exits "unknown device command: exit 1" 1
like "and says so" "$(cat "$T/err")" "*unknown device command 'frobnicate'*"
run device list --bogus
exits "unknown option: exit 1" 1
run device show
exits "show without a MAC: exit 1" 1
run device show $M extra
exits "show with two arguments: exit 1" 1

# --- add -----------------------------------------------------------------------
run device add 00:0E:08:AB:CD:EF --profile office --description "reception" \
	--var sip_user=2001 --var sip_password=s3cret --var Admin_PIN=4711 \
	--var auth_token=tok-abc --var enc_key=k-xyz --var shared_secret=shh-42 \
	--var station=Reception
exits "add in colon notation: exit 0" 0
like "add names the normalised MAC" "$(cat "$T/out")" "added device $M *7 variables*"
like "add warns that profile office does not exist yet" "$(cat "$T/err")" \
	"*warning: profile 'office' does not exist yet*"
no_secret "add prints no secret" "$T/out" "$T/err"
run device add 000E.08AB.CDEF
exits "add of an existing device (dotted notation): exit 3" 3
like "and says it exists" "$(cat "$T/err")" "*$M already exists*"
run device add 00:0E:08:AB:CD
exits "add of a short MAC: exit 3" 3
like "precise message" "$(cat "$T/err")" "*invalid MAC address '00:0E:08:AB:CD'*"
run device add 000e08abcd01 --var mac=1
exits "add --var of a built-in: exit 3" 3
like "names it" "$(cat "$T/err")" "*reserved built-in name 'mac'*"
run device add 000e08abcd01 --var novalue
exits "add --var without '=': exit 3" 3
run device add 000e08abcd01 --var a=1 --var a=2
exits "add --var twice: exit 3" 3
is "nothing was added" "$(sql "select count(*) from devices where mac = '000e08abcd01'")" 0

# --- show ------------------------------------------------------------------------
run device show 000e.08ab.cdef
exits "show in dotted notation: exit 0" 0
like "show: identity" "$(cat "$T/out")" "*mac*$M*status*enabled*profile*office*description*reception*"
like "show: plain variables in clear" "$(cat "$T/out")" "*var:sip_user*2001*"
like "show: secrets masked" "$(cat "$T/out")" "*var:sip_password*\*\*\*\*\*\*\*\**"
no_secret "show prints no secret without --reveal" "$T/out" "$T/err"
run device show 000E08ABCDEF --json
exits "show --json: exit 0" 0
jcheck "show --json: identity and variables, secrets masked" '
assert d["mac"] == "000e08abcdef" and d["status"] == "enabled", d
assert d["profile"] == "office" and d["description"] == "reception"
assert d["model"] is None and d["last_seen"] is None
assert d["created"].endswith("Z") and d["updated"] >= d["created"]
assert d["var:sip_user"] == "2001" and d["var:station"] == "Reception"
for k in ("sip_password", "Admin_PIN", "auth_token", "enc_key", "shared_secret"):
    assert d["var:" + k] == "********", k
assert d["last_resync_time"] is None and d["last_resync_status"] is None
assert d["recommended_listener"] is None
assert "never resynced" in d["recommended_reason"], d["recommended_reason"]
for k in ("cert_subject", "cert_issuer", "serial", "firmware",
          "last_resync_listener", "last_resync_outcome", "last_resync_tls_version",
          "last_resync_cipher", "last_resync_remote_addr", "recommended_address",
          "recommended_port"):
    assert k in d, k'
no_secret "show --json prints no secret" "$T/out"
run device show $M --json --reveal
jcheck "show --reveal: the values" '
assert d["var:sip_password"] == "s3cret" and d["var:Admin_PIN"] == "4711"
assert d["var:auth_token"] == "tok-abc" and d["var:enc_key"] == "k-xyz"
assert d["var:shared_secret"] == "shh-42"'
run device show 000e08abcd99
exits "show of an absent device: exit 2" 2
like "says which" "$(cat "$T/err")" "*no device 000e08abcd99*"
run device show zz:0e:08:ab:cd:ef
exits "show of an invalid MAC: exit 3" 3

# --- set ---------------------------------------------------------------------------
run device set 00-0E-08-AB-CD-EF --profile desk --description "front desk" \
	--var sip_user=2002 --var vlan=12 --unset-var station \
	--var sip_password=s3cret-2
exits "set everything at once: exit 0" 0
no_secret "set prints no secret" "$T/out" "$T/err"
run device show $M --json --reveal
jcheck "set: profile, description, variables changed, one unset" '
assert d["profile"] == "desk" and d["description"] == "front desk"
assert d["var:sip_user"] == "2002" and d["var:vlan"] == "12"
assert d["var:sip_password"] == "s3cret-2"
assert "var:station" not in d
assert d["updated"] > d["created"]'
run device set $M --description "changed" --unset-var no_such_var
exits "set --unset-var of a variable the device lacks: exit 2" 2
like "names the variable" "$(cat "$T/err")" "*no variable 'no_such_var'*"
is "and the whole set was rolled back" \
	"$(sql "select description from devices where mac = '$M'")" "front desk"
run device set $M --no-profile
exits "set --no-profile: exit 0" 0
is "profile is NULL" "$(sql "select profile is null from devices where mac = '$M'")" 1
run device set 000e08abcd99 --description x
exits "set of an absent device: exit 2" 2
like "says which" "$(cat "$T/err")" "*no device 000e08abcd99*"
run device set $M
exits "set with nothing to change: exit 1" 1
like "says so" "$(cat "$T/err")" "*nothing to change*"
run device set $M --profile a --no-profile
exits "set --profile with --no-profile: exit 1" 1
run device set $M --var x=1 --unset-var x
exits "set and unset the same variable: exit 1" 1
run device set $M --var listener=x
exits "set --var of a built-in: exit 3" 3
run device set $M --unset-var 9lives
exits "set --unset-var of an invalid name: exit 3" 3
like "precise message" "$(cat "$T/err")" "*invalid variable name '9lives'*"
run device set $M --description "$(printf '%01025d' 0)"
exits "set --description over 1024 bytes: exit 3" 3
run device set $M --profile "$(printf '%065d' 0)"
exits "set --profile over 64 characters: exit 3" 3
run device set $M --var "big=$(printf '%04097d' 0)"
exits "set --var value over 4096 bytes: exit 3" 3
is "the device has 7 variables" "$(sql "select count(*) from device_vars where mac = '$M'")" 7
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 249)
     INSERT INTO device_vars (mac, name, value) SELECT '$M', 'v' || i, i FROM n"
run device set $M --var a1=1 --description big
exits "set to a 257th variable: exit 3" 3
like "says so" "$(cat "$T/err")" "*would have 257 variables, more than 256*"
is "and rolled back" "$(sql "select count(*) || ' ' || description from devices d, device_vars v where d.mac = '$M' and v.mac = d.mac")" \
	"256 front desk"
run device set $M --var vlan=13
exits "replacing a variable at 256: exit 0" 0
sql "delete from device_vars where mac = '$M' and name glob 'v[0-9]*'"

# --- enable, disable, approve ------------------------------------------------------
run device disable $M
exits "disable: exit 0" 0
is "status disabled" "$(sql "select status from devices where mac = '$M'")" disabled
run device disable $M
exits "disable again: exit 0" 0
like "says it already is" "$(cat "$T/out")" "*already disabled*"
run device enable 000e.08ab.cdef
exits "enable: exit 0" 0
is "status enabled" "$(sql "select status from devices where mac = '$M'")" enabled
run device enable 000e08abcd99
exits "enable of an absent device: exit 2" 2
run device disable 000e08abcd99
exits "disable of an absent device: exit 2" 2
run device approve $M
exits "approve of an enabled device: exit 3" 3
like "says it is not pending" "$(cat "$T/err")" "*not pending (it is enabled)*"
run device approve 000e08abcd99
exits "approve of an absent device: exit 2" 2
run device approve $M --profile ""
exits "approve --profile '': exit 3" 3
run device enable $M --profile x
exits "enable takes no --profile: exit 1" 1
P=000e08abcd10
sql "insert into devices (mac, status, model, created, updated) values
     ('$P', 'pending', 'SPA112', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"
run device enable $P
exits "enable of a pending device: exit 3" 3
like "points at approve" "$(cat "$T/err")" "*is pending: use 'spaprovctl device approve $P'*"
run device approve $P --profile plain
exits "approve a pending device with --profile: exit 0" 0
is "now enabled with the profile" \
	"$(sql "select status, profile from devices where mac = '$P'")" "enabled|plain"
run device approve $P
exits "approve it again: exit 3" 3

# --- rm ------------------------------------------------------------------------------
run device rm $P
exits "rm without --yes: exit 1" 1
like "says to add --yes" "$(cat "$T/err")" "*add --yes to confirm*"
is "the device is still there" "$(sql "select count(*) from devices where mac = '$P'")" 1
run device rm 00:0e:08:ab:cd:10 --yes
exits "rm --yes: exit 0" 0
is "gone" "$(sql "select count(*) from devices where mac = '$P'")" 0
run device show $P
exits "show after rm: exit 2" 2
run device rm $P --yes
exits "rm of an absent device: exit 2" 2
run device rm nonsense --yes
exits "rm of an invalid MAC: exit 3" 3
run device rm $M --yes
is "rm takes the variables along" \
	"$(sql "select count(*) from device_vars where mac = '$M'")" 0

# --- list: 300 devices --------------------------------------------------------------
# i = 0..299: mac 0000000100xx.., status by i % 10, model by i % 3, profile
# by i % 4, firmware by i % 5, last_seen i days ago (never for i % 7 = 0),
# a variable with a distinctive value on i = 123, description "dev i".
sql "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)
INSERT INTO devices (mac, status, profile, description, model, firmware,
                     created, updated, last_seen)
SELECT printf('%012x', 0x001122000000 + i),
       CASE i % 10 WHEN 0 THEN 'pending' WHEN 1 THEN 'disabled' ELSE 'enabled' END,
       'prof' || (i % 4), 'dev ' || i,
       CASE i % 3 WHEN 0 THEN 'SPA504G' WHEN 1 THEN 'SPA-962' ELSE 'CP-8841-3PCC' END,
       '7.' || (i % 5), '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || i || ' days', '+1 hour') END
  FROM n;
INSERT INTO device_vars (mac, name, value)
SELECT printf('%012x', 0x001122000000 + 123), 'sip_user', 'ext-needle-123';
UPDATE devices SET description = '100% sure_thing' WHERE mac = printf('%012x', 0x001122000000 + 42);"
# resyncs: i % 3 = 0 first on sipura, then on sb2k; i % 3 = 1 the other
# way round; i % 3 = 2 never.  The newer rows go in first (lower ids):
# "last" is by time.
resyncs() { # TS CA-FOR-i%3=0 CA-FOR-i%3=1
	sql "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)
INSERT INTO resyncs (ts, listener, ca, remote_addr, mac, verify, method, path,
                     status, bytes, duration_ms, outcome)
SELECT '$1', c, c, '10.0.0.1', printf('%012x', 0x001122000000 + i), 'ok', 'GET',
       '/x', 200, 1, 1.0, 'ok'
  FROM (SELECT i, CASE i % 3 WHEN 0 THEN '$2' ELSE '$3' END AS c FROM n WHERE i % 3 <> 2)"
}
resyncs 2026-03-01T00:00:00.000Z sb2k sipura
resyncs 2026-02-01T00:00:00.000Z sipura sb2k
is "300 devices created" "$(sql "select count(*) from devices")" 300

run device list
exits "list: exit 0" 0
is "list: 100 rows by default (plus the header)" "$(wc -l <"$T/out")" 101
is "list: footer on stderr" "$(cat "$T/err")" "(100 of 300 devices)"
like "list: header names the columns" "$(head -n 1 "$T/out")" \
	"mac*status*model*serial*firmware*profile*last_seen*listener*ca*description*"
run device list --json --limit 50 --offset 250
jcheck "list --json --limit 50 --offset 250: the last 50 in MAC order" '
assert len(d) == 50, len(d)
macs = [r["mac"] for r in d]
assert macs == sorted(macs)
assert macs[0] == "%012x" % (0x001122000000 + 250) and macs[-1] == "%012x" % (0x001122000000 + 299)
assert set(d[0]) == {"mac", "status", "model", "serial", "firmware", "profile",
                     "last_seen", "listener", "ca", "description"}, set(d[0])'
is "--json prints no footer" "$(cat "$T/err")" ""
rm -f "$T/all"
for off in 0 100 200 300; do
	run device list --json --offset $off
	python3 -c 'import json, sys; [print(r["mac"]) for r in json.load(open(sys.argv[1]))]' \
		"$T/out" >>"$T/all"
done
is "pages of 100 give every device once, in order" \
	"$(sort -u "$T/all" | wc -l) $(sort -c "$T/all" && echo sorted)" "300 sorted"
run device list --offset 1000
exits "an offset past the end: exit 0" 0
is "no rows, footer says so" "$(wc -l <"$T/out") $(cat "$T/err")" "0 (0 of 300 devices)"

run device list --status pending --json --limit 1000
jcheck "--status pending: exactly the 30 pending" '
assert len(d) == 30 and all(r["status"] == "pending" for r in d), len(d)'
run device list --model spa-962 --json --limit 1000
jcheck "--model is exact, any case" '
assert len(d) == 100 and all(r["model"] == "SPA-962" for r in d), len(d)'
run device list --model SPA --json
jcheck "--model is not a prefix match" 'assert d == []'
run device list --profile prof2 --firmware 7.3 --json --limit 1000
jcheck "--profile with --firmware: both apply" '
assert len(d) == 15, len(d)
assert all(r["profile"] == "prof2" and r["firmware"] == "7.3" for r in d)'
run device list --ca sb2k --json --limit 1000
jcheck "--ca sb2k: devices whose LAST resync was on sb2k" '
macs = {int(r["mac"], 16) - 0x001122000000 for r in d}
assert macs == {i for i in range(300) if i % 3 == 0}, sorted(macs)[:10]
assert all(r["listener"] == "sb2k" and r["ca"] == "sb2k" for r in d)'
run device list --ca sipura
is "--ca sipura: footer" "$(cat "$T/err")" "(100 of 100 devices)"
run device list --not-seen-days 30 --json --limit 1000
jcheck "--not-seen-days 30: older than 30 days or never seen" '
idx = {int(r["mac"], 16) - 0x001122000000 for r in d}
want = {i for i in range(300) if i % 7 == 0 or i > 30}
assert idx == want, sorted(idx ^ want)'
run device list --search 00:11:22:00:00:7B --json
jcheck "--search a MAC in colon notation" '
assert [r["mac"] for r in d] == ["00112200007b"], d'
run device list --search 0011.2200.007b --json
jcheck "--search a MAC in dotted notation" 'assert len(d) == 1'
run device list --search 00:00:7 --json --limit 1000
jcheck "--search part of a MAC with separators" '
want = {m for m in ("%012x" % (0x001122000000 + i) for i in range(300)) if "00007" in m}
assert len(want) == 17 and {r["mac"] for r in d} == want, d'
run device list --search needle --json
jcheck "--search a variable value" '
assert [r["mac"] for r in d] == ["%012x" % (0x001122000000 + 123)], d'
run device list --search "DEV 29" --json --limit 1000
jcheck "--search the description, any case" '
assert sorted(r["description"] for r in d) == ["dev 29", "dev 290", "dev 291", "dev 292", "dev 293", "dev 294", "dev 295", "dev 296", "dev 297", "dev 298", "dev 299"], d'
run device list --search "0%" --json
jcheck "--search: % is literal" '
assert [r["description"] for r in d] == ["100% sure_thing"], d'
run device list --search "v_29" --json
jcheck "--search: _ is literal" 'assert d == [], d'
run device list --status enabled --model SPA504G --ca sb2k --not-seen-days 100 --json --limit 1000
jcheck "all filters together" '
idx = sorted(int(r["mac"], 16) - 0x001122000000 for r in d)
want = [i for i in range(300) if i % 10 not in (0, 1) and i % 3 == 0 and (i % 7 == 0 or i > 100)]
assert idx == want, (idx, want)'

for bad in "--status on" "--ca verisign" "--limit 0" "--limit 1000001" "--limit ten" \
	"--offset -1" "--not-seen-days x" "--not-seen-days 36501" "--model="; do
	# shellcheck disable=SC2086
	run device list $bad
	exits "list $bad: exit 3" 3
done
like "--status: precise message" "$(run device list --status on; cat "$T/err")" \
	"*--status: expected enabled, disabled or pending, got 'on'*"
like "--ca: precise message" "$(run device list --ca verisign; cat "$T/err")" \
	"*--ca: expected sipura, linksys, sb, sb2k or mpp, got 'verisign'*"
run device list extra
exits "list with an argument: exit 1" 1

# --- database errors ------------------------------------------------------------------
sed "s|^database = .*|database = $T/no-such-dir/x.db|" "$CONF" >"$T/bad.conf"
"$SPAPROVCTL" -c "$T/bad.conf" device list >/dev/null 2>"$T/err"
is "a database that cannot be opened: exit 4" "$?" 4

# --- 100,000 devices ---------------------------------------------------------------
sed "s|^database = .*|database = $T/big.db|" "$CONF" >"$T/big.conf"
"$SPAPROVCTL" -c "$T/big.conf" device list >/dev/null 2>&1
"$SQLITE" -batch "$T/big.db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
INSERT INTO devices (mac, status, profile, description, model, firmware, created, updated, last_seen)
SELECT printf('%012x', 0x00aa00000000 + i), CASE WHEN i % 50 = 0 THEN 'pending' ELSE 'enabled' END,
       'p', 'bulk ' || i, 'SPA504G', '7.6.2', '2026-01-01T00:00:00.000Z',
       '2026-01-01T00:00:00.000Z', NULL FROM n"
start=$(date +%s%N)
"$SPAPROVCTL" -c "$T/big.conf" device list --json >"$T/out" 2>"$T/err"
rc=$?
end=$(date +%s%N)
exits "list of 100,000 devices: exit 0" 0
jcheck "list of 100,000 devices: the first page" '
assert len(d) == 100 and d[0]["mac"] == "00aa00000000" and d[99]["mac"] == "00aa00000063"'
diag "first page of 100,000 devices: $(( (end - start) / 1000000 )) ms"
start=$(date +%s%N)
"$SPAPROVCTL" -c "$T/big.conf" device list --status pending --offset 1900 >"$T/out" 2>"$T/err"
rc=$?
end=$(date +%s%N)
exits "filtered last page of 100,000: exit 0" 0
is "its footer counts all matches" "$(cat "$T/err")" "(100 of 2000 devices)"
diag "status filter, offset 1900, of 100,000 devices: $(( (end - start) / 1000000 )) ms"

# --- with the daemon: last resync, recommended listener, approve ----------------------
start_daemon || exit 1
"$SPAPROVCTL" -c "$CONF" profile set plain - >/dev/null <<'EOF'
<flat-profile><Station_Name>{{mac}}</Station_Name></flat-profile>
EOF
R=0022bd010203   # SPA504G, client cert under the sb client root
run device add $R --profile plain --var sip_password=s3cret
phone sb $R legacy-rsa --user-agent "$(ua_of $R)" >"$T/body"
like "a registered phone resyncs on sb: 200" "$(cat "$T/phone.err")" "status=200 *"
run device show $R --json
exits "show of the resynced phone: exit 0" 0
jcheck "show: model, serial, firmware, certificate and last resync" "
assert d['model'] == 'SPA504G' and d['serial'] == 'CBT141100HR', d
assert d['firmware'] and d['last_seen']
assert '$R' in d['cert_subject'] and 'Client Root' in d['cert_issuer']
assert d['last_resync_listener'] == 'sb' and d['last_resync_ca'] == 'sb'
assert d['last_resync_status'] == 200 and d['last_resync_outcome'] == 'ok'
assert d['last_resync_tls_version'].startswith('TLS1')
assert d['last_resync_cipher'].startswith('TLS_')
assert d['last_resync_remote_addr'] == '127.0.0.1'
assert d['var:sip_password'] == '********'"
jcheck "show: SPA5xx on firmware 7.4.4 is recommended the sb listener" "
assert d['recommended_listener'] == 'sb' and d['recommended_ca'] == 'sb', d
assert d['recommended_address'] == '127.0.0.1'
assert d['recommended_reason'] == 'model SPA504G firmware 7.4.4 trusts the sb CA (SPA5xx firmware before 7.5.6)'"
# the address and port come from the configuration (the tests' is port 0)
awk '/^port = 0$/ { n++; print "port = " (18440 + n); next } { print }' \
	"$CONF" >"$T/ports.conf"
"$SPAPROVCTL" -c "$T/ports.conf" device show $R --json >"$T/out" 2>"$T/err"
jcheck "show: the recommended listener's port as configured" "
assert d['recommended_listener'] == 'sb' and d['recommended_port'] == 18443, d"
run device show $R
like "show (table): the certificate seen and the last resync" "$(cat "$T/out")" \
	"*cert_subject*OU=SPA504G*cert_issuer*Client Root*last_resync_listener*sb*last_resync_status*200*last_resync_outcome*ok*recommended_listener*sb*"

N=0022bd010207   # SPA112, not registered
phone sb $N legacy-rsa --user-agent "$(ua_of $N)" --expect-status 404 >/dev/null
like "an unknown phone gets 404" "$(cat "$T/phone.err")" "status=404 *"
run device list --status pending --search $N --json
jcheck "the daemon recorded it as pending" "
assert [r['mac'] for r in d] == ['$N'] and d[0]['model'] == 'SPA112', d
assert d[0]['listener'] == 'sb'"
run device approve $N --profile plain
exits "approve the pending phone with a profile: exit 0" 0
phone sb $N legacy-rsa --user-agent "$(ua_of $N)" >"$T/body"
like "after approval it gets 200" "$(cat "$T/phone.err")" "status=200 *"
like "with its profile" "$(cat "$T/body")" "*<Station_Name>$N</Station_Name>*"
stop_daemon
is "spaprovd exits 0" "$DAEMON_STATUS" 0

# --- recommended listener per model (DOMAIN.md s.1) ------------------------------------
recommended() { # MODEL FIRMWARE [CONF]: listener recommended to $R
	sql "update devices set model = '$1', firmware = '$2' where mac = '$R'"
	"$SPAPROVCTL" -c "${3:-$CONF}" device show $R --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["recommended_listener"])'
}
for t in SPA525G2:7.5.7:sb2k SPA504G:7.5.6a:sb2k SPA504G:7.5.5:sb \
	SPA-112:1.3.3:sb2k SPA112:1.3.1:sb SPA232D:1.3.3\(SR5\):sb2k \
	CP-7841-3PCC:11.0:mpp PAP2:5.1.6:linksys WRTP54G:x:linksys \
	RTP300:x:linksys PAP2T:x:sipura WRP400:x:sipura SPA-2102:x:sipura \
	SPA3102:x:sipura SPA-962:6.1.5\(a\):sipura ATA191:x:sb; do
	m=${t%%:*} rest=${t#*:}
	is "model $m firmware ${rest%%:*}: ${rest#*:}" \
		"$(recommended "$m" "${rest%%:*}")" "${rest#*:}"
done
awk '/^\[listener sb2k\]/ { skip = 1; next } /^\[/ { skip = 0 } !skip' \
	"$CONF" >"$T/nosb2k.conf"
is "model SPA504G 7.5.7 without an sb2k listener: sb" \
	"$(recommended SPA504G 7.5.7 "$T/nosb2k.conf")" sb
awk '/^\[listener mpp\]/ { skip = 1; next } /^\[/ { skip = 0 } !skip' \
	"$CONF" >"$T/nompp.conf"
is "model CP-7841-3PCC without an mpp listener: sb2k" \
	"$(recommended CP-7841-3PCC 11.0 "$T/nompp.conf")" sb2k
sql "update devices set model = 'ATA191' where mac = '$R'"
run device show $R --json
jcheck "unknown model: the listener it last used, and why" "
assert d['recommended_listener'] == 'sb'
assert d['recommended_reason'] == 'no CA known for model ATA191; the listener it last used', d['recommended_reason']"

done_testing
