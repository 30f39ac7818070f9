#!/bin/bash
# TLS session resumption: session IDs (legacy listeners, TLS 1.0 phones
# without extensions), tickets (mpp, TLS 1.2 and 1.3).  A resumed session
# must still identify its phone, must never hand one phone another's
# profile, must not cross listeners; sessions without a trusted client
# chain (none, untrusted, SSLv2-format hello) are not cached; the cache
# can be turned off; sessions expire.  Last, a timing of 200 sequential
# resyncs with and without resumption (diagnostics only).
set -u
. "$top_srcdir/tests/integration/lib.sh"

plan 52

bail() { echo "Bail out! $*"; exit 1; }
make_pki || bail "spaprovctl lab-pki failed"
write_conf
start_daemon || bail "spaprovd did not start"

"$SPAPROVCTL" -c "$CONF" profile set resume - >/dev/null <<'EOF' ||
<flat-profile>
  <Station_Name>{{station}}</Station_Name>
  <!-- {{mac}} -->
</flat-profile>
EOF
	bail "profile set failed"
PHONES="0022bd010201 0022bd010203 0022bd010205 0022bd010208"
for m in $PHONES; do
	"$SPAPROVCTL" -c "$CONF" device add "$m" --profile resume \
		--var "station=desk-$m" >/dev/null || bail "device add $m failed"
done

# profile_of MAC: the body that phone must get
profile_of() {
	printf '<flat-profile>\n  <Station_Name>desk-%s</Station_Name>\n  <!-- %s -->\n</flat-profile>\n' "$1" "$1"
}
# profile_of_n MAC N: N copies (one per request of a --repeat run)
profile_of_n() {
	for _ in $(seq "$2"); do profile_of "$1"; done
}
# resumed: the resumed= flags of the last phone run, "0 1 1"
resumed() {
	sed -n 's/^status=.* resumed=\([01]\) .*/\1/p' "$T/phone.err" |
		paste -sd ' '
}
statuses() {
	sed -n 's/^status=\([0-9]*\) .*/\1/p' "$T/phone.err" | paste -sd ' '
}
last_id() { sql "select coalesce(max(id), 0) from resyncs"; }
# rows_since ID: "mac:outcome:tls_resumed" of the rows after ID, in order
rows_since() {
	sql "select group_concat(r, ' ') from (select coalesce(mac, '-') ||
	     ':' || outcome || ':' || tls_resumed as r from resyncs
	     where id > $1 order by id)"
}
# emu LISTENER MAC PROFILE [options]: phone() with the phone's own
# User-Agent, bodies to $T/body
emu() {
	phone "$1" "$2" "$3" --user-agent "$(ua_of "$2")" "${@:4}" >"$T/body"
}
failed_since() { [ "$TAP_FAILED" -ne "$1" ]; }

# --- (a) five resyncs, requests 2..5 resumed, each with its own profile --
# sipura: SPA-962 (MD5-signed chain, v1 root) with DHE; sb2k: SPA504G with
# RSA (both: session IDs, no extensions); mpp: tickets, TLS 1.2 and 1.3.
for spec in sipura:0022bd010201:legacy-dhe: sb2k:0022bd010203:legacy-rsa: \
	mpp:0022bd010205:modern: mpp:0022bd010205:modern:NORMAL; do
	IFS=: read -r lst m prof prio <<<"$spec"
	what="$prof${prio:+ (priority $prio)} on $lst"
	before=$(last_id)
	mark=$TAP_FAILED
	emu "$lst" "$m" "$prof" --repeat 5 --resume ${prio:+--priority "$prio"}
	is "$what: 5 resyncs, 200 each" "$? $(statuses)" "0 200 200 200 200 200"
	is "$what: requests 2 to 5 resumed" "$(resumed)" "0 1 1 1 1"
	is "$what: each got $m's own profile" "$(cat "$T/body")" \
		"$(profile_of_n "$m" 5)"
	is "$what: rows name the phone, tls_resumed 0 then 1" \
		"$(rows_since "$before")" \
		"$m:ok:0 $m:ok:1 $m:ok:1 $m:ok:1 $m:ok:1"
	failed_since "$mark" && diag "$(cat "$T/phone.err")"
done
like "TLS 1.3 run was TLS 1.3" "$(cat "$T/phone.err")" "*tls=TLS1.3 *"

# --- (b) two phones alternating, each resuming its own session ----------
before=$(last_id)
out=
for round in 1 2 3; do
	for m in 0022bd010203 0022bd010208; do
		emu sb2k "$m" legacy-rsa --session-file "$T/sess-$m"
		out="$out $round:$(resumed):$(grep -c "desk-$m" "$T/body")"
	done
done
is "alternating phones: each resumes its own session from round 2" \
	"$out" " 1:0:1 1:0:1 2:1:1 2:1:1 3:1:1 3:1:1"
is "alternating phones: rows name the right phone" "$(rows_since "$before")" \
	"$(printf '%s ' 0022bd010203:ok:0 0022bd010208:ok:0 \
		0022bd010203:ok:1 0022bd010208:ok:1 \
		0022bd010203:ok:1 0022bd010208:ok:1 | sed 's/ $//')"

