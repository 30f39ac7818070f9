/* service: living under a service manager. */
#ifndef SPAPROV_SERVICE_H
#define SPAPROV_SERVICE_H

/* Tell systemd our state ("READY=1", "RELOADING=1", "STOPPING=1") over
 * $NOTIFY_SOCKET; does nothing when not started by systemd with
 * Type=notify.  The protocol is one datagram, so no libsystemd. */
void service_notify(const char *state);

/* Detach from the terminal (fork, setsid, stdio to /dev/null) and write
 * our pid to `pidfile`.  Returns 0 in the daemon, -1 with *err. */
int service_daemonize(const char *pidfile, char **err);

#endif
