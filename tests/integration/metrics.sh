#!/bin/bash
# Observability on the admin listener: GET /healthz and GET /metrics
# (no login), checked against what the test did and against the ledger:
# resyncs with known outcomes counted exactly, the latency histogram
# counts every request, failed handshakes by reason, the certificate
# expiry gauge, counters that survive a reload, /healthz turning 503
# while another process holds the database's write lock, the output
# parsed as Prometheus text.  Then login throttling failing closed when
# the database cannot read or record login failures.  Never asserts a
# duration.
set -u
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

bail() { echo "Bail out! $*"; exit 1; }

ADMIN_PASS='metrics admin password'
make_pki || bail "spaprovctl lab-pki failed"
write_conf
cat >>"$CONF" <<EOF

[admin]
address = 127.0.0.1
port = 0
assets = $top_srcdir/web-admin/static
EOF
T0=$(date +%s)
start_daemon || bail "spaprovd did not start"
BASE="http://127.0.0.1:$(port_of admin)"

code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 20 "$@"; }
scrape() { curl -s --max-time 20 -o "$T/metrics.txt" "$BASE/metrics"; }

# The Prometheus text in $T/metrics.txt: `prom check` validates it,
# `prom get NAME [label=value...]` sums the samples of NAME that carry
# those labels ("none" when there is no such sample).
cat >"$T/prom.py" <<'EOF'
import math, re, sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
                    r' ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

def parse(path):
    types, samples, errors = {}, [], []
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.startswith('# HELP '):
            continue
        if line.startswith('# TYPE '):
            parts = line.split(' ')
            if len(parts) != 4 or parts[3] not in (
                    'counter', 'gauge', 'histogram', 'summary', 'untyped'):
                errors.append('%d: bad TYPE line: %s' % (n, line))
            elif parts[2] in types:
                errors.append('%d: second TYPE for %s' % (n, parts[2]))
            types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not m:
            errors.append('%d: not a sample: %r' % (n, line))
            continue
        labels = dict(LABEL.findall(m.group(2) or ''))
        samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples, errors

def family(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == 'histogram':
            return base
    return name

def check(path):
    types, samples, errors = parse(path)
    for name, labels, value in samples:
        if family(name, types) not in types:
            errors.append('no TYPE for %s' % name)
    # histograms: cumulative buckets, +Inf bucket == _count
    for base in [b for b, t in types.items() if t == 'histogram']:
        series = {}
        for name, labels, value in samples:
            if name == base + '_bucket':
                key = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
                le = math.inf if labels['le'] == '+Inf' else float(labels['le'])
                series.setdefault(key, []).append((le, value))
        for key, buckets in series.items():
            values = [v for le, v in sorted(buckets)]
            if values != sorted(values):
                errors.append('%s%s: buckets not cumulative' % (base, key))
            count = [v for name, labels, v in samples
                     if name == base + '_count' and
                     tuple(sorted(labels.items())) == key]
            if sorted(buckets)[-1][0] != math.inf or count != [values[-1]]:
                errors.append('%s%s: +Inf bucket != _count' % (base, key))
    for e in errors:
        print(e)
    return 1 if errors or not samples else 0

def get(path, name, wanted):
    want = dict(w.split('=', 1) for w in wanted)
    found = [v for n, labels, v in parse(path)[1]
             if n == name and all(labels.get(k) == x for k, x in want.items())]
    if not found:
        print('none')
    else:
        total = sum(found)
        print(int(total) if total == int(total) else total)
    return 0

if sys.argv[1] == 'check':
    sys.exit(check(sys.argv[2]))
sys.exit(get(sys.argv[2], sys.argv[3], sys.argv[4:]))
EOF
prom() {
	if [ "$1" = check ]; then
		python3 "$T/prom.py" check "$T/metrics.txt"
	else
		shift
		python3 "$T/prom.py" get "$T/metrics.txt" "$@"
	fi
}

# --- /healthz ------------------------------------------------------------
is "GET /healthz without logging in: 200" "$(code "$BASE/healthz")" 200
is "... ok, database writable, five listeners" "$(cat "$T/body")" \
	'{"status":"ok","database":"writable","listeners":5}'
hdrs=$(curl -s -D - -o /dev/null "$BASE/healthz")
like "... JSON, not cached" "$hdrs" \
	"*Content-Type: application/json*Cache-Control: no-store*"
is "POST /healthz: 405" "$(code -X POST "$BASE/healthz")" 405
is "HEAD /healthz: 200" "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/healthz")" 200