# --- (c) sessions without a trusted client chain are not cached ---------
"$PHONE" --host 127.0.0.1 --port "$(port_of sb2k)" --profile legacy-rsa \
	--ca "$PKI/provisioning/sb2k-root.crt" --server-name prov.spaprov.test \
	--repeat 2 --resume --expect-status 403 >/dev/null 2>"$T/phone.err"
is "no client certificate: 403 twice, never resumed" \
	"$? $(statuses) $(resumed)" "0 403 403 0 0"
"$PHONE" --host 127.0.0.1 --port "$(port_of sb2k)" --profile legacy-rsa \
	--cert "$PKI/impostor/phone.crt" --key "$PKI/impostor/phone.key" \
	--ca "$PKI/provisioning/sb2k-root.crt" --server-name prov.spaprov.test \
	--repeat 2 --resume --expect-status 403 >/dev/null 2>"$T/phone.err"
is "untrusted (impostor) certificate: 403 twice, never resumed" \
	"$? $(statuses) $(resumed)" "0 403 403 0 0"

# SSLv2-format hello on the linksys listener (used by nothing else until
# the stop): GnuTLS keeps no chain for it, so it must not be cached.
if /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
	m=0022bd010201
	timeout 30 /usr/bin/python3 "$top_srcdir/tests/sslv2-client.py" \
		--host 127.0.0.1 --port "$(port_of linksys)" \
		--cert "$PKI/phones/$m.crt" --key "$PKI/phones/$m.key" \
		--ca "$PKI/provisioning/linksys-root.crt" \
		--server-name prov.spaprov.test --mac "$m" \
		--user-agent "$(ua_of $m)" --timeout 10 \
		>"$T/sslv2.body" 2>"$T/sslv2.err"
	is "SSLv2-format hello: 200 with $m's profile" \
		"$? $(cat "$T/sslv2.body")" "0 $(profile_of $m)"
	V2_DONE=1
else
	ok "# SKIP /usr/bin/python3 without python3-cryptography"
	V2_DONE=0
fi
emu linksys 0022bd010201 legacy-rsa --repeat 2 --resume
is "then a TLS phone on that listener resumes" "$(statuses) $(resumed)" \
	"200 200 0 1"

# --- (d) another phone with a phone's session data ----------------------
# Phone 0208, with its own certificate and path, presents the session data
# (session ID or ticket, and master secret) saved by 0203 or 0205.  Whether
# or not TLS resumes, it must get its own profile or a 403, never theirs.
# impostor_run LISTENER VICTIM SESSION-FILE PROFILE [phone-emu options]
impostor_run() {
	i_lst=$1 victim=$2 sfile=$3
	shift 3
	i_prof="$*"
	cp "$sfile" "$T/stolen"
	before=$(last_id)
	emu "$i_lst" 0022bd010208 "$@" --session-file "$T/stolen" \
		--expect-status 403
	i_status=$(statuses)
	i_resumed=$(resumed)
	if [ "$i_status" = 403 ] ||
		{ [ "$i_status" = 200 ] &&
		  [ "$(cat "$T/body")" = "$(profile_of 0022bd010208)" ]; }; then
		ok "$i_lst $i_prof: 0208 with $victim's session: $i_status" \
			"(resumed=$i_resumed), not $victim's profile"
	else
		not_ok "$i_lst $i_prof: 0208 with $victim's session got" \
			"$i_status"
		diag "$(cat "$T/phone.err")" "$(cat "$T/body")"
	fi
	if grep -q "desk-$victim" "$T/body"; then
		not_ok "$i_prof: $victim's profile leaked to 0208"
	else
		ok "$i_prof: nothing of $victim's profile in the answer"
	fi
	# resumed: TLS speaks for the session's certificate; the request for
	# 0208's own file is then a spoof of it
	if [ "$i_resumed" = 1 ]; then
		is "$i_prof: resumed, so refused as a spoof of $victim" \
			"$(sql "select mac || ' ' || outcome || ' ' || tls_resumed
				|| ' ' || detail from resyncs where id > $before")" \
			"$victim spoof 1 path names 0022bd010208, certificate $victim"
	else
		is "$i_prof: not resumed, served as itself" \
			"$(rows_since "$before")" "0022bd010208:ok:0"
	fi
}
emu sb2k 0022bd010203 legacy-rsa --session-file "$T/s-0203"
is "0203 saved its sb2k session" "$(statuses) $([ -s "$T/s-0203" ] && echo saved)" \
	"200 saved"
impostor_run sb2k 0022bd010203 "$T/s-0203" legacy-rsa
emu mpp 0022bd010205 modern --session-file "$T/s-0205"
is "0205 saved its mpp ticket session" "$(statuses) $([ -s "$T/s-0205" ] && echo saved)" \
	"200 saved"
impostor_run mpp 0022bd010205 "$T/s-0205" modern
emu mpp 0022bd010205 modern --priority NORMAL --session-file "$T/s-0205-13"
impostor_run mpp 0022bd010205 "$T/s-0205-13" modern --priority NORMAL

