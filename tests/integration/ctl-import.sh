#!/bin/bash
# spaprovctl device import / device export: the CSV format (MAC notations,
# RFC 4180 quoting, CRLF, byte order mark), every error class with its exact
# FILE:LINE: COLUMN: reason message and nothing written, --dry-run,
# --update, 100,000 rows, secrets withheld on export, and the
# export | import round trip.  Needs no daemon.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_pki || exit 1
write_conf

# run NAME ARGS...: spaprovctl -c $CONF ARGS; $RC, $OUT (stdout), $ERR
run() {
	name=$1
	shift
	"$SPAPROVCTL" -c "$CONF" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	OUT=$(cat "$T/$name.out")
	ERR=$(cat "$T/$name.err")
}
# state: every device and variable (not the times), to compare before/after
state() {
	sql "SELECT mac, status, quote(profile), description FROM devices
	     ORDER BY mac; SELECT * FROM device_vars ORDER BY mac, name"
}
dev() { sql "SELECT $2 FROM devices WHERE mac = '$1'"; }
var() { sql "SELECT value FROM device_vars WHERE mac = '$1' AND name = '$2'"; }
ndev() { sql "SELECT count(*) FROM devices"; }
# csv NAME: standard input to $T/NAME.csv, "\r" written as CR
csv() { sed 's/\\r/\r/g' >"$T/$1.csv"; }
# refused NAME ARGS...: import fails with exit 3 and changes nothing
refused() {
	name=$1
	shift
	before=$(state)
	run "$name" device import "$@"
	is "$name: exit 3" "$RC" 3
	is "$name: nothing written" "$(state)" "$before"
}

run init device export
is "export of an empty inventory: header only" "$RC/$OUT" \
	"0/mac,status,profile,description"

# --- a good file: every notation and quoting case -------------------------
# UTF-8 byte order mark, CRLF (and one LF) line ends, a blank line, quoted
# commas, doubled quotes, a CRLF inside a quoted field, spaces kept, empty
# cells, no line end at the end of the file.
{
	printf '\357\273\277'
	csv good <<'EOF'
mac,profile,description,status,var:sip_user,var:sip_password,var:station_name\r
00:0E:08:AB:CD:EF,demo,"reception, front desk",enabled,2001,s3cret,Reception\r
000e.08ab.cde0,demo,"He said ""hi""",disabled,2002,,\r
000E08ABCDE1,,"two\r
lines",,2003,"a,b""c",\r
00-0e-08-ab-cd-e2,demo, spaced ,,,,
\r

0022bd010203,office,,enabled,2005,,"x y"
EOF
	cat "$T/good.csv"
} >"$T/good.tmp"
head -c -1 "$T/good.tmp" >"$T/good.csv"   # no line end at the end
run good device import "$T/good.csv"
is "good file: exit 0" "$RC" 0
is "good file: summary" "$OUT" \
	"imported 5 devices (5 new, 0 updated) from $T/good.csv"
is "good file: MACs normalised" \
	"$(sql 'SELECT group_concat(mac, " ") FROM (SELECT mac FROM devices ORDER BY mac)')" \
	"000e08abcde0 000e08abcde1 000e08abcde2 000e08abcdef 0022bd010203"
is "quoted comma" "$(dev 000e08abcdef description)" "reception, front desk"
is "doubled quotes" "$(dev 000e08abcde0 description)" 'He said "hi"'
is "CRLF inside a quoted field kept" \
	"$(dev 000e08abcde1 "description = 'two' || char(13, 10) || 'lines'")" 1
is "spaces are part of the value" "$(dev 000e08abcde2 "'[' || description || ']'")" \
	"[ spaced ]"
is "status column" "$(dev 000e08abcde0 status)/$(dev 000e08abcdef status)" \
	"disabled/enabled"
is "empty status: enabled" "$(dev 000e08abcde1 status)" enabled
is "empty profile: none" "$(dev 000e08abcde1 'quote(profile)')" NULL
is "empty description: empty" "$(dev 0022bd010203 "quote(description)")" "''"
is "variables" "$(var 000e08abcdef sip_user)/$(var 000e08abcdef sip_password)/$(var 000e08abcdef station_name)" \
	"2001/s3cret/Reception"
