#!/bin/bash
# make install into a DESTDIR puts everything in its place, and the
# installed daemon runs from there on the installed sample configuration.
set -u
. "$top_srcdir/tests/integration/lib.sh"

ROOT="$T/root"
make -s -C "$top_builddir" install DESTDIR="$ROOT" >"$T/install.out" 2>&1
is "make install DESTDIR=... succeeds" "$?" 0 || diag "$(tail -n 20 "$T/install.out")"

find_one() { find "$ROOT" -path "*$1" -type f | head -n 1; }
for f in /sbin/spaprovd /bin/spaprovctl /man8/spaprovd.8 /man8/spaprovctl.8 \
	/man5/spaprov.conf.5 /spaprov/spaprov.conf.sample \
	/spaprov/client-roots.pem /spaprov/cisco-sb-client-root-2.pem \
	/spaprov/schema/0001-init.sql /systemd/system/spaprovd.service; do
	if [ -n "$(find_one "$f")" ]; then
		ok "installed: $f"
	else
		not_ok "installed: $f"
	fi
done

unit=$(find_one /systemd/system/spaprovd.service)
sbin=$(dirname "$(find_one /sbin/spaprovd)")
like "the unit starts the installed daemon in the foreground" \
	"$(grep '^ExecStart=' "$unit")" "ExecStart=${sbin#$ROOT}/spaprovd -c */spaprov/spaprov.conf"
is "the unit is Type=notify" "$(grep '^Type=' "$unit")" "Type=notify"
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$unit" >"$T/verify.out" 2>&1
	if grep -q 'spaprovd.service:.*\(Unknown\|Invalid\|Failed\)' "$T/verify.out"; then
		not_ok "systemd-analyze accepts the unit"
		diag "$(cat "$T/verify.out")"
	else
		ok "systemd-analyze accepts the unit"
	fi
else
	ok "# SKIP systemd-analyze not installed"
fi
man -l "$(find_one /man8/spaprovctl.8)" >/dev/null 2>"$T/man.err"
is "the man pages format without warnings" "$(cat "$T/man.err")" ""

# The installed sample configuration, pointed at a lab PKI on loopback,
# is accepted by the installed daemon.
make_pki || exit 1
sample=$(find_one /spaprov/spaprov.conf.sample)
sed -e "s|^database = .*|database = $DB|" \
	-e "s|^client_roots = .*|client_roots = $PKI/client-roots.pem|" \
	-e "s|^address = .*|address = 127.0.0.1|" -e "s|^port = 443|port = 0|" \
	-e "s|/etc/spaprov/\([a-z0-9]*\)\.crt|$PKI/server/\1.crt|" \
	-e "s|/etc/spaprov/\([a-z0-9]*\)\.key|$PKI/server/\1.key|" \
	"$sample" >"$CONF"
"$sbin/spaprovd" -t -c "$CONF" >"$T/t.out" 2>&1
is "the installed spaprovd accepts the sample configuration" "$?" 0 ||
	diag "$(cat "$T/t.out")"
# the sample runs as user spaprov, which this machine need not have
sed -i -e '/^user = /d' -e '/^group = /d' \
	-e 's/^\[server\]$/[server]\nrun_as_root = yes/' "$CONF"
SPAPROVD="$sbin/spaprovd"
start_daemon || exit 1
"$(dirname "$sbin")/bin/spaprovctl" -c "$CONF" device add 0022bd010203 \
	>/dev/null 2>&1
phone sb 0022bd010203 legacy-rsa --expect-status 404 >/dev/null
like "the installed daemon serves a phone" "$(cat "$T/phone.err")" "status=404 *"
stop_daemon
is "and stops cleanly" "$DAEMON_STATUS" 0

done_testing
