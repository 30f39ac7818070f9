#!/bin/bash
# spaprovctl check (configuration validation) and spaprovctl csr (server key
# and certificate request).  Needs neither the daemon nor the phone
# emulator; certtool and openssl make and inspect the odd certificates.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_pki || exit 1

# run NAME ARGS...: spaprovctl ARGS, output in $T/NAME.out, status in $RC
run() {
	name=$1
	shift
	"$SPAPROVCTL" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	OUT=$(cat "$T/$name.out" "$T/$name.err")
}
# count PATTERN NAME: lines of $T/NAME.out matching the fixed string
count() { grep -cF -- "$1" "$T/$2.out"; }
# listener_set LISTENER KEY VALUE: change KEY inside [listener LISTENER]
listener_set() {
	sed -i "/^\[listener $1\]/,/^\[/s|^$2 = .*|$2 = $3|" "$CONF"
}
# listener_add LISTENER LINE: append LINE to [listener LISTENER]
listener_add() {
	sed -i "/^\[listener $1\]/a $2" "$CONF"
}
# selfsigned NAME CN [DATE-LINES]: $T/NAME.crt and .key via certtool,
# valid for a year unless DATE-LINES (certtool template) say otherwise
selfsigned() {
	{
		echo "cn = \"$2\""
		printf '%s\n' "${3:-expiration_days = 365}"
	} >"$T/$1.tmpl"
	certtool --generate-privkey --bits 1024 --outfile "$T/$1.key" \
		>/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$T/$1.key" \
		--template "$T/$1.tmpl" --outfile "$T/$1.crt" >/dev/null 2>&1
}

# --- the lab configuration: fine, with the expected warnings -------------
write_conf
run lab -c "$CONF" check
is "lab config: exit 0" "$RC" 0
is "lab config: five listener blocks, no ERROR line" \
	"$(count 'listener ' lab)/$(count 'ERROR' lab)" 5/0
like "lab config: summary" "$OUT" "*0 errors, 3 warnings*"
like "lab config: genuine Cisco root recognised" "$OUT" \
	"*root: Cisco Small Business Client Root Authority 2 (genuine Cisco root)*"
like "lab config: lab Sipura root is not Cisco's" "$OUT" \
	"*WARNING: Cisco's \"Sipura Technology Client Root Authority 1\" is missing*Sipura-era units*"
like "lab config: lab SB root 1 is not Cisco's" "$OUT" \
	"*WARNING: Cisco's \"Cisco Small Business Client Root Authority 1\" is missing*"
like "lab config: lab MPP root is not Cisco's" "$OUT" \
	"*WARNING: Cisco's \"Multiplatform Phone CA Client Root\" is missing*"
is "lab config: SB root 2 present, not reported missing" \
	"$(count '(genuine Cisco root)' lab)/$(count 'Client Root Authority 2" is missing' lab)" 1/0
is "lab config: SHA-1 chains draw no hash warning" \
	"$(count 'signature: RSA-SHA1' lab)/$(count 'signed: firmware' lab)" 4/0
is "lab config: 1024-bit DH draws no warning" \
	"$(count 'DH: 1024 bits (default)' lab)/$(count 'DH group' lab)" 5/0
like "lab config: expired lab root is only INFO" "$OUT" \
	"*expires: 2015-06-30*INFO: expired on 2015-06-30: allowed*"
like "lab config: sb2k issuer named" "$OUT" \
	"*issuer CN: Cisco Small Business Provisioning Root Authority 2 (the sb2k provisioning root)*"

# --- wrong issuer: the sipura certificate on the sb2k listener ------------
write_conf
listener_set sb2k certificate "$PKI/server/sipura.crt"
listener_set sb2k key "$PKI/server/sipura.key"
run issuer -c "$CONF" check
is "sb2k with the sipura certificate: exit 3" "$RC" 3
like "sb2k with the sipura certificate: issuer error" "$OUT" \
	"*listener sb2k*ERROR: issuer CN 'Sipura Technology Provisioning Root Authority 1' is not the sb2k provisioning root*"