# --- resyncs with known outcomes ------------------------------------------
"$SPAPROVCTL" -c "$CONF" profile set desk - >/dev/null <<'EOF' ||
<flat-profile>
  <Station_Name>{{mac}}</Station_Name>
  <Profile_Rule>https://prov.spaprov.test/spa$MA.xml</Profile_Rule>
</flat-profile>
EOF
	bail "profile set failed"
for m in 0022bd010205 0022bd010208; do
	"$SPAPROVCTL" -c "$CONF" device add $m --profile desk >/dev/null ||
		bail "device add $m failed"
done
emu() { # emu LISTENER MAC PROFILE [options]: the phone's own UA
	phone "$1" "$2" "$3" --user-agent "$(ua_of "$2")" "${@:4}" >/dev/null
}
emu mpp 0022bd010205 modern --repeat 3
is "mpp: three resyncs, 200" "$?" 0
emu sb 0022bd010203 legacy-rsa --expect-status 404
is "sb: an unknown phone, 404 (recorded as pending)" "$?" 0
emu sb 0022bd010203 legacy-rsa --expect-status 403
is "sb: the same phone again, 403 pending approval" "$?" 0
emu sb 0022bd010208 legacy-rsa --path /spa001122334455.xml --expect-status 403
is "sb: another phone's MAC in the path, 403 spoof" "$?" 0
emu sb 0022bd010208 legacy-rsa --repeat 3 --session-file "$T/sb.session"
is "sb: three resyncs, 200, the second and third resumed" \
	"$? $(grep -c 'resumed=1' "$T/phone.err")" "0 2"

scrape
is "GET /metrics without logging in: 200" "$(code "$BASE/metrics")" 200
like "... Content-Type: the text format 0.0.4" \
	"$(curl -s -D - -o /dev/null "$BASE/metrics")" \
	"*Content-Type: text/plain; version=0.0.4; charset=utf-8*"
check "... parses as Prometheus text" prom check
is "spaprov_up 1" "$(prom get spaprov_up)" 1
started=$(prom get process_start_time_seconds)
is "process_start_time_seconds: when this test started the daemon" \
	"$([ "$started" -ge "$T0" ] && [ "$started" -le "$(date +%s)" ] && echo yes)" yes
is "resyncs: mpp ok/200 = 3" "$(prom get spaprov_resyncs_total \
	listener=mpp ca=mpp status=200 outcome=ok)" 3
is "resyncs: sb ok/200 = 3" "$(prom get spaprov_resyncs_total \
	listener=sb ca=sb status=200 outcome=ok)" 3
is "resyncs: sb unknown-device/404 = 1" "$(prom get spaprov_resyncs_total \
	listener=sb status=404 outcome=unknown-device)" 1
is "resyncs: sb pending-approval/403 = 1" "$(prom get spaprov_resyncs_total \
	listener=sb status=403 outcome=pending-approval)" 1
is "resyncs: sb spoof/403 = 1" "$(prom get spaprov_resyncs_total \
	listener=sb status=403 outcome=spoof)" 1
is "resyncs: nothing else (9 in all)" "$(prom get spaprov_resyncs_total)" 9
is "resyncs on the other listeners: none" \
	"$(prom get spaprov_resyncs_total listener=sipura)" none
is "... the ledger agrees, outcome by outcome" \
	"$(sql "select listener || ':' || status || ':' || outcome || ':' ||
		count(*) from resyncs group by listener, status, outcome
		order by 1" | tr '\n' ' ')" \
	"$(for k in mpp:200:ok sb:200:ok sb:403:pending-approval sb:403:spoof \
		sb:404:unknown-device; do
		IFS=: read -r l s o <<<"$k"
		printf '%s ' "$k:$(prom get spaprov_resyncs_total listener=$l \
			status=$s outcome=$o)"
	done)"
