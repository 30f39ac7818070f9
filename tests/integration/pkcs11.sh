#!/bin/bash
# PKCS#11 server keys: the sb listener's key lives in a SoftHSM2 token
# (key = pkcs11:..., key_pin_file), the other listeners keep PEM keys.
# Phones resync over RSA and DHE key exchange, a client certificate is
# still asked for and the 1024-bit DH group still offered; a wrong PIN, a
# missing object and a key of another certificate stop the start with a
# clear message; a reload re-imports the key; `spaprovctl check` opens it.
set -u
. "$top_srcdir/tests/integration/lib.sh"

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -r "$SOFTHSM_MODULE" ]; then
	echo "1..0 # SKIP softhsm2 not installed"
	exit 0
fi

# --- a token holding the sb server key and a key of another certificate -----
export SOFTHSM2_CONF="$T/softhsm2.conf"
mkdir -p "$T/tokens"
cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
make_pki || exit 1
hsm() { softhsm2-util "$@" >>"$T/hsm.out" 2>&1; }
hsm --init-token --free --label spaprov --pin 1234 --so-pin 5678 &&
	openssl pkcs8 -topk8 -nocrypt -in "$PKI/server/sb.key" -out "$T/sb.p8" &&
	openssl pkcs8 -topk8 -nocrypt -in "$PKI/server/sb2k.key" -out "$T/other.p8" &&
	hsm --import "$T/sb.p8" --token spaprov --label sb-key --id 01 --pin 1234 &&
	hsm --import "$T/other.p8" --token spaprov --label other-key --id 02 \
		--pin 1234 || {
	cat "$T/hsm.out" >&2
	exit 1
}
rm -f "$T/sb.p8" "$T/other.p8"
printf '1234\n' >"$T/pin"
printf '9999\n' >"$T/wrong-pin"
chmod 600 "$T/pin" "$T/wrong-pin"

URL='pkcs11:token=spaprov;object=sb-key;type=private'
# p11_conf KEY-URL [PIN-FILE]: the lab config, sb's key on the token
p11_conf() {
	write_conf "pkcs11_module = $SOFTHSM_MODULE"
	sed -i "s|^key = $PKI/server/sb.key\$|key = $1${2:+\\nkey_pin_file = $2}|" \
		"$CONF"
}

# --- spaprovctl check and spaprovd -t -----------------------------------------
p11_conf "$URL" "$T/pin"
is "the sb listener's key is the URL" \
	"$(sed -n '/^\[listener sb\]/,/^$/p' "$CONF" | grep '^key')" \
	"key = $URL
key_pin_file = $T/pin"
"$SPAPROVCTL" -c "$CONF" check >"$T/check.txt" 2>&1
is "spaprovctl check passes on the PKCS#11 key" "$?" 0
like "and names the token, the key matching the certificate" \
	"$(sed -n '/^listener sb:/,/^$/p' "$T/check.txt")" \
	"*PKCS#11 key: $URL*token: 'spaprov' (its key matches the certificate)*"
"$SPAPROVCTL" -c "$CONF" check --json >"$T/check.json" 2>&1
like "check --json: key and key_token" \
	"$(tr -d ' \n' <"$T/check.json")" \
	*"\"key\":\"$URL\",\"key_token\":\"spaprov\""*
check "spaprovd -t accepts it" "$SPAPROVD" -c "$CONF" -t

# --- phones on the PKCS#11 key ---------------------------------------------------
"$SPAPROVCTL" -c "$CONF" profile set p - >/dev/null <<'EOF'
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_><MAC>{{mac}}</MAC></flat-profile>
EOF
for mac in 0022bd010203 0022bd010206; do
	"$SPAPROVCTL" -c "$CONF" device add "$mac" --profile p \
		--var "sip_user=u$mac" >/dev/null
done
start_daemon || exit 1
like "the log says where sb's key is" "$(cat "$T/daemon.log")" \
	'*msg="server key on a PKCS#11 token" listener=sb token="spaprov"*'
row() { sql "select $2 from resyncs where mac = '$1' order by id desc limit 1"; }
profile_of() {
	echo "<flat-profile><User_ID_1_>u$1</User_ID_1_><MAC>$1</MAC></flat-profile>"
}

phone sb 0022bd010203 legacy-rsa >"$T/body"
is "legacy-rsa (RSA key exchange: the token decrypts): 200, own profile" \
	"$(sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err") $(cat "$T/body")" \
	"200 $(profile_of 0022bd010203)"
is "ledger: AES256-SHA, phone identified by its certificate" \
	"$(row 0022bd010203 "cipher, verify, status")" \
	"TLS_RSA_WITH_AES_256_CBC_SHA|ok|200"
phone sb 0022bd010206 legacy-dhe >"$T/body"
is "legacy-dhe (the token signs the DH parameters): 200, own profile" \
	"$(sed -n 's/^status=\([0-9]*\).*/\1/p' "$T/phone.err") $(cat "$T/body")" \
	"200 $(profile_of 0022bd010206)"