like "sb2k with the sipura certificate: summary" "$OUT" "*1 error, *"

# --- key of another certificate -------------------------------------------
write_conf
listener_set sb key "$PKI/server/sb2k.key"
run keymis -c "$CONF" check
is "key mismatch: exit 3" "$RC" 3
like "key mismatch: error" "$OUT" \
	"*ERROR: key $PKI/server/sb2k.key does not match the certificate $PKI/server/sb.crt*"

# --- 2048-bit DH on every listener: warned on the legacy ones only --------
LISTENER_EXTRA="dh_bits = 2048" write_conf
run dh -c "$CONF" check
is "dh_bits 2048: exit 0" "$RC" 0
is "dh_bits 2048: warned on sipura, linksys and sb" \
	"$(count 'WARNING: 2048-bit DH group: old firmware fails with DH above 1024 bits' dh)" 3
like "dh_bits 2048: sipura is one of them" "$OUT" \
	"*listener sipura*DH: 2048 bits*WARNING: 2048-bit DH group*listener linksys*"

# --- a priority that keeps the RFC 7919 groups -----------------------------
write_conf
listener_add sipura "tls_priority = NORMAL:+VERS-TLS1.0"
run ffdhe -c "$CONF" check
is "priority with FFDHE groups: exit 0" "$RC" 0
like "priority with FFDHE groups: warning" "$OUT" \
	"*listener sipura*WARNING: tls_priority keeps the RFC 7919 DH groups*listener linksys*"

# --- a priority without TLS 1.0 on an SPA listener -------------------------
write_conf
listener_add sb2k "tls_priority = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"
listener_add mpp "tls_priority = NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"
run tls10 -c "$CONF" check
is "priority without TLS 1.0: exit 0" "$RC" 0
is "priority without TLS 1.0: warned on sb2k, not on mpp" \
	"$(count 'tls_priority: NORMAL:-VERS-TLS1.0' tls10)/$(count 'WARNING: tls_priority does not enable TLS 1.0' tls10)" 2/1
like "priority without TLS 1.0: the warning is sb2k's" "$OUT" \
	"*listener sb2k*WARNING: tls_priority does not enable TLS 1.0*listener mpp*"

# --- an invalid priority string --------------------------------------------
write_conf
listener_add linksys "tls_priority = NORMAL:+NO-SUCH-THING"
run prio -c "$CONF" check
is "invalid tls_priority: exit 3" "$RC" 3
like "invalid tls_priority: error" "$OUT" \
	"*listener linksys*ERROR: tls_priority is not valid at*"

# --- a SHA-256 signed certificate on a legacy listener ---------------------
write_conf
listener_set sb certificate "$PKI/server/mpp.crt"
listener_set sb key "$PKI/server/mpp.key"
run sha256 -c "$CONF" check
like "SHA-256 on sb: warning" "$OUT" \
	"*listener sb:*WARNING: SHA-256 signed: firmware 7.5.x and older rejects it*"
like "SHA-256 on sb: the mpp issuer is an error there" "$OUT" \
	"*ERROR: issuer CN 'Cisco Multiplatform Provisioning Root Authority (lab)' is not the sb provisioning root*"

# --- server certificates with a bad CN, or expired -------------------------
selfsigned wild '*.example.com' || exit 1
selfsigned ip '10.0.0.1' || exit 1
selfsigned old 'prov.example.com' \
	'activation_date = "2010-01-01 00:00:00"
expiration_date = "2015-06-30 00:00:00"' || exit 1
selfsigned soon 'prov.example.com' 'expiration_days = 10' || exit 1
for case in wild ip old soon; do
	write_conf
	listener_set sb2k certificate "$T/$case.crt"
	listener_set sb2k key "$T/$case.key"
	run "cn-$case" -c "$CONF" check
	is "$case certificate: exit 3" "$RC" 3
	like "$case certificate: self-signed is an error" "$OUT" \
		"*ERROR: the certificate is self-signed*"