is "quoted variable value" "$(var 000e08abcde1 sip_password)" 'a,b"c'
is "last line without a line end" "$(var 0022bd010203 station_name)" "x y"
is "empty var cells: variables not set" \
	"$(sql "SELECT count(*) FROM device_vars WHERE mac IN ('000e08abcde0', '000e08abcde2')")" 1

# --- every row error, all reported, in line order, nothing written --------
# line 2: exists; 3: bad MAC; 5: duplicate of 4 (another notation); 6-7:
# a record over two lines with a bad status; 8: too few fields; 9: value
# too long; 10: profile too long; 11: description too long; 12: stray
# quote; 13: 'pending'; 14: good; 15: two errors in one row.
long=$(head -c 4097 /dev/zero | tr '\0' v)
csv bad <<EOF
mac,profile,description,status,var:sip_user,var:sip_password
00:0e:08:ab:cd:ef,demo,,,,
0022zz,demo,,,,
0022bd010301,,,,,
00-22-BD-01-03-01,,,,,
0022bd010302,demo,"two
lines",on,,
0022bd010303,demo,,,
0022bd010304,,,,,$long
0022bd010305,$(head -c 65 /dev/zero | tr '\0' p),,,,
0022bd010306,,$(head -c 1025 /dev/zero | tr '\0' d),,,
0022bd010307,de"mo,,,,
0022bd010308,,,pending,,
0022bd010309,demo,ok,enabled,1,2
nonsense,,,maybe,,
EOF
refused bad "$T/bad.csv"
is "bad rows: every error, in line order" "$ERR" \
"$T/bad.csv:2: mac: device 000e08abcdef already exists (use --update)
$T/bad.csv:3: mac: invalid MAC address '0022zz'
$T/bad.csv:5: mac: duplicate MAC 0022bd010301 (first on line 4)
$T/bad.csv:6: status: invalid status 'on' (enabled or disabled)
$T/bad.csv:8: wrong number of fields (5, header has 6)
$T/bad.csv:9: var:sip_password: value longer than 4096 bytes
$T/bad.csv:10: profile: profile name longer than 64 bytes
$T/bad.csv:11: description: value longer than 1024 bytes
$T/bad.csv:12: profile: malformed quoting (a field with a '\"' must be enclosed in quotes, with each '\"' inside doubled)
$T/bad.csv:13: status: invalid status 'pending' (only spaprovd records devices as pending)
$T/bad.csv:15: mac: invalid MAC address 'nonsense'
$T/bad.csv:15: status: invalid status 'maybe' (enabled or disabled)
spaprovctl: $T/bad.csv: 12 errors, nothing imported"
is "bad rows: nothing on stdout" "$OUT" ""

# database errors alone (no error in the file) also write nothing
csv exists <<'EOF'
mac,profile,var:sip_user
0022bd010801,demo,1
000e08abcdef,demo,2
EOF
refused exists "$T/exists.csv"
is "existing device: message" "$ERR" \
"$T/exists.csv:3: mac: device 000e08abcdef already exists (use --update)
spaprovctl: $T/exists.csv: 1 error, nothing imported"

# --- line numbers: CRLF files, records over several lines, blank lines ----
csv crlf <<'EOF'
mac,description,status\r
0022bd010401,"a\r
b\r
c",enabled\r
\r
0022bd010402,,off\r
0022bd010403,"x",\r
EOF
refused crlf "$T/crlf.csv"
is "CRLF: the line where the record starts" "$ERR" \
"$T/crlf.csv:6: status: invalid status 'off' (enabled or disabled)
spaprovctl: $T/crlf.csv: 1 error, nothing imported"
printf 'mac,status\r0022bd010404,\r\r0022bd010405,off\r' >"$T/cr.csv"
refused cr "$T/cr.csv"
is "CR alone ends lines too" "$ERR" \
"$T/cr.csv:4: status: invalid status 'off' (enabled or disabled)
spaprovctl: $T/cr.csv: 1 error, nothing imported"

