-- 0006: resync_history also shows how the request was made and how far
-- its identity can be trusted: tls_resumed (0004), trust (0003, NULL for a
-- verified certificate, 'url-mac' for the MAC in the URL only), the MAC
-- the User-Agent claimed and whether it differed from the certificate's.
-- The earlier columns keep their names and order; the new ones follow.
DROP VIEW resync_history;
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
       r.user_agent,
       r.tls_resumed,
       r.trust,
       r.ua_mac,
       r.ua_mismatch
  FROM resyncs AS r
  LEFT JOIN devices AS d ON d.mac = r.mac;
