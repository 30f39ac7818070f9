/* ledger: the daemon's single writer.  Request threads hand it rows; one
 * thread commits them in batches (group commit) and then resumes each
 * request (or wakes a waiting caller), so a response is sent only after
 * its row is committed. */
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

/* Called on the ledger's thread once a submitted row is committed
 * (committed = 1) or could not be written (0). */
typedef void ledger_done_fn(void *arg, int committed);

/* Queue a row without waiting; done(arg, ...) follows.  The row must
 * stay valid until then.  -1 (out of memory): nothing was queued. */
int ledger_submit(struct ledger *l, struct db_resync *row,
		  ledger_done_fn *done, void *arg);

/* Queue a copy of a row nobody waits for (e.g. a request libmicrohttpd
 * refused itself); a write failure is only logged. */
void ledger_record(struct ledger *l, const struct db_resync *row);

/* Wait until everything queued before the call has been written. */
void ledger_flush(struct ledger *l);

/* Queue a row and wait until it is committed.  Returns 0 when committed,
 * -1 when it could not be written (the caller must not answer 200). */
int ledger_commit(struct ledger *l, struct db_resync *row);

/* Queue a handshake failure; does not wait.  The row is copied. */
void ledger_record_hsfail(struct ledger *l, const struct db_hsfail *f);

/* Rows waiting to be committed. */
size_t ledger_depth(struct ledger *l);
/* Transactions written so far and the resync rows in them. */
void ledger_totals(struct ledger *l, unsigned long long *transactions,
		   unsigned long long *rows);

/* Commit everything queued, stop the thread, close the connection. */
void ledger_stop(struct ledger *l);

#endif
