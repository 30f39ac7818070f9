/* workers: the threads that run the provisioning listeners.
 *
 * One pool of N threads (default: one per CPU) serves every listener:
 * each thread runs one libmicrohttpd daemon per listener, all of a
 * listener's daemons sharing its listening socket, and waits on all of
 * them with one epoll set.  On a two-core machine four listeners with
 * their own thread pools (eight threads) cost 1.6x the CPU per resync of
 * two threads serving the same four (bench/README.md, "thread model").
 * A listener may still be given threads of its own (its `threads` key):
 * that is a second pool of this kind.
 *
 * A daemon attached to a worker is only ever run by that worker; other
 * threads reach it through workers_call(), which runs a function while
 * the worker is between two rounds, so nothing else touches the daemon. */
#ifndef SPAPROV_WORKERS_H
#define SPAPROV_WORKERS_H

struct MHD_Daemon;
struct workers;

/* Start `n` threads named "<name>/<i>" for the log.  0 or -1 with *err. */
int workers_start(unsigned n, const char *name, struct workers **out,
		  char **err);
unsigned workers_count(const struct workers *w);

/* Worker i runs `d` (started with MHD_USE_EPOLL, no internal thread)
 * from now on.  0 or -1 with *err. */
int workers_attach(struct workers *w, unsigned i, struct MHD_Daemon *d,
		   char **err);
/* Worker i stops running `d`; on return no worker touches it again, so
 * the caller may stop it. */
void workers_detach(struct workers *w, unsigned i, struct MHD_Daemon *d);
/* Run fn(arg) on worker i's turn: no daemon of that worker is being run
 * meanwhile.  Waits until fn has returned. */
void workers_call(struct workers *w, unsigned i, void (*fn)(void *arg),
		  void *arg);

/* From any thread, after MHD_resume_connection() on a connection of a
 * daemon of worker i: libmicrohttpd run without its own threads does not
 * wake up by itself, so worker i runs its daemons at once. */
void workers_kick(struct workers *w, unsigned i);

/* Stop and join the threads; every daemon must have been detached. */
void workers_stop(struct workers *w);

#endif
