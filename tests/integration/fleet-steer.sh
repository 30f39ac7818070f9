#!/bin/bash
# Fleet intelligence (issue 7): certificate pinning (pin_policy alert and
# refuse, device repin), CA steering (device show, device list
# --misplaced, {{profile_rule}} in a served profile) and the generic
# certificate policy (reject, url-mac with and without generic_safe).
# The real daemon, the lab PKI, the phone emulator and a second client
# root made here with certtool (lab-pki keeps no root keys).
set -u
. "$top_srcdir/tests/integration/lib.sh"

command -v certtool >/dev/null || { echo "1..0 # SKIP certtool missing"; exit 0; }

make_pki || exit 1

# --- a second certificate for the MAC of a lab phone ----------------------
P=0022bd010208   # SPA508G, firmware 7.5.5 in its User-Agent
cat >"$T/root2.tmpl" <<'EOF'
cn = "Lab Second Client Root (fleet test)"
organization = "spaprov lab PKI (not Cisco)"
ca
cert_signing_key
expiration_days = 3650
EOF
cat >"$T/phone2.tmpl" <<EOF
unit = "SPA508G"
locality = "CBT150200AA"
state = "$P"
organization = "spaprov lab PKI (not Cisco)"
country = US
tls_www_client
signing_key
encryption_key
expiration_days = 3650
EOF
{
	certtool --generate-privkey --key-type=rsa --bits=2048 \
		--outfile "$T/root2.key" &&
	certtool --generate-self-signed --load-privkey "$T/root2.key" \
		--template "$T/root2.tmpl" --outfile "$T/root2.crt" &&
	certtool --generate-privkey --key-type=rsa --bits=2048 \
		--outfile "$T/phone2.key" &&
	certtool --generate-certificate --load-privkey "$T/phone2.key" \
		--load-ca-certificate "$T/root2.crt" \
		--load-ca-privkey "$T/root2.key" --template "$T/phone2.tmpl" \
		--outfile "$T/phone2.crt"
} >"$T/certtool.out" 2>&1 || { cat "$T/certtool.out" >&2; exit 1; }