is "histogram: mpp counts its 3 requests" \
	"$(prom get spaprov_request_duration_seconds_count listener=mpp)" 3
is "histogram: sb counts its 6 requests" \
	"$(prom get spaprov_request_duration_seconds_count listener=sb)" 6
is "histogram: the +Inf bucket of sb too" \
	"$(prom get spaprov_request_duration_seconds_bucket listener=sb le=+Inf)" 6
is "TLS session cache: sb's two resumptions are hits" \
	"$(prom get spaprov_tls_session_cache_hits_total listener=sb)" 2
is "ledger queue depth: a gauge, empty now" \
	"$(prom get spaprov_ledger_queue_depth)" 0
is "ledger rows: every request so far" "$(prom get spaprov_ledger_rows_total)" \
	"$(sql "select count(*) from resyncs")"
tx=$(prom get spaprov_ledger_transactions_total)
like "ledger transactions: at least one, at most one per row" \
	"$([ "$tx" -ge 1 ] && [ "$tx" -le "$(sql "select count(*) from resyncs")" ] && echo ok)" ok
is "every listener up" "$(prom get spaprov_listener_up)" 5

# --- certificate expiry ------------------------------------------------------
days_left() { # days_left CERT: (notAfter - now) / 86400 per openssl
	python3 -c '
import datetime, subprocess, sys
out = subprocess.check_output(["openssl", "x509", "-noout", "-enddate",
                               "-in", sys.argv[1]], text=True)
end = datetime.datetime.strptime(out.strip().split("=", 1)[1],
                                 "%b %d %H:%M:%S %Y %Z")
now = datetime.datetime.utcnow()
print((end - now).total_seconds() / 86400)' "$1"
}
for l in sb mpp; do
	got=$(prom get spaprov_certificate_expiry_days listener=$l)
	want=$(days_left "$PKI/server/$l.crt")
	is "expiry days of $l: its certificate's notAfter ($want)" \
		"$(python3 -c "print(abs($got - $want) < 0.05 and $got > 0)")" True
done

# --- failed handshakes ---------------------------------------------------------
# not TLS at all, then a TLS 1.0 RC4 hello to the TLS 1.2+ mpp listener
python3 - "$(port_of sb)" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /spa0022bd010203.xml HTTP/1.0\r\n\r\n")
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
EOF
phone mpp 0022bd010205 rc4 >/dev/null 2>&1
hs() { scrape; prom get spaprov_handshake_failures_total "$@"; }
until_is "handshake failures: plain HTTP to sb is no-client-hello" 1 \
	hs listener=sb reason=no-client-hello
until_is "handshake failures: RC4 to mpp is no-shared-cipher" 1 \
	hs listener=mpp reason=no-shared-cipher
hs_rows() { # the ledger's handshake failures of sb and mpp
	echo "sb:$(sql "select count(*) from handshake_failures where listener = 'sb'")" \
		"mpp:$(sql "select count(*) from handshake_failures where listener = 'mpp'")"
}
until_is "... and the ledger has the same two" "sb:1 mpp:1" hs_rows
is "... no other failures" "$(hs)" 2

# --- a reload keeps the counters -------------------------------------------------
# sb gets threads of its own: a new listener object, a new session cache
awk '/^\[listener /{s = ($2 == "sb]")} s && /^connection_limit = /{$0 = $0 "\nthreads = 3"} 1' \
	"$CONF" >"$T/conf.new" && mv "$T/conf.new" "$CONF"
kill -HUP "$DAEMON_PID"
until_is "SIGHUP: sb replaced" 1 \
	grep -c 'configuration reloaded" listeners=5 kept=4 replaced=1' "$T/daemon.log"
scrape
is "after the reload: sb ok/200 still 3" "$(prom get spaprov_resyncs_total \
	listener=sb status=200 outcome=ok)" 3
is "... the histogram still counts 6" \
	"$(prom get spaprov_request_duration_seconds_count listener=sb)" 6
is "... the session cache hits of the old cache still count" \
	"$(prom get spaprov_tls_session_cache_hits_total listener=sb)" 2
is "... handshake failures still counted" \
	"$(prom get spaprov_handshake_failures_total listener=sb)" 1
