/* ledger: the daemon's single writer.  Request threads hand it rows; one
 * thread commits them in batches (group commit) and wakes each request
 * when its row is durable, so a response is sent only after its row is
 * committed. */
#ifndef SPAPROV_LEDGER_H
#define SPAPROV_LEDGER_H

#include "db/db.h"

struct ledger;

/* Opens its own connection to `path`.  With retention_days > 0 it also
 * prunes older resyncs and handshake failures, a small batch at a time
 * between commits, so writers never wait long.  Returns 0 or -1 with
 * *err. */
int ledger_start(const char *path, unsigned busy_timeout_ms, unsigned batch,
		 unsigned retention_days, struct ledger **out, char **err);

/* Queue a row and wait until it is committed.  Returns 0 when committed,
 * -1 when it could not be written (the caller must not answer 200). */
int ledger_commit(struct ledger *l, struct db_resync *row);

/* Queue a handshake failure; does not wait.  The row is copied. */
void ledger_record_hsfail(struct ledger *l, const struct db_hsfail *f);

/* Rows waiting to be committed. */
size_t ledger_depth(struct ledger *l);

/* Commit everything queued, stop the thread, close the connection. */
void ledger_stop(struct ledger *l);

#endif