done
like "wildcard CN: error" "$(cat "$T/cn-wild.out")" \
	"*ERROR: subject CN '\*.example.com' is a wildcard*"
like "IP address CN: error" "$(cat "$T/cn-ip.out")" \
	"*ERROR: subject CN '10.0.0.1' is an IP address*"
like "expired certificate: error" "$(cat "$T/cn-old.out")" \
	"*ERROR: the certificate expired on 2015-06-30*"
like "certificate expiring in 10 days: warning" "$(cat "$T/cn-soon.out")" \
	"*expires: 20*WARNING: the certificate expires in [19]* days*"
is "good CN of the expired certificate: no CN error" \
	"$(count 'subject CN: prov.example.com' cn-old)/$(count "subject CN 'prov" cn-old)" 1/0

# --- client roots ----------------------------------------------------------
write_conf
sed -i 's/^client_cert_time_check = no/client_cert_time_check = yes/' "$CONF"
run timecheck -c "$CONF" check
is "time checks on: exit 0" "$RC" 0
like "time checks on: expired root is a warning" "$OUT" \
	"*WARNING: expired on 2015-06-30: with client_cert_time_check = yes*"

write_conf
echo "client_roots = $PKI/impostor/root.crt" >"$T/imp"
sed -i "/^client_roots = .*cisco-sb-client-root-2.pem/r $T/imp" "$CONF"
sed -i "/^client_roots = .*cisco-sb-client-root-2.pem/d" "$CONF"
run impostor -c "$CONF" check
is "impostor instead of the real root: exit 0" "$RC" 0
like "impostor: same name, different key" "$OUT" \
	"*root: Cisco Small Business Client Root Authority 2*WARNING: same name as a Cisco root but a different key*"
is "impostor: not called genuine" \
	"$(count 'root: Cisco Small Business Client Root Authority 2' impostor)/$(count 'genuine Cisco root)' impostor)" 1/0
like "impostor: the real root counts as missing" "$OUT" \
	"*WARNING: Cisco's \"Cisco Small Business Client Root Authority 2\" is missing (only a root of that name from elsewhere): SPA5xx shipped with firmware 7.5.2 or later*"

# --- JSON ------------------------------------------------------------------
write_conf
listener_set sb2k certificate "$PKI/server/sipura.crt"
listener_set sb2k key "$PKI/server/sipura.key"
"$SPAPROVCTL" -c "$CONF" check --json >"$T/json.out" 2>"$T/json.err"
is "--json with errors: exit 3" "$?" 3
check "--json: parses, counts and lists the issuer error" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["errors"] == 1 and d["warnings"] == 3, (d["errors"], d["warnings"])
sb2k = [l for l in d["listeners"] if l["name"] == "sb2k"][0]
errs = [m["text"] for m in sb2k["messages"] if m["level"] == "error"]
assert len(errs) == 1 and "is not the sb2k provisioning root" in errs[0], errs
roots = d["client_roots"]["roots"]
assert [r["cn"] for r in roots if r["genuine_cisco"]] == \
	["Cisco Small Business Client Root Authority 2"], roots
assert len(d["client_roots"]["messages"]) == 3
' "$T/json.out"

# --- the configuration itself ----------------------------------------------
run noconf -c "$T/no-such.conf" check
is "missing configuration: exit 4" "$RC" 4
like "missing configuration: says why" "$OUT" "*no-such.conf: cannot open*"
write_conf
sed -i 's/^threads = 2/threads = many/' "$CONF"
run syntax -c "$CONF" check
is "configuration with a bad value: exit 3" "$RC" 3
like "configuration with a bad value: FILE:LINE" "$OUT" "*$CONF:*: threads: *"

