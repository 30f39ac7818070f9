-- 0005: fleet intelligence: pinned client certificates, and profiles
-- safe for devices identified by a generic certificate and the URL.
-- (The list in schema/local.mk gives the order of the migrations.)

-- The first verified client certificate of each device.  spaprovd adds
-- the row in the ledger transaction of the device's first 200; a later
-- request with another certificate is compared with it (pin_policy).
-- `spaprovctl device repin MAC` deletes the row: the next certificate is
-- pinned.  Deleting the device deletes its pin.
CREATE TABLE device_pins (
	mac         TEXT PRIMARY KEY
	            REFERENCES devices(mac) ON DELETE CASCADE,
	fingerprint TEXT NOT NULL,      -- SHA-256 of the DER, lower-case hex
	cert_serial TEXT,               -- of the certificate, hex
	issuer      TEXT,               -- its issuer DN
	first_seen  TEXT NOT NULL,      -- UTC time of the request that pinned it
	pinned_by   TEXT NOT NULL       -- 'spaprovd' (first certificate seen)
) WITHOUT ROWID;

-- (A request identified by the MAC in the URL, generic_policy = url-mac,
-- has resyncs.trust = 'url-mac': that column comes with 0003-fleet.sql.)

-- 1: the profile may be served to a device identified with low trust
-- (spaprovctl profile set NAME FILE --generic-safe).
ALTER TABLE profiles ADD COLUMN generic_safe INTEGER NOT NULL DEFAULT 0
	CHECK (generic_safe IN (0, 1));