# --- the header ------------------------------------------------------------
csv header <<'EOF'
mac,colour,profile,var:sip_user,profile,var:mac,var:9lives,,var:sip_user
EOF
refused header "$T/header.csv"
is "header: every bad column named" "$ERR" \
"$T/header.csv:1: colour: unknown column (expected mac, profile, description, status or var:NAME)
$T/header.csv:1: profile: duplicate column
$T/header.csv:1: var:mac: reserved built-in name 'mac'
$T/header.csv:1: var:9lives: invalid variable name '9lives'
$T/header.csv:1: column 8: empty column name
$T/header.csv:1: var:sip_user: duplicate column
spaprovctl: $T/header.csv: 6 errors, nothing imported"

printf 'profile,description\ndemo,x\n' >"$T/nomac.csv"
refused nomac "$T/nomac.csv"
is "header: mac column required" "$ERR" \
"$T/nomac.csv:1: mac: required column missing
spaprovctl: $T/nomac.csv: 1 error, nothing imported"

: >"$T/empty.csv"
refused empty "$T/empty.csv"
is "empty file" "$ERR" \
"$T/empty.csv:1: no header line (expected column names: mac, profile, ...)
spaprovctl: $T/empty.csv: 1 error, nothing imported"

awk 'BEGIN { printf "mac"; for (i = 0; i < 256; i++) printf ",var:v%d", i; print "" }' \
	>"$T/wide.csv"
refused wide "$T/wide.csv"
is "more than 256 columns" "$ERR" \
"$T/wide.csv:1: more than 256 columns
spaprovctl: $T/wide.csv: 1 error, nothing imported"

# --- broken files ----------------------------------------------------------
printf 'mac,description\n0022bd010501,"never closed\n0022bd010502,x\n' \
	>"$T/unclosed.csv"
refused unclosed "$T/unclosed.csv"
is "quoted field never closed" "$ERR" \
"$T/unclosed.csv:2: description: quoted field not closed at the end of the file
spaprovctl: $T/unclosed.csv: 1 error, nothing imported"

printf 'mac,description\n0022bd010501,a\000b\n0022bd010502,x\n' >"$T/nul.csv"
refused nul "$T/nul.csv"
is "NUL byte" "$ERR" \
"$T/nul.csv:2: description: value contains a NUL byte
spaprovctl: $T/nul.csv: 1 error, nothing imported"

{ printf 'mac,description\n0022bd010501,"'; head -c 3000000 /dev/zero | tr '\0' x; } \
	>"$T/runaway.csv"
refused runaway "$T/runaway.csv"
is "record over the limit" "$ERR" \
"$T/runaway.csv:2: record longer than 2097152 bytes (a quoted field not closed?)
spaprovctl: $T/runaway.csv: 1 error, nothing imported"

awk 'BEGIN { print "mac,status"; for (i = 0; i < 150; i++) printf "0022bd02%04x,bad\n", i }' \
	>"$T/many.csv"
refused many "$T/many.csv"
is "at most 100 errors printed" "$(grep -c 'invalid status' "$T/many.err")" 100
is "then how many more" "$(tail -n 2 "$T/many.err")" \
"... and 50 more
spaprovctl: $T/many.csv: 150 errors, nothing imported"

run missing device import "$T/no-such.csv"
is "missing file: exit 3" "$RC/$ERR" \
	"3/spaprovctl: $T/no-such.csv: No such file or directory"
run usage device import
is "no file: usage, exit 1" "$RC" 1

# --- --dry-run: checks against the database, writes nothing ---------------
csv new <<'EOF'
mac,profile,var:sip_user
0022bd010601,demo,3001
0022bd010602,demo,3002
0022bd010603,,3003
EOF
before=$(state)
run dry device import "$T/new.csv" --dry-run
is "dry run: exit 0, summary" "$RC/$OUT" "0/dry run: 3 rows valid"
is "dry run: nothing written" "$(state)" "$before"
refused dry-exists "$T/good.csv" --dry-run
is "dry run: existing devices found" "$(grep -c 'already exists' "$T/dry-exists.err")" 5