emu sb 0022bd010208 legacy-rsa --session-file "$T/sb.session"
is "a resync on the new sb: 200, not resumed (a new cache)" \
	"$? $(grep -c 'resumed=1' "$T/phone.err")" "0 0"
scrape
is "... counted on top: sb ok/200 = 4" "$(prom get spaprov_resyncs_total \
	listener=sb status=200 outcome=ok)" 4
is "... its session lookup a miss of the new cache" \
	"$(prom get spaprov_tls_session_cache_misses_total listener=sb)" 1
is "/healthz after the reload: 200, five listeners" "$(code "$BASE/healthz")" 200

# --- /healthz when the database cannot be written ---------------------------------
# Another process holds the write lock (BEGIN EXCLUSIVE) for longer than
# /healthz waits; being root, chmod would prove nothing.
python3 - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
for _ in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
c.execute("ROLLBACK")
EOF
holder=$!
for _ in $(seq 200); do [ -e "$T/locked" ] && break; sleep 0.05; done
health() { code "$BASE/healthz"; }
until_is "/healthz while another process holds the write lock: 503" 503 health
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
p = [x for x in j["problems"] if x["what"] == "database"]
print(j["status"], j["database"], j["listeners"], j["configured"],
      "locked" in p[0]["error"])' "$T/body" >"$T/health.out"
is "... says the database is not writable (locked), listeners fine" \
	"$(cat "$T/health.out")" "fail not writable 5 5 True"
is "/metrics still answers meanwhile" "$(code "$BASE/metrics")" 200
touch "$T/release"
wait "$holder"
until_is "lock released: /healthz 200 again" 200 health

# --- login throttling fails closed --------------------------------------------------
printf '%s\n' "$ADMIN_PASS" | "$SPAPROVCTL" -c "$CONF" admin add operator \
	>/dev/null 2>&1 || bail "admin add failed"
login() { # login PASSWORD: the status of POST /api/v1/session
	code -H 'Content-Type: application/json' \
		--data-binary "{\"name\":\"operator\",\"password\":\"$1\"}" \
		"$BASE/api/v1/session"
}
is "a wrong password: 401" "$(login 'wrong password 123')" 401
is "the right one: 200" "$(login "$ADMIN_PASS")" 200
is "... the account's failures are cleared, the address keeps its one" \
	"$(sql "select key || '=' || failures from admin_throttle order by key" | tr '\n' ' ')" \
	"address:127.0.0.1=1 "
# the failures cannot be read: no password is tried
sql "alter table admin_throttle rename to admin_throttle_away"
is "throttle table unreadable: the right password gets 503" \
	"$(login "$ADMIN_PASS")" 503
is "... and no session cookie" "$(curl -s -D - -o /dev/null \
	-H 'Content-Type: application/json' \
	--data-binary "{\"name\":\"operator\",\"password\":\"$ADMIN_PASS\"}" \
	"$BASE/api/v1/session" | grep -ci '^set-cookie')" 0
is "... and a wrong one 503 too, not 401" "$(login 'wrong password 123')" 503
sql "alter table admin_throttle_away rename to admin_throttle"
# the attempt cannot be counted: no password is tried either
sql "create trigger test_no_insert before insert on admin_throttle
	begin select raise(abort, 'test: no writes'); end;
     create trigger test_no_update before update on admin_throttle
	begin select raise(abort, 'test: no writes'); end;"
is "login failures cannot be recorded: the right password gets 503" \
	"$(login "$ADMIN_PASS")" 503
is "... a wrong one 503, not 401" "$(login 'wrong password 123')" 503
is "... nothing was counted" \
	"$(sql "select group_concat(key || '=' || failures) from admin_throttle")" \
	"address:127.0.0.1=1"
sql "drop trigger test_no_insert; drop trigger test_no_update;"
is "writable again: the right password logs in" "$(login "$ADMIN_PASS")" 200
like "the refusals are in the log" "$(cat "$T/daemon.log")" \
	"*cannot read login failures: login refused*cannot record login attempt: login refused*"

stop_daemon
is "spaprovd stops cleanly" "$DAEMON_STATUS" 0
done_testing
