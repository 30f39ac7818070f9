/* web-admin: the admin listener of spaprovd ([admin] in the config): a
 * JSON API under /api/v1 and the browser front end (web-admin/static,
 * installed in $(pkgdatadir)/web-admin).  Without an [admin] section
 * every function here does nothing.
 *
 * spaprovd calls admin_setup() where it binds its provisioning sockets
 * (before dropping privileges: the key may be readable by root only and
 * the port privileged), admin_start() once the provisioning listeners
 * run, admin_reloaded() after a reload replaced listeners, and
 * admin_stop() first when it stops.  All from the main thread. */
#ifndef SPAPROV_WEB_ADMIN_H
#define SPAPROV_WEB_ADMIN_H

struct server;

/* Check the TLS material and the front end, and unless test_only bind
 * the socket.  Returns 0, or -1 with *err = malloc'd
 * "FILE:LINE: KEY: reason". */
int admin_setup(struct server *srv, int test_only, char **err);

/* Serve (calls admin_setup() first if it was not).  0, or -1 with *err. */
int admin_start(struct server *srv, char **err);

/* The dashboard's facts about the provisioning listeners are read again
 * (addresses, ports, certificates). */
void admin_reloaded(struct server *srv);

/* Stop serving (requests in progress end first) and close the socket. */
void admin_stop(struct server *srv);

/* The port the admin listener is bound to, 0 when there is none (for
 * spaprovd's --ports-file: "admin PORT"). */
unsigned admin_port(const struct server *srv);

#endif
