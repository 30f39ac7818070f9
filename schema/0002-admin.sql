-- 0002: the web admin: accounts, API tokens, login sessions, login
-- throttling, the audit trail, and indexes for its pages.
-- (0002 and 0003 are other modules' migrations; the list in
-- schema/local.mk gives the order.)

-- People who may log in to the web admin (spaprovctl admin add NAME).
CREATE TABLE admin_accounts (
	name          TEXT PRIMARY KEY
	              CHECK (length(name) BETWEEN 1 AND 64),
	password_hash TEXT NOT NULL,    -- crypt(3) string, yescrypt "$y$..."
	created       TEXT NOT NULL,
	updated       TEXT NOT NULL,
	last_login    TEXT
);

-- API tokens for scripts (spaprovctl admin token NAME); only the
-- SHA-256 of a token is kept, the token itself is shown once.
CREATE TABLE admin_tokens (
	hash      TEXT PRIMARY KEY,     -- SHA-256 of the token, lower-case hex
	account   TEXT NOT NULL
	          REFERENCES admin_accounts(name) ON DELETE CASCADE,
	created   TEXT NOT NULL,
	last_used TEXT
);
CREATE INDEX admin_tokens_account ON admin_tokens(account);

-- Browser sessions.  The cookie holds a random id; only its SHA-256 is
-- kept, so reading the database does not let anyone log in.
CREATE TABLE admin_sessions (
	id_hash     TEXT PRIMARY KEY,   -- SHA-256 of the cookie value, hex
	account     TEXT NOT NULL
	            REFERENCES admin_accounts(name) ON DELETE CASCADE,
	csrf        TEXT NOT NULL,      -- token every state change must carry
	created     TEXT NOT NULL,
	expires     TEXT NOT NULL,      -- no use after this time
	remote_addr TEXT NOT NULL
);
CREATE INDEX admin_sessions_account ON admin_sessions(account);
CREATE INDEX admin_sessions_expires ON admin_sessions(expires);

-- Failed logins, per account ("account:NAME") and per client address
-- ("address:IP"); a key is locked until locked_until after too many.
CREATE TABLE admin_throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	locked_until TEXT,
	last_failure TEXT NOT NULL
) WITHOUT ROWID;

-- Who changed what, from the web admin, the API or spaprovctl admin.
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY,
	ts          TEXT NOT NULL,
	account     TEXT,               -- NULL: nobody logged in
	remote_addr TEXT,               -- client address, or 'spaprovctl'
	action      TEXT NOT NULL,      -- device-add, login-failure, ...
	target      TEXT,               -- a MAC, profile or account name
	detail      TEXT
);
CREATE INDEX audit_ts ON audit(ts);

-- The pages sort and filter the inventory and the ledger by these.
CREATE INDEX devices_last_seen ON devices(last_seen);
CREATE INDEX devices_model_firmware ON devices(model, firmware);
CREATE INDEX resyncs_outcome_ts ON resyncs(outcome, ts);
CREATE INDEX resyncs_listener_ts ON resyncs(listener, ts);