# --- --update ---------------------------------------------------------------
csv update <<'EOF'
mac,profile,description,status,var:sip_user,var:vlan
000E08ABCDEF,office,,disabled,2101,
0022bd010701,,new one,,3101,20
000e08abcde0,,,,,30
EOF
run update device import "$T/update.csv" --update
is "update: exit 0, summary" "$RC/$OUT" \
	"0/imported 3 devices (1 new, 2 updated) from $T/update.csv"
is "update: profile and status replaced" \
	"$(dev 000e08abcdef profile)/$(dev 000e08abcdef status)" office/disabled
is "update: empty description cell keeps the description" \
	"$(dev 000e08abcdef description)" "reception, front desk"
is "update: variable replaced, others kept" \
	"$(var 000e08abcdef sip_user)/$(var 000e08abcdef sip_password)/$(var 000e08abcdef station_name)" \
	"2101/s3cret/Reception"
is "update: empty cells change nothing" \
	"$(dev 000e08abcde0 "profile || ' ' || status || ' ' || description")/$(var 000e08abcde0 sip_user)" \
	'demo disabled He said "hi"/2002'
is "update: variable added" "$(var 000e08abcde0 vlan)" 30
is "update: new device" \
	"$(dev 0022bd010701 "status || ' ' || description")/$(var 0022bd010701 vlan)" \
	"enabled new one/20"

# at most 256 variables per device, counting those it has
sql "INSERT INTO devices (mac, created, updated) VALUES ('0022bd0109aa', '', '');
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256)
     INSERT INTO device_vars SELECT '0022bd0109aa', 'v' || i, 'x' FROM n"
printf 'mac,var:v1,var:w\n0022bd010901,1,2\n0022bd0109aa,1,2\n' >"$T/vars.csv"
refused vars "$T/vars.csv" --update
is "too many variables" "$ERR" \
"$T/vars.csv:3: device 0022bd0109aa would have more than 256 variables
spaprovctl: $T/vars.csv: 1 error, nothing imported"
printf 'mac,var:v1\n0022bd0109aa,y\n' >"$T/vars-ok.csv"
run vars-ok device import "$T/vars-ok.csv" --update
is "256 variables: replacing one is fine" "$RC/$(var 0022bd0109aa v1)" 0/y
sql "DELETE FROM device_vars WHERE mac = '0022bd0109aa';
     DELETE FROM devices WHERE mac = '0022bd0109aa'"

# --- export ---------------------------------------------------------------
run expall device export --reveal
is "export: header, variables sorted" "$(head -n 1 "$T/expall.out")" \
	"mac,status,profile,description,var:sip_password,var:sip_user,var:station_name,var:vlan"
is "export: quoting" "$(grep -A 1 '^000e08abcde1' "$T/expall.out")" \
	"$(printf '000e08abcde1,enabled,,"two\r\nlines","a,b""c",2003,,')"
like "export: quoted values kept" "$(cat "$T/expall.out")" \
	"*000e08abcde2,enabled,demo,\" spaced \",,,,*"
is "export: one line per device (plus the header and a line break)" \
	"$(wc -l <"$T/expall.out")" $(($(ndev) + 2))

run expdis device export --status disabled
is "export --status" "$(cut -d, -f1 "$T/expdis.out" | tr '\n' ' ')" \
	"mac 000e08abcde0 000e08abcdef "
run expprof device export --profile office --reveal
is "export --profile: its devices, their variables only" "$OUT" \
"mac,status,profile,description,var:sip_password,var:sip_user,var:station_name
000e08abcdef,disabled,office,\"reception, front desk\",s3cret,2101,Reception
0022bd010203,enabled,office,,,2005,x y"
run expbad device export --status on
is "export --status on: exit 3" "$RC" 3

# secrets are withheld unless --reveal, and import --update keeps them
run expsec device export --profile office
is "export: secret cells empty" "$(sed -n 2p "$T/expsec.out")" \
	"000e08abcdef,disabled,office,\"reception, front desk\",,2101,Reception"
like "export: withheld secrets said on stderr" "$ERR" \
	"spaprovctl: withheld 1 secret value (variables named *pass*,*--reveal*"
before=$(state)
run secback device import --update "$T/expsec.out"
is "import --update of an export without secrets keeps them" \
	"$RC/$(state)" "0/$before"