like "DH group still 1024 bits (MHD_OPTION_HTTPS_MEM_DHPARAMS applied)" \
	"$(cat "$T/phone.err")" "*kx=DHE-RSA dh_bits=1024 *"
is "ledger: DHE-RSA-AES256-SHA, client certificate verified" \
	"$(row 0022bd010206 "cipher, verify, status")" \
	"TLS_DHE_RSA_WITH_AES_256_CBC_SHA|ok|200"
"$PHONE" --host 127.0.0.1 --port "$(port_of sb)" --profile legacy-rsa \
	--mac 0022bd010203 --timeout 10 --expect-status 403 \
	>/dev/null 2>"$T/anon.err"
anon_rc=$?
is "a phone without a certificate still gets no profile" \
	"$anon_rc $(sql "select outcome from resyncs order by id desc limit 1")" \
	"0 no-certificate"
phone sipura 0022bd010203 legacy-rsa >/dev/null
like "a PEM listener beside it is unaffected" "$(cat "$T/phone.err")" \
	"status=200 *"

ms_now() { echo $(($(date +%s%N) / 1000000)); }
# time_200 LABEL: 200 sequential full legacy-rsa resyncs on sb
time_200() {
	local t0 t1
	t0=$(ms_now)
	phone sb 0022bd010203 legacy-rsa --repeat 200 --out /dev/null
	TIME_RC=$?
	t1=$(ms_now)
	TIME_MS=$((t1 - t0))
}
time_200
p11_ms=$TIME_MS
is "200 sequential legacy-rsa resyncs on the PKCS#11 key" "$TIME_RC" 0

# --- reload: the key is imported again ------------------------------------------
# reload_and_wait: SIGHUP, then wait for the outcome in the log
reload_and_wait() {
	local before
	before=$(grep -c 'reloaded\|reload refused' "$T/daemon.log")
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 100); do
		[ "$(grep -c 'reloaded\|reload refused' "$T/daemon.log")" -gt \
			"$before" ] && break
		sleep 0.1
	done
	grep 'reloaded\|reload refused' "$T/daemon.log" | tail -n 1
}
like "unchanged reload: the key is opened again and the listener kept" \
	"$(reload_and_wait)" "*configuration reloaded\" listeners=5 kept=5 replaced=0*"
# PKCS#11 keeps one login per token and process: a reload cannot check
# a new PIN, it says so; spaprovctl check (a new process) does check it.
sed -i "s|^key_pin_file = $T/pin\$|key_pin_file = $T/wrong-pin|" "$CONF"
like "reload with another PIN: done, the listener kept" "$(reload_and_wait)" \
	"*configuration reloaded\" listeners=5 kept=5 replaced=0*"
like "with a warning that the PIN was not checked" "$(cat "$T/daemon.log")" \
	"*level=warn msg=\"PIN not checked: the token is logged in with another PIN,*listener=sb token=\"spaprov\"*"
"$SPAPROVCTL" -c "$CONF" check >"$T/check.txt" 2>&1
like "spaprovctl check finds the wrong PIN (exit 3)" \
	"$? $(cat "$T/check.txt")" \
	"3 *ERROR: key: wrong PIN for token 'spaprov' (from $T/wrong-pin)*"
phone sb 0022bd010203 legacy-rsa >/dev/null
like "and the running key keeps serving" "$(cat "$T/phone.err")" "status=200 *"
sed -i "s|^key = $URL\$|key = $PKI/server/sb.key|; /^key_pin_file/d" "$CONF"
like "reload to the PEM key replaces sb only" "$(reload_and_wait)" \
	"*configuration reloaded\" listeners=5 kept=4 replaced=1*"
phone sb 0022bd010203 legacy-rsa >/dev/null
like "the PEM key serves" "$(cat "$T/phone.err")" "status=200 *"
time_200
pem_ms=$TIME_MS
is "200 sequential legacy-rsa resyncs on the PEM key" "$TIME_RC" 0
diag "200 sequential legacy-rsa resyncs on sb: PEM key ${pem_ms} ms," \
	"PKCS#11 key (SoftHSM2) ${p11_ms} ms"
sed -i "s|^key = $PKI/server/sb.key\$|key = $URL\\nkey_pin_file = $T/pin|" \
	"$CONF"
like "reload back to the token replaces sb again" "$(reload_and_wait)" \
	"*configuration reloaded\" listeners=5 kept=4 replaced=1*"
phone sb 0022bd010206 legacy-dhe >/dev/null
like "the re-imported key serves" "$(cat "$T/phone.err")" "status=200 *"
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
if grep -Eiq "pin[^0-9]{0,20}(1234|9999)" "$T/daemon.log"; then
	not_ok "the PIN appears nowhere in the log"
else
	ok "the PIN appears nowhere in the log"
fi

# --- a start that must fail ---------------------------------------------------------
# refused DESCRIPTION GLOB: spaprovd refuses $CONF with a message like GLOB
refused() {
	timeout 30 "$SPAPROVD" -c "$CONF" >"$T/out" 2>&1
	local rc=$?
	like "$1" "$rc $(cat "$T/out")" "1 *$2*"
}
p11_conf "$URL" "$T/wrong-pin"
line=$(grep -n "^key = $URL" "$CONF" | cut -d: -f1)
refused "wrong PIN: refuses to start, FILE:LINE: key: reason" \
	"spaprovd: $CONF:$line: key: wrong PIN for token 'spaprov' (from $T/wrong-pin)"
