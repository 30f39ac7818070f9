/* db: settings for the connection that writes the ledger (spaprovd's
 * ledger thread, server/ledger.c), which commits batches of resyncs and
 * device updates as fast as the disk allows.  Other connections keep
 * SQLite's defaults. */
#ifndef SPAPROV_DB_LEDGER_TUNE_H
#define SPAPROV_DB_LEDGER_TUNE_H

#include "db/db.h"

/* Page cache of the ledger connection, KiB: holds a batch's dirty pages
 * (about 1,500 for 256 resyncs of devices seen for the first time) so
 * that none is written to the WAL before the commit. */
#define DB_LEDGER_CACHE_KIB (32 * 1024)
/* A background pass copies the WAL into the database file once this many
 * committed frames (pages, 4 KiB) wait to be copied: 64 MiB. */
#define DB_LEDGER_CKPT_FRAMES 16384
/* WAL length (frames) at which a commit waits until everything is copied,
 * so that the next commit starts the WAL over.  With the frames committed
 * while a pass runs, the WAL file stays under wal_max_frames +
 * ckpt_frames + one batch: about 580 MiB and a batch.  It reaches that
 * only while the ledger writes as fast as it can; it is truncated once
 * the ledger is idle.  (SQLite's default: 1,000 frames, copied in the
 * commit.) */
#define DB_LEDGER_WAL_MAX_FRAMES 131072
/* While commits come, a pass runs at least this often; after this long
 * without a commit the WAL file is truncated. */
#define DB_LEDGER_CKPT_MS 1000
/* Bounds of the settings (db_ledger_tune_with). */
#define DB_LEDGER_MAX_CACHE_KIB (1024 * 1024)
#define DB_LEDGER_MAX_FRAMES (1 << 20)
#define DB_LEDGER_MAX_CKPT_MS 3600000

struct db_ledger_tuning {
	unsigned cache_kib;        /* page cache */
	unsigned ckpt_frames;      /* a pass when this many wait */
	unsigned wal_max_frames;   /* >= ckpt_frames: a commit waits */
	unsigned ckpt_ms;          /* a pass at least this often */
};

/* Tune `db` (just opened, not yet used) for writing the ledger with
 * db_ledger_write():
 *   - a larger page cache (DB_LEDGER_CACHE_KIB);
 *   - no checkpoint in the commit: a background thread with its own
 *     connection copies the WAL into the database file (PASSIVE
 *     checkpoints, with their fsyncs) while the writer goes on
 *     committing; a commit waits for it only when the WAL reaches
 *     DB_LEDGER_WAL_MAX_FRAMES.
 * Commits are unchanged: WAL, synchronous = NORMAL, a batch is committed
 * when db_ledger_write() returns; other processes (sqlite3, spaprovctl)
 * read and write the file as before.  The thread ends when db_close(db)
 * closes the handle.  Call once, in any thread, before the handle is
 * used.  Returns 0 or -1 with *err (the handle still works, without the
 * background copy). */
int db_ledger_tune(struct db *db, char **err);
/* The same with other settings (tests, measurements). */
int db_ledger_tune_with(struct db *db, const struct db_ledger_tuning *t,
			char **err);

#endif