fp() { # SHA-256 of the first certificate of a PEM file, lower-case hex
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
FP1=$(fp "$PKI/phones/$P.crt")
FP2=$(fp "$T/phone2.crt")

# sb2k refuses a changed certificate, the others alert; sipura identifies
# generic-certificate units by the MAC in the URL.
write_conf "client_roots = $T/root2.crt"
awk '{ print }
     /^\[listener sb2k\]$/ { print "pin_policy = refuse" }
     /^\[listener sb\]$/ { print "pin_policy = alert" }
     /^\[listener sipura\]$/ { print "generic_policy = url-mac" }' \
	"$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
start_daemon || exit 1

ctl() { "$SPAPROVCTL" -c "$CONF" "$@"; }
status_of() { sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err"; }
last() { # COLUMNS: of the newest ledger row
	sql "select $1 from resyncs order by id desc limit 1"
}
json() { # KEY: from `device show --json` in $T/show
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else v)' "$T/show" "$1"
}
# cert2 LISTENER [phone-emu options]: $P with the second certificate
cert2() {
	lst=$1
	shift
	"$PHONE" --host 127.0.0.1 --port "$(port_of "$lst")" \
		--profile legacy-rsa --cert "$T/phone2.crt" --key "$T/phone2.key" \
		--ca "$PKI/provisioning/$lst-root.crt" \
		--server-name prov.spaprov.test --mac "$P" --path '/spa$MA.xml' \
		--user-agent "$(ua_of $P)" --timeout 10 "$@" \
		>"$T/body" 2>"$T/phone.err"
}
# generic LISTENER PATH [phone-emu options]: the shared certificate
generic() {
	lst=$1 path=$2
	shift 2
	"$PHONE" --host 127.0.0.1 --port "$(port_of "$lst")" \
		--profile legacy-rsa --cert "$PKI/generic/generic.crt" \
		--key "$PKI/generic/generic.key" \
		--ca "$PKI/provisioning/$lst-root.crt" \
		--server-name prov.spaprov.test --path "$path" \
		--user-agent 'Linksys/PAP2T-3.1.15(LS) (88012BA09999)' \
		--timeout 10 "$@" >"$T/body" 2>"$T/phone.err"
}

ctl profile set desk - >/dev/null <<'EOF'
<flat-profile>
  <Station_Name>{{mac}}</Station_Name>
  <Profile_Rule>{{profile_rule}}</Profile_Rule>
</flat-profile>
EOF
ctl device add $P --profile desk >/dev/null

# --- pinning ----------------------------------------------------------------
phone sb $P legacy-rsa --user-agent "$(ua_of $P)" >"$T/body"
is "first resync of $P: 200" "$(status_of)" 200
is "its certificate is pinned in the same transaction" \
	"$(sql "select fingerprint, pinned_by, first_seen = (select ts from resyncs where mac = '$P') from device_pins where mac = '$P'")" \
	"$FP1|spaprovd|1"
like "with its serial and issuer" \
	"$(sql "select cert_serial || ' ' || issuer from device_pins where mac = '$P'")" \
	"[0-9a-f]* *Small Business Client Root Authority 1*"
phone sb $P legacy-rsa --user-agent "$(ua_of $P)" >"$T/body"
is "the pinned certificate again: 200, no detail" \
	"$(last "status, outcome, coalesce(detail, '-')")" "200|ok|-"

cert2 sb
is "another certificate for $P under pin_policy = alert: 200" "$(status_of)" 200
is "recorded as ok naming both fingerprints" "$(last "mac, outcome, detail")" \
	"$P|ok|certificate changed: pinned $FP1, presented $FP2"
like "and logged as a warning" "$(cat "$T/daemon.log")" \
	"*client certificate changed*mac=$P pinned=$FP1 presented=$FP2 pin_policy=alert*"
is "the pin stays the first certificate" \
	"$(sql "select fingerprint from device_pins where mac = '$P'")" "$FP1"

cert2 sb2k --expect-status 403
is "another certificate under pin_policy = refuse: 403" "$(status_of)" 403
is "recorded as pin-mismatch naming both fingerprints" \
	"$(last "status, outcome, detail")" \
	"403|pin-mismatch|certificate changed: pinned $FP1, presented $FP2"
if grep -q "<Station_Name>" "$T/body"; then
	not_ok "no profile in the 403 body"
else
	ok "no profile in the 403 body"
fi
phone sb2k $P legacy-rsa --user-agent "$(ua_of $P)" >"$T/body"
is "the pinned certificate on the refusing listener: 200" "$(status_of)" 200

ctl device show $P --json >"$T/show"
is "device show prints the pin" \
	"$(json pin_fingerprint) $(json pin_pinned_by)" "$FP1 spaprovd"
ctl device show $P >"$T/show.txt"
like "also as a table" "$(cat "$T/show.txt")" "*pin_fingerprint*$FP1*"

ctl device repin ${P:0:4}.${P:4:4}.${P:8:4} >"$T/out" 2>&1
is "device repin (any MAC notation): exit 0" "$?" 0
like "says the next certificate is pinned" "$(cat "$T/out")" \
	"device $P: pin removed; its next verified certificate is pinned"
is "the pin is gone" "$(sql "select count(*) from device_pins where mac = '$P'")" 0
ctl device show $P --json >"$T/show"
is "device show: no pin" "$(json pin_fingerprint)" ""
cert2 sb2k
is "after repin the second certificate is served on the refusing listener" \
	"$(status_of)" 200
is "and pinned" "$(sql "select fingerprint from device_pins where mac = '$P'")" "$FP2"
phone sb2k $P legacy-rsa --user-agent "$(ua_of $P)" --expect-status 403 >"$T/body"
is "now the first certificate is the changed one: 403" \
	"$(last "outcome, detail")" \
	"pin-mismatch|certificate changed: pinned $FP2, presented $FP1"
ctl device repin $P >"$T/out" 2>&1
ctl device repin $P >"$T/out" 2>&1
like "repin without a pin: says so" "$(cat "$T/out")" "*had no pin*"
cert2 sb
is "the next certificate is pinned again" \
	"$(sql "select fingerprint from device_pins where mac = '$P'")" "$FP2"
ctl device repin 0022bd0100ff >"$T/out" 2>&1
is "repin of an unknown device: exit 2" "$?" 2
ctl device repin nonsense >"$T/out" 2>&1
is "repin of a bad MAC: exit 3" "$?" 3

ctl device add 0022bd010202 --profile desk >/dev/null
sql "update devices set status = 'disabled' where mac = '0022bd010202'"
phone linksys 0022bd010202 rc4 --user-agent "$(ua_of 0022bd010202)" \
	--expect-status 403 >"$T/body"
is "a refused request pins nothing" \
	"$(sql "select count(*) from device_pins where mac = '0022bd010202'")" 0
sql "update devices set status = 'enabled' where mac = '0022bd010202'"

# --- steering: device show ---------------------------------------------------
S=0022bd010203   # SPA504G
ctl device add $S --profile desk >/dev/null
steer() { # MODEL FIRMWARE: "listener|reason" device show recommends to $S
	sql "update devices set model = '$1', firmware = '$2' where mac = '$S'"
	ctl device show $S --json >"$T/show"
	echo "$(json recommended_listener)|$(json recommended_reason)"
}
is "SPA504G 7.4.4: sb" "$(steer SPA504G 7.4.4)" \
	"sb|model SPA504G firmware 7.4.4 trusts the sb CA (SPA5xx firmware before 7.5.6)"
is "SPA504G 7.5.6: sb2k" "$(steer SPA504G 7.5.6)" \
	"sb2k|model SPA504G firmware 7.5.6 trusts the sb2k CA (SPA5xx firmware from 7.5.6)"
is "SPA525G2 7.6.2a: sb2k" "$(steer SPA525G2 7.6.2a)" \
	"sb2k|model SPA525G2 firmware 7.6.2a trusts the sb2k CA (SPA5xx firmware from 7.5.6)"
is "SPA112 1.3.3(SR5): sb2k" "$(steer SPA112 '1.3.3(SR5)')" \
	"sb2k|model SPA112 firmware 1.3.3(SR5) trusts the sb2k CA (SPA1xx firmware from 1.3.3)"
is "SPA122 1.3.2: sb" "$(steer SPA122 1.3.2)" \
	"sb|model SPA122 firmware 1.3.2 trusts the sb CA (SPA1xx firmware before 1.3.3)"
is "CP-8841-3PCC: mpp" "$(steer CP-8841-3PCC 11.0)" \
	"mpp|model CP-8841-3PCC trusts the mpp CA (MPP (CP-xxxx-3PCC))"
is "PAP2: linksys" "$(steer PAP2 5.1.6)" "linksys|model PAP2 trusts the linksys CA (PAP2)"
is "PAP2T: sipura" "$(steer PAP2T '5.1.6(LS)')" "sipura|model PAP2T trusts the sipura CA (PAP2T)"
is "SPA-962 6.1.5(a): sipura" "$(steer SPA-962 '6.1.5(a)')" \
	"sipura|model SPA-962 trusts the sipura CA (SPA9xx)"
is "SPA504G without firmware: sb" "$(steer SPA504G '')" \
	"sb|model SPA504G trusts the sb CA (SPA5xx firmware unknown: as before 7.5.6)"
is "unknown model, never resynced: no listener" "$(steer ATA191 1.0)" \
	"|no CA known for model ATA191, and it never resynced"
steer SPA504G 7.5.7 >/dev/null
is "port 0 in the configuration: no profile_rule to show" \
	"$(json recommended_profile_rule)" ""
awk '/^port = 0$/ { n++; print "port = " (28440 + n); next } { print }' \
	"$CONF" >"$T/ports.conf"
"$SPAPROVCTL" -c "$T/ports.conf" device show $S --json >"$T/show"
is "device show: the profile_rule on the recommended listener" \
	"$(json recommended_profile_rule)" 'https://prov.spaprov.test:28444/spa$MA.xml'

# --- {{profile_rule}} in a served profile ------------------------------------
ua_old='Cisco/SPA504G-7.4.4 (0022BD010203)(CBT141100HR)'
ua_new='Cisco/SPA504G-7.5.7 (0022BD010203)(CBT141100HR)'
ctl device repin $S >/dev/null
phone sb2k $S legacy-rsa --user-agent "$ua_old" >"$T/body"
is "SPA504G 7.4.4 resyncing on sb2k: 200" "$(status_of)" 200
like "is served the Profile_Rule of the sb listener, \$MA left for it" \
	"$(cat "$T/body")" \
	"*<Profile_Rule>https://prov.spaprov.test:$(port_of sb)/spa\$MA.xml</Profile_Rule>*"
phone sb $S legacy-rsa --user-agent "$ua_new" >"$T/body"
like "upgraded to 7.5.7, on sb: the rule moves it to sb2k" "$(cat "$T/body")" \
	"*<Profile_Rule>https://prov.spaprov.test:$(port_of sb2k)/spa\$MA.xml</Profile_Rule>*"
ctl profile render $S >"$T/out" 2>"$T/err"
is "profile render with port 0 listeners: exit 3" "$?" 3
like "names why profile_rule is unknown" "$(cat "$T/err")" \
	"*missing variable 'profile_rule' (the listener has port 0*"
"$SPAPROVCTL" -c "$T/ports.conf" profile render $S >"$T/out" 2>"$T/err"
like "profile render with ports: the same rule as the daemon would serve" \
	"$(cat "$T/out")" \
	"*<Profile_Rule>https://prov.spaprov.test:28444/spa\$MA.xml</Profile_Rule>*"

# --- device list --misplaced -------------------------------------------------
phone sb2k $S legacy-rsa --user-agent "$ua_old" >"$T/body"   # belongs on sb
ctl device list --misplaced --json >"$T/show" 2>"$T/err"
is "list --misplaced: exit 0" "$?" 0
is "lists SPA-2102 last seen on linksys and SPA504G 7.4.4 on sb2k" \
	"$(python3 -c 'import json, sys
print(" ".join("%s:%s:%s:%s" % (r["mac"], r["ca"], r["recommended_ca"],
      r["recommended_listener"]) for r in json.load(open(sys.argv[1]))))' "$T/show")" \
	"0022bd010202:linksys:sipura:sipura $S:sb2k:sb:sb"
phone sb $S legacy-rsa --user-agent "$ua_old" >"$T/body"
ctl device list --misplaced >"$T/out" 2>"$T/err"
like "after a resync on sb the SPA504G is no longer listed" \
	"$(cat "$T/out")" "mac*0022bd010202*linksys*sipura*"
is "the count on stderr" "$(cat "$T/err")" "(1 of 1 misplaced devices)"

# --- public_name and profile_path, on SIGHUP ----------------------------------
sed -i "s|^run_as_root = yes|&\npublic_name = prov.example.com\nprofile_path = /cfg/\$MA.xml|" "$CONF"
kill -HUP "$DAEMON_PID"
i=0
until grep -q 'configuration reloaded' "$T/daemon.log" || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
phone sb $S legacy-rsa --user-agent "$ua_new" >"$T/body"
like "after reload: public_name and profile_path in the rule" "$(cat "$T/body")" \
	"*<Profile_Rule>https://prov.example.com:$(port_of sb2k)/cfg/\$MA.xml</Profile_Rule>*"

# --- generic certificates -----------------------------------------------------
G=0022bd0102a1   # a pre-2.0 unit: only the shared certificate
ctl device add $G --profile desk >/dev/null
generic sb '/config?Linksys$MAU' --mac $G --expect-status 403
is "generic certificate, generic_policy = reject: 403" \
	"$(last "status, outcome, mac is null")" "403|generic-certificate|1"
generic sipura '/config?Linksys$MAU' --mac $G --expect-status 403
is "url-mac, profile not generic-safe: 403 generic-not-allowed" \
	"$(last "status, outcome, mac, trust")" "403|generic-not-allowed|$G|url-mac"
like "the detail says why" "$(last detail)" "profile 'desk': not generic-safe*"
ctl profile set desk - --generic-safe >"$T/out" <<'EOF'
<flat-profile>
  <Station_Name>{{mac}}</Station_Name>
  <Profile_Rule>{{profile_rule}}</Profile_Rule>
</flat-profile>
EOF
like "profile set --generic-safe says so" "$(cat "$T/out")" "*generic-safe)"
is "the flag is stored" "$(sql "select generic_safe from profiles where name = 'desk'")" 1
generic sipura '/config?Linksys$MAU' --mac $G
is "url-mac with a generic-safe profile: 200" "$(status_of)" 200
like "its own profile, by the MAC in the URL" "$(cat "$T/body")" \
	"*<Station_Name>$G</Station_Name>*"
like "steered by the User-Agent model (PAP2T: sipura)" "$(cat "$T/body")" \
	"*<Profile_Rule>https://prov.example.com:$(port_of sipura)/cfg/\$MA.xml</Profile_Rule>*"
is "ledger: ok with low trust" "$(last "status, outcome, mac, trust, verify")" \
	"200|ok|$G|url-mac|ok"
is "the shared certificate is not pinned" \
	"$(sql "select count(*) from device_pins where mac = '$G'")" 0
is "nor written into the device as its certificate" \
	"$(sql "select coalesce(cert_subject, '-'), coalesce(serial, '-'), last_seen is not null from devices where mac = '$G'")" \
	"-|-|1"
generic sipura '/config?Linksys0022BD0102A2' --expect-status 404
is "url-mac naming an unknown MAC: 404" "$(last "status, outcome, mac")" \
	"404|unknown-device|0022bd0102a2"
is "and it is never added as pending" \
	"$(sql "select count(*) from devices where mac = '0022bd0102a2'")" 0
generic sipura '/config?' --expect-status 403
is "url-mac without a MAC in the path: 403" "$(last "outcome, detail")" \
	"generic-certificate|generic certificate and no single MAC in the path"
generic sipura "/cfg/$G/0022bd0102a2.xml" --expect-status 403
is "two different MACs in the path: 403" "$(last "outcome, mac is null")" \
	"generic-certificate|1"
ctl profile set desk - --no-generic-safe >/dev/null <<'EOF'
<flat-profile><Station_Name>{{mac}}</Station_Name></flat-profile>
EOF
generic sipura '/config?Linksys$MAU' --mac $G --expect-status 403
is "--no-generic-safe withdraws it" "$(last outcome)" "generic-not-allowed"
ctl profile set desk - >/dev/null <<'EOF'
<flat-profile><Station_Name>{{mac}}</Station_Name></flat-profile>
EOF
is "profile set without the option keeps the flag" \
	"$(sql "select generic_safe from profiles where name = 'desk'")" 0
phone sipura 0022bd010201 legacy-dhe --user-agent "$(ua_of 0022bd010201)" \
	--expect-status 404 >/dev/null
is "a phone's own certificate on the url-mac listener is unaffected" \
	"$(last "outcome, trust is null")" "unknown-device|1"

stop_daemon
is "spaprovd exits 0" "$DAEMON_STATUS" 0
done_testing