p11_conf "pkcs11:token=spaprov;object=sb-key;type=private;pin-value=4321"
refused "wrong pin-value: refused, and the PIN is not shown" \
	"key: wrong PIN for token 'spaprov' (from the URL's pin-value)"
like "(not in the message)" "$(grep -c 4321 "$T/out")" 0
p11_conf 'pkcs11:token=spaprov;object=other-key;type=private' "$T/pin"
refused "a key of another certificate: mismatch" \
	"$CONF:$line: key: mismatch: the key in token 'spaprov', object 'other-key' is not the one the certificate $PKI/server/sb.crt certifies"
"$SPAPROVCTL" -c "$CONF" check >"$T/check.txt" 2>&1
like "spaprovctl check reports the mismatch (exit 3)" \
	"$? $(cat "$T/check.txt")" "3 *ERROR: key: mismatch: *other-key*"
p11_conf 'pkcs11:token=spaprov;object=no-such-key;type=private' "$T/pin"
refused "no such object" \
	"key: no such object: no private key in token 'spaprov', object 'no-such-key'"
p11_conf 'pkcs11:token=elsewhere;object=sb-key;type=private' "$T/pin"
refused "token not found, with the tokens there are" \
	"key: token not found: no PKCS#11 token matches the URL's token 'elsewhere', object 'sb-key' (tokens seen: 'spaprov')"
p11_conf "$URL"
refused "no PIN at all" "key: token 'spaprov' needs a PIN: set key_pin_file"
p11_conf 'pkcs11:token=spaprov;object=sb-key;type=cert' "$T/pin"
refused "an URL naming a certificate" \
	"key: the URL names a type=cert object: the key must be type=private"
write_conf "pkcs11_module = $SOFTHSM_MODULE"
sed -i "s|^key = $PKI/server/sb.key\$|&\\nkey_pin_file = $T/pin|" "$CONF"
refused "key_pin_file with a PEM key: configuration error" \
	"key_pin_file: only for a PKCS#11 key (key = pkcs11:...)"

# --- GnuTLS's p11-kit modules when pkcs11_module is not set --------------------------
if grep -qs 'softhsm' /usr/share/p11-kit/modules/*.module; then
	p11_conf "$URL" "$T/pin"
	sed -i '/^pkcs11_module = /d' "$CONF"
	check "without pkcs11_module, p11-kit's registered modules are used" \
		"$SPAPROVD" -c "$CONF" -t
else
	ok "# SKIP softhsm2 is not a registered p11-kit module"
fi

# --- -d: the key still works in the forked daemon --------------------------------------
p11_conf "$URL" "$T/pin"
rm -f "$T/ports"
"$SPAPROVD" -c "$CONF" -d --pidfile "$T/pid" --ports-file "$T/ports" \
	>"$T/out" 2>&1
for _ in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.1; done
phone sb 0022bd010206 legacy-dhe >/dev/null
like "detached with -d (after fork): 200 over DHE" "$(cat "$T/phone.err")" \
	"status=200 *"
[ -s "$T/pid" ] && kill "$(cat "$T/pid")"
for _ in $(seq 100); do [ -e "$T/pid" ] || break; sleep 0.1; done

# --- after the privilege drop -----------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	mkdir -p "$T/var"
	chown nobody "$T/var"
	DB="$T/var/spaprov.db"
	p11_conf "$URL" "$T/pin"
	sed -i '/^run_as_root = yes/d; s/^\[server\]$/&\nuser = nobody\ngroup = nogroup/' \
		"$CONF"
	chmod 0777 "$T"
	chmod -R a+rX "$PKI"
	chmod 0700 "$T/tokens"
	refused "a token the service user cannot use: refused after the drop" \
		"key: the key in token 'spaprov' does not work for this process (uid $(id -u nobody))"
	chmod -R a+rX "$T/tokens"
	"$SPAPROVCTL" -c "$CONF" profile set p - >/dev/null <<'EOF'
<flat-profile><User_ID_1_>{{sip_user}}</User_ID_1_><MAC>{{mac}}</MAC></flat-profile>
EOF
	"$SPAPROVCTL" -c "$CONF" device add 0022bd010203 --profile p \
		--var sip_user=u0022bd010203 >/dev/null
	chown nobody "$DB"
	start_daemon || exit 1
	phone sb 0022bd010203 legacy-rsa >"$T/body"
	is "once nobody may read the token: serves as nobody" \
		"$(ps -o user= -p "$DAEMON_PID" | tr -d ' ') $(head -c 10 "$T/phone.err") $(cat "$T/body")" \
		"nobody status=200 $(profile_of 0022bd010203)"
	stop_daemon
else
	ok "# SKIP privilege drop needs root and user nobody"
	ok "# SKIP privilege drop needs root and user nobody"
fi

done_testing
