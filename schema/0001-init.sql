-- 0001: inventory, profiles and the resync ledger.
-- Applied once in a transaction; PRAGMA user_version records it.
-- A shipped migration is never edited: add 0002-... instead.

CREATE TABLE profiles (
	name    TEXT PRIMARY KEY
	        CHECK (length(name) BETWEEN 1 AND 64),
	body    TEXT NOT NULL,
	updated TEXT NOT NULL           -- UTC ISO-8601 with milliseconds
);

CREATE TABLE devices (
	mac         TEXT PRIMARY KEY    -- 12 lower-case hex digits
	            CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),
	status      TEXT NOT NULL DEFAULT 'enabled'
	            CHECK (status IN ('enabled', 'disabled', 'pending')),
	profile     TEXT,               -- name in profiles (may not exist yet)
	description TEXT NOT NULL DEFAULT '',
	model       TEXT,               -- product from the certificate OU
	serial      TEXT,               -- serial from the certificate L
	firmware    TEXT,               -- from the last User-Agent seen
	cert_issuer  TEXT,              -- of the last certificate seen
	cert_subject TEXT,
	created     TEXT NOT NULL,
	updated     TEXT NOT NULL,
	last_seen   TEXT                -- last request from this device
);
CREATE INDEX devices_status ON devices(status);
CREATE INDEX devices_profile ON devices(profile);

CREATE TABLE device_vars (
	mac   TEXT NOT NULL REFERENCES devices(mac) ON DELETE CASCADE,
	name  TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (mac, name)
) WITHOUT ROWID;

-- Every request on a provisioning listener, whatever its outcome.
CREATE TABLE resyncs (
	id           INTEGER PRIMARY KEY,
	ts           TEXT NOT NULL,     -- UTC, 2026-11-23T15:04:05.123Z
	listener     TEXT NOT NULL,
	ca           TEXT NOT NULL,
	remote_addr  TEXT NOT NULL,
	mac          TEXT,              -- from the certificate, NULL if none
	cert_subject TEXT,
	cert_issuer  TEXT,
	cert_serial  TEXT,
	verify       TEXT NOT NULL,     -- 'ok' or why the chain failed
	tls_version  TEXT,
	cipher       TEXT,
	user_agent   TEXT,
	model        TEXT,
	firmware     TEXT,
	method       TEXT NOT NULL,
	path         TEXT NOT NULL,
	status       INTEGER NOT NULL,  -- HTTP status sent
	bytes        INTEGER NOT NULL,  -- body bytes sent
	duration_ms  REAL NOT NULL,     -- from request start to commit
	outcome      TEXT NOT NULL,     -- ok, no-certificate, untrusted, ...
	detail       TEXT,              -- e.g. the foreign MAC of a spoof
	ua_mac       TEXT,              -- MAC claimed by the User-Agent
	ua_mismatch  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX resyncs_ts ON resyncs(ts);
CREATE INDEX resyncs_mac_ts ON resyncs(mac, ts);

-- TLS handshakes that never reached HTTP.
CREATE TABLE handshake_failures (
	id           INTEGER PRIMARY KEY,
	ts           TEXT NOT NULL,
	listener     TEXT NOT NULL,
	ca           TEXT NOT NULL,
	remote_addr  TEXT NOT NULL,
	error        TEXT NOT NULL,     -- what failed, GnuTLS terms
	client_hello TEXT               -- offered version and suites
);
CREATE INDEX handshake_failures_ts ON handshake_failures(ts);

-- For people at the sqlite3 prompt: local time, device description.
CREATE VIEW resync_history AS
SELECT r.id,
       strftime('%Y-%m-%d %H:%M:%f', r.ts, 'localtime') AS time,
       r.mac,
       d.description,
       r.listener,
       r.status,
       r.outcome,
       r.model,
       r.firmware,
       r.tls_version,
       r.cipher,
       r.remote_addr,
       r.method,
       r.path,
       r.bytes,
       r.duration_ms,
       r.verify,
       r.detail,
       r.user_agent
  FROM resyncs AS r
  LEFT JOIN devices AS d ON d.mac = r.mac;
