-- 0003: fleet: encrypted-profile keys, firmware targets, device reports,
-- and how the ledger's MAC was established.
-- (The list in schema/local.mk gives the order of the migrations.)

-- The key of a device's encrypted profile (openssl enc -k), for units
-- that cannot authenticate with a client certificate.  A secret: the
-- file must be readable only by the service user.
CREATE TABLE device_keys (
	mac     TEXT PRIMARY KEY
	        REFERENCES devices(mac) ON DELETE CASCADE,
	key     TEXT NOT NULL
	        CHECK (length(key) BETWEEN 8 AND 64),
	created TEXT NOT NULL,
	updated TEXT NOT NULL
) WITHOUT ROWID;

-- The firmware each model should run; file is a name in firmware_dir.
CREATE TABLE firmware_targets (
	model   TEXT PRIMARY KEY COLLATE NOCASE
	        CHECK (length(model) BETWEEN 1 AND 48),
	version TEXT NOT NULL
	        CHECK (length(version) BETWEEN 1 AND 48),
	file    TEXT NOT NULL
	        CHECK (length(file) BETWEEN 1 AND 128),
	updated TEXT NOT NULL
);

-- The latest report (Report_Rule) a device POSTed: its XML as sent.
CREATE TABLE device_reports (
	mac         TEXT PRIMARY KEY
	            REFERENCES devices(mac) ON DELETE CASCADE,
	ts          TEXT NOT NULL,
	listener    TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	body        TEXT NOT NULL
) WITHOUT ROWID;

-- How the row's mac was established: NULL = by the verified client
-- certificate (or not at all); 'url-mac' = only by the MAC in the URL
-- (listeners with mode = plain or server-auth): low trust.
ALTER TABLE resyncs ADD COLUMN trust TEXT;

-- `spaprovctl firmware report` counts a device's firmware downloads.
CREATE INDEX resyncs_mac_outcome ON resyncs(mac, outcome);