# --- (e) sessions do not cross listeners --------------------------------
cp "$T/s-0203" "$T/s-x"
before=$(last_id)
emu sb 0022bd010203 legacy-rsa --session-file "$T/s-x"
is "sb2k session ID presented on sb: full handshake, own profile" \
	"$(statuses) $(resumed) $(cat "$T/body")" "200 0 $(profile_of 0022bd010203)"
cp "$T/s-0205" "$T/s-x"
emu sb2k 0022bd010205 modern --session-file "$T/s-x"
is "mpp ticket presented on sb2k: full handshake, own profile" \
	"$(statuses) $(resumed) $(cat "$T/body")" "200 0 $(profile_of 0022bd010205)"
is "ledger: neither resumed" "$(rows_since "$before")" \
	"0022bd010203:ok:0 0022bd010205:ok:0"

# --- (f) an unchanged reload keeps the listeners and their sessions -----
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do
	grep -q 'configuration reloaded' "$T/daemon.log" && break
	sleep 0.1
done
like "reload kept every listener" "$(cat "$T/daemon.log")" \
	"*configuration reloaded\" listeners=5 kept=5 replaced=0*"
emu sb2k 0022bd010203 legacy-rsa --session-file "$T/sess-0022bd010203"
is "session ID still resumes after the reload" "$(statuses) $(resumed)" "200 1"
emu mpp 0022bd010205 modern --session-file "$T/s-0205"
is "ticket still resumes after the reload" "$(statuses) $(resumed)" "200 1"

# --- (g) 200 sequential resyncs, full handshakes vs resumed --------------
ms_now() { echo $(($(date +%s%N) / 1000000)); }
for spec in sb2k:0022bd010203:legacy-rsa mpp:0022bd010205:modern; do
	IFS=: read -r lst m prof <<<"$spec"
	t0=$(ms_now)
	emu "$lst" "$m" "$prof" --repeat 200
	full_rc=$? full_n=$(resumed | tr -cd 1 | wc -c)
	t1=$(ms_now)
	emu "$lst" "$m" "$prof" --repeat 200 --resume
	res_rc=$? res_n=$(resumed | tr -cd 1 | wc -c)
	t2=$(ms_now)
	is "$prof on $lst: 200 resyncs twice, 0 then 199 resumed" \
		"$full_rc $full_n $res_rc $res_n" "0 0 0 199"
	full=$((t1 - t0)) res=$((t2 - t1))
	diag "$prof on $lst, 200 sequential resyncs: full handshakes $full ms, resumed $res ms ($(awk -v a="$full" -v b="$res" 'BEGIN { printf "%.1fx", b ? a / b : 0 }') faster)"
done

stop_daemon
is "spaprovd stopped cleanly" "$DAEMON_STATUS" 0
if [ "$V2_DONE" = 1 ]; then
	like "linksys cache: only the TLS phone's session was stored" \
		"$(grep 'TLS session cache" listener=linksys ' "$T/daemon.log")" \
		"* entries=1 * stored=1 *"
else
	ok "# SKIP no SSLv2-format hello was sent"
fi
like "mpp: tickets, nothing in the session cache" \
	"$(grep 'TLS session cache" listener=mpp ' "$T/daemon.log")" \
	"* entries=0 * stored=0 *"

# --- (h) the cache off: no resumption at all ----------------------------
LISTENER_EXTRA="tls_session_cache = 0" write_conf
start_daemon || bail "spaprovd did not start without a session cache"
before=$(last_id)
emu sb2k 0022bd010203 legacy-rsa --repeat 3 --resume
is "tls_session_cache = 0: session IDs not resumed" \
	"$(statuses) $(resumed)" "200 200 200 0 0 0"
emu mpp 0022bd010205 modern --repeat 3 --resume
is "tls_session_cache = 0: no tickets either" \
	"$(statuses) $(resumed)" "200 200 200 0 0 0"
is "ledger: tls_resumed 0 everywhere" \
	"$(sql "select count(*), sum(tls_resumed) from resyncs where id > $before")" \
	"6|0"
stop_daemon
is "stopped cleanly" "$DAEMON_STATUS" 0

# --- (i) sessions expire after tls_session_lifetime ---------------------
LISTENER_EXTRA="tls_session_lifetime = 2" write_conf
start_daemon || bail "spaprovd did not start with a 2 s lifetime"
for spec in sb2k:0022bd010203:legacy-rsa mpp:0022bd010205:modern; do
	IFS=: read -r lst m prof <<<"$spec"
	rm -f "$T/s-life"
	emu "$lst" "$m" "$prof" --session-file "$T/s-life"
	a=$(resumed)
	emu "$lst" "$m" "$prof" --session-file "$T/s-life"
	b=$(resumed)
	sleep 3
	emu "$lst" "$m" "$prof" --session-file "$T/s-life"
	c=$(resumed)
	is "$prof on $lst, lifetime 2 s: full, resumed, expired after 3 s" \
		"$a $b $c $(statuses)" "0 1 0 200"
done
stop_daemon
is "stopped cleanly" "$DAEMON_STATUS" 0

done_testing
