#!/bin/sh
# Run spaprovd from the build tree on a working demo: a lab PKI made by
# `spaprovctl lab-pki`, an SQLite file, a demo profile, demo phones and four
# listeners on 127.0.0.1:8441-8444.  Everything lives in ./demo (or $1).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/demo}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/spaprov.conf"
ctl() { "$top/spaprovctl" -c "$conf" "$@"; }

if [ ! -f "$dir/pki/client-roots.pem" ]; then
	"$top/spaprovctl" lab-pki "$dir/pki" \
		--cisco-root "$top/ca/cisco-sb-client-root-2.pem"
fi

cat >"$conf" <<CONF
; spaprov demo configuration (written by contrib/demo.sh)
[server]
database = $dir/spaprov.db
client_roots = $dir/pki/client-roots.pem
client_roots = $top/ca/cisco-sb-client-root-2.pem
client_cert_time_check = no
unknown_devices = record
; the demo runs from the build tree as whoever starts it, root included;
; a real installation sets user and group instead
run_as_root = yes
CONF
port=8441
for ca in sipura linksys sb sb2k; do
	cat >>"$conf" <<CONF

[listener $ca]
ca = $ca
address = 127.0.0.1
port = $port
certificate = $dir/pki/server/$ca.crt
key = $dir/pki/server/$ca.key
dh_bits = 1024
CONF
	port=$((port + 1))
done

if [ ! -f "$dir/spaprov.db" ]; then
	ctl profile set demo "$top/contrib/demo-profile.xml"
	n=1001
	# every lab phone but 0022bd010207, which stays unknown to show how
	# an unregistered phone is recorded as pending
	for mac in 0022bd010201 0022bd010202 0022bd010203 0022bd010204 \
		0022bd010205 0022bd010206 0022bd010208; do
		ctl device add "$mac" --profile demo \
			--description "demo phone $n" \
			--var station_name="Demo $n" --var sip_user=$n \
			--var sip_password="demo-secret-$n"
		n=$((n + 1))
	done
fi

cat <<MSG

spaprov demo: four listeners on 127.0.0.1:8441-8444 (sipura, linksys, sb, sb2k)
Resync demo phone 0022bd010205 (a CP-8841-3PCC) on the sb2k listener:

  curl --resolve prov.spaprov.test:8444:127.0.0.1 --ciphers 'DEFAULT:@SECLEVEL=0' \\
    --cacert $dir/pki/provisioning/sb2k-root.crt \\
    --cert $dir/pki/phones/0022bd010205.crt --key $dir/pki/phones/0022bd010205.key \\
    -A 'Cisco-CP-8841-3PCC/11.0 (0022bd010205)' \\
    https://prov.spaprov.test:8444/spa0022bd010205.xml

Then read the history:

  sqlite3 $dir/spaprov.db "select * from resync_history"

(SECLEVEL=0 lets curl's OpenSSL accept the SHA-1 signed server certificate
that legacy firmware needs.)  Stop the server with Ctrl-C.

MSG
exec "$top/spaprovd" -c "$conf"
