-- 0004: the ledger tells whether a request's TLS session was resumed
-- (session ID or ticket) rather than made by a full handshake.  Rows
-- written before this migration are 0: spaprovd did not resume sessions.
-- (The list in schema/local.mk gives the order of the migrations.)
ALTER TABLE resyncs ADD COLUMN tls_resumed INTEGER NOT NULL DEFAULT 0
	CHECK (tls_resumed IN (0, 1));
