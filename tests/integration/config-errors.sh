#!/bin/bash
# spaprovd refuses to start on a bad configuration, with a precise
# "FILE:LINE: KEY: reason" message and a non-zero exit.
set -u
. "$top_srcdir/tests/integration/lib.sh"


make_pki || exit 1

# refuses DESCRIPTION EXPECTED-MESSAGE-GLOB: spaprovd -t on $CONF fails so
refuses() {
	"$SPAPROVD" -t -c "$CONF" >"$T/out" 2>&1
	status=$?
	if [ $status -ne 0 ]; then
		ok "$1: refused (exit $status)"
	else
		not_ok "$1: refused"
	fi
	like "$1: message" "$(cat "$T/out")" "$2"
}
line_of() { grep -n -- "$1" "$CONF" | head -n 1 | cut -d: -f1; }

write_conf
"$SPAPROVD" -t -c "$CONF" >"$T/out" 2>&1
is "a good configuration passes -t" "$?" 0
like "and says so" "$(cat "$T/out")" "*configuration OK (5 listeners)*"

write_conf
sed -i "0,/key = .*sipura.key/s||key = $PKI/server/sb.key|" "$CONF"
refuses "key of another certificate" \
	"*spaprovd: $CONF:$(line_of "key = $PKI/server/sb.key"): key: $PKI/server/sb.key does not match the certificate $PKI/server/sipura.crt"

write_conf
sed -i "0,/certificate = .*linksys.crt/s||certificate = $PKI/phones/phones.csv|" "$CONF"
refuses "certificate file that is not PEM" \
	"*spaprovd: $CONF:$(line_of "phones.csv"): certificate: $PKI/phones/phones.csv: not a PEM certificate*"

write_conf
sed -i "0,/^port = 0/s//port = 18444/" "$CONF"
sed -i "0,/^port = 0/s//port = 18444/" "$CONF"
refuses "two listeners on one address:port" \
	"*$CONF:*: port: listener 'linksys' uses 127.0.0.1:18444 already used by listener 'sipura' (line *)"

write_conf
sed -i 's/^connection_limit = 4096/connection_limt = 4096/' "$CONF"
refuses "unknown key" "*$CONF:$(line_of '^connection_limt = 4096'): connection_limt: unknown key*"

write_conf
sed -i '0,/^ca = sb2k/s//ca = sb3k/' "$CONF"
refuses "unknown CA" "*$CONF:$(line_of '^ca = sb3k'): ca: *"

write_conf "tls_priority_typo = 1"
refuses "unknown key in [server]" "*$CONF:*: tls_priority_typo: unknown key*"

write_conf
sed -i '0,/^connection_limit = 4096/s//connection_limit = 4096\ntls_priority = NORMAL:+NO-SUCH-THING/' "$CONF"
refuses "invalid GnuTLS priority string" \
	"*$CONF:$(line_of 'NO-SUCH-THING'): tls_priority: invalid GnuTLS priority string*"

write_conf
sed -i "s|^client_roots = $PKI/client-roots.pem|client_roots = $T/missing.pem|" "$CONF"
refuses "unreadable client roots" "*$CONF:$(line_of missing.pem): client_roots: *"

write_conf
sed -i '0,/^connection_limit = 4096/s//connection_limit = 4096\ndh_bits = 1000/' "$CONF"
refuses "unsupported dh_bits" "*$CONF:$(line_of 'dh_bits = 1000'): dh_bits: *"

done_testing