# --- round trip: export --reveal | import --update ------------------------
# Values written straight into the database (not by import): a quote, a
# comma, a CR alone, a line break, spaces at both ends, UTF-8, a leading '='.
sql "INSERT INTO devices (mac, status, profile, description, created, updated)
     VALUES ('0022bd0108aa', 'disabled', 'x,y', ' \"q\", ' || char(10) || 'Zürich ☎ ',
             '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
     INSERT INTO device_vars VALUES ('0022bd0108aa', 'sip_password', 'p\"w,' || char(13) || 'x'),
             ('0022bd0108aa', 'formula', '=1+2'), ('0022bd0108aa', 'api_token', ' t ')"
sed "s|^database = .*|database = $T/copy.db|" "$CONF" >"$T/copy.conf"
run rt1 device export --reveal
"$SPAPROVCTL" -c "$T/copy.conf" device import --update "$T/rt1.out" \
	>"$T/copy-import.out" 2>&1
is "round trip into a new database: all added" "$(cat "$T/copy-import.out")" \
	"imported $(ndev) devices ($(ndev) new, 0 updated) from $T/rt1.out"
"$SPAPROVCTL" -c "$T/copy.conf" device export --reveal >"$T/copy-export.out"
check "round trip into a new database: same export" \
	cmp "$T/rt1.out" "$T/copy-export.out"
copy_state=$(DB="$T/copy.db" state)
is "round trip into a new database: same devices and variables" \
	"$copy_state" "$(state)"

# a pending device (recorded by spaprovd) and an empty value stay as they are
sql "INSERT INTO devices (mac, status, description, created, updated)
     VALUES ('0022bd0108bb', 'pending', 'recorded by spaprovd',
             '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
     INSERT INTO device_vars VALUES ('0022bd010203', 'empty', '')"
before=$(state)
run rt2 device export --reveal
like "export: empty values said on stderr" "$ERR" \
	"*1 variable is the empty string*not set*"
"$SPAPROVCTL" -c "$CONF" device export --reveal 2>/dev/null |
	"$SPAPROVCTL" -c "$CONF" device import --update - >"$T/rt2.imp" 2>&1
is "round trip in place: all updated" "$(cat "$T/rt2.imp")" \
	"imported $(ndev) devices (0 new, $(ndev) updated) from <stdin>"
is "round trip in place: nothing changed" "$(state)" "$before"
run rt3 device export --reveal
check "round trip in place: same export" cmp "$T/rt2.out" "$T/rt3.out"

# --- 100,000 rows -----------------------------------------------------------
sed "s|^database = .*|database = $T/big.db|" "$CONF" >"$T/big.conf"
awk 'BEGIN {
	print "mac,profile,description,status,var:sip_user,var:sip_password,var:station_name"
	for (i = 0; i < 100000; i++)
		printf "0a%010x,office,\"Phone %d, floor %d\",enabled,%d,pw-%d,Station %d\n",
			i, i, i % 10, 10000 + i, i, i
}' >"$T/big.csv"
ms() { date +%s%3N; }
t0=$(ms)
"$SPAPROVCTL" -c "$T/big.conf" device import "$T/big.csv" >"$T/big.out" 2>&1
t1=$(ms)
is "100,000 rows: summary" "$(cat "$T/big.out")" \
	"imported 100000 devices (100000 new, 0 updated) from $T/big.csv"
is "100,000 rows: devices and variables" \
	"$(DB="$T/big.db" sql 'SELECT count(*) FROM devices; SELECT count(*) FROM device_vars' | tr '\n' ' ')" \
	"100000 300000 "
diag "100,000-row import: $((t1 - t0)) ms"
t0=$(ms)
"$SPAPROVCTL" -c "$T/big.conf" device export --reveal >"$T/big-export.out"
t1=$(ms)
"$SPAPROVCTL" -c "$T/big.conf" device import --update "$T/big-export.out" \
	>"$T/big-update.out" 2>&1
t2=$(ms)
is "100,000 rows: export, import --update" "$(cat "$T/big-update.out")" \
	"imported 100000 devices (0 new, 100000 updated) from $T/big-export.out"
diag "100,000-row export: $((t1 - t0)) ms, import --update: $((t2 - t1)) ms"

done_testing