# --- csr -------------------------------------------------------------------
mkdir "$T/csr"
run csr csr --cn prov.example.com --out "$T/csr" --org 'Example Ltd' \
	--country de
is "csr: exit 0" "$RC" 0
like "csr: prints the paths and the next step" "$OUT" \
	"*$T/csr/prov.example.com.key*$T/csr/prov.example.com.csr*Cisco's certificate signing portal*"
is "csr: key mode 0600" "$(stat -c %a "$T/csr/prov.example.com.key" 2>&1)" 600
check "csr: the request's signature verifies" \
	openssl req -verify -noout -in "$T/csr/prov.example.com.csr"
like "csr: subject" \
	"$(openssl req -noout -subject -nameopt RFC2253 -in "$T/csr/prov.example.com.csr" 2>&1)" \
	"subject=CN=prov.example.com,O=Example Ltd,C=DE"
REQ=$(openssl req -noout -text -in "$T/csr/prov.example.com.csr" 2>&1)
like "csr: 2048 bits by default" "$REQ" "*Public-Key: (2048 bit)*"
like "csr: signed with SHA-256" "$REQ" "*sha256WithRSAEncryption*"
MOD_KEY=$(openssl rsa -noout -modulus -in "$T/csr/prov.example.com.key" 2>/dev/null)
MOD_REQ=$(openssl req -noout -modulus -in "$T/csr/prov.example.com.csr" 2>/dev/null)
like "csr: the key is the request's key" "$MOD_KEY" "Modulus=?*"
is "csr: the key is the request's key (same modulus)" "$MOD_REQ" "$MOD_KEY"

run csr1024 csr --cn prov1024.example.com --bits 1024 --out "$T/csr"
is "csr --bits 1024: exit 0" "$RC" 0
like "csr --bits 1024: 1024-bit key" \
	"$(openssl req -noout -text -in "$T/csr/prov1024.example.com.csr" 2>&1)" \
	"*Public-Key: (1024 bit)*"
like "csr --bits 1024: CN" \
	"$(openssl req -noout -subject -nameopt RFC2253 -in "$T/csr/prov1024.example.com.csr" 2>&1)" \
	"subject=CN=prov1024.example.com"

SUM=$(sha256sum "$T/csr/prov.example.com.key" 2>/dev/null)
run again csr --cn prov.example.com --out "$T/csr"
is "csr: an existing key is not overwritten: exit 3" "$RC" 3
like "csr: says so" "$OUT" "*prov.example.com.key exists: refusing to overwrite*"
is "csr: the old key is intact" \
	"$(sha256sum "$T/csr/prov.example.com.key" 2>/dev/null)" "${SUM:-no key}"

for bad in '*.example.com' 10.0.0.1 2001:db8::1 provisioning prov..example.com; do
	run bad csr --cn "$bad" --out "$T/csr"
	is "csr refuses '$bad': exit 3" "$RC" 3
done
like "csr: wildcard message" \
	"$("$SPAPROVCTL" csr --cn '*.example.com' --out "$T/csr" 2>&1)" \
	"*'\*.example.com' is a wildcard*"
like "csr: IP address message" \
	"$("$SPAPROVCTL" csr --cn 10.0.0.1 --out "$T/csr" 2>&1)" \
	"*'10.0.0.1' is an IP address*"
like "csr: no-dot message" \
	"$("$SPAPROVCTL" csr --cn provisioning --out "$T/csr" 2>&1)" \
	"*'provisioning' has no dot*"
is "csr: refused names leave no files" \
	"$(ls "$T/csr" | sort | tr '\n' ' ')" \
	"prov.example.com.csr prov.example.com.key prov1024.example.com.csr prov1024.example.com.key "
run badbits csr --cn prov2.example.com --bits 4096 --out "$T/csr"
is "csr --bits 4096: exit 3" "$RC" 3

done_testing
