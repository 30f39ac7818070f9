/* txn: one read transaction around the queries of one request.
 *
 * Each SQLite statement outside a transaction takes its own WAL read lock
 * and, when another connection (the ledger) has committed since, drops
 * the connection's page cache.  A request reads the device, its variables
 * and its profile: between db_read_begin() and db_read_end() they share
 * one lock and one snapshot, and the pages are read once. */
#ifndef SPAPROV_TXN_H
#define SPAPROV_TXN_H

struct db;

/* 0, or -1 when no transaction could be opened (the queries then run on
 * their own, as without it). */
int db_read_begin(struct db *db);
/* Ends what db_read_begin() opened; a no-op after its -1. */
void db_read_end(struct db *db);

/* A request thread's connection: its rare writes (reports, the web admin)
 * never copy the WAL into the database inside their commit; the ledger's
 * checkpointer (db/ledger_tune.h) does that. */
void db_no_checkpoint(struct db *db);

#endif
