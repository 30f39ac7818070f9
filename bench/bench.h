/* bench: spaprov-bench, the resync-path benchmark (issue 8).
 *
 * One program: it makes a bench PKI (a provisioning root and a 2048-bit
 * server certificate, a client root and N phone certificates), registers
 * the phones in a fresh database, starts the server under test on
 * 127.0.0.1 (spaprovd, the bare GnuTLS baseline built into this program,
 * nginx or Apache httpd), drives it with an epoll client that simulates
 * the phones, reads the server's CPU time and peak RSS from /proc, and
 * stops everything it started.  Every loop is bounded in count and time.
 * See bench/README.md. */
#ifndef SPAPROV_BENCH_H
#define SPAPROV_BENCH_H

#include <stddef.h>
#include <sys/types.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#define BN_MAX_PHONES 1000000      /* phone certificates in one PKI */
#define BN_MAX_REQUESTS 10000000   /* resyncs in one run */
#define BN_MAX_CONCURRENCY 20000   /* open client connections */
#define BN_MAX_THREADS 64          /* client or server threads */
#define BN_MAX_PORTS 8             /* listeners of one target */
#define BN_MAX_SECONDS 3600        /* any run or wait */
#define BN_MAX_BODY (256 * 1024)   /* response the client accepts */
#define BN_MAX_REQ 4096            /* request bytes */
#define BN_KEY_POOL 16             /* phone keys; each phone its own cert */
#define BN_MAX_PATH 4096
#define BN_FQDN "prov.spaprov.test"
#define BN_MAC_PREFIX "0022be"     /* bench phones: 0022be000000 + index */

/* ---- PKI (pki.c) --------------------------------------------------- */
struct bn_pki {
	char dir[BN_MAX_PATH];
	char server_crt[BN_MAX_PATH], server_key[BN_MAX_PATH];
	char dh_pem[BN_MAX_PATH], client_root[BN_MAX_PATH];
	char prov_root[BN_MAX_PATH];
	size_t n_phones;
	gnutls_datum_t *phone_der;       /* leaf certificates, DER */
	gnutls_datum_t key_pem[BN_KEY_POOL];
};

/* Make (or reuse from dir/pki) the bench PKI with at least n phones. */
int bn_pki_load(const char *dir, size_t n, struct bn_pki *pki);
void bn_pki_free(struct bn_pki *pki);
void bn_phone_mac(size_t i, char mac[13]);
const char *bn_phone_serial(size_t i, char buf[16]);
#define BN_PHONE_MODEL "SPA504G"

/* ---- time and statistics (util.c) ---------------------------------- */
double bn_now(void);                 /* CLOCK_MONOTONIC seconds */
void bn_sleep(double s);
int bn_cmp_double(const void *a, const void *b);
double bn_pct(const double *sorted, size_t n, double p);
int bn_write_file(const char *path, const void *data, size_t len, int mode);
int bn_read_file(const char *path, size_t limit, char **out, size_t *len);
int bn_mkdirs(const char *path);
void bn_die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						 noreturn));
void bn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned long long bn_rng(unsigned long long *state);

/* /proc figures of a process and its descendants. */
struct bn_proc {
	double cpu_s;        /* utime + stime (+ reaped children) */
	long hwm_kb;         /* sum of VmHWM */
	long rss_kb;         /* sum of VmRSS */
	int nproc;
};
int bn_proc_read(pid_t pid, struct bn_proc *out);

/* ---- targets (targets.c) ------------------------------------------- */
enum bn_kind { BN_SPAPROVD, BN_BASELINE, BN_NGINX, BN_APACHE };

struct bn_target {
	enum bn_kind kind;
	const char *name;
	pid_t pid;
	unsigned ports[BN_MAX_PORTS];
	size_t n_ports;
	int per_phone_body;        /* the body names the phone's MAC */
	char db[BN_MAX_PATH + 32]; /* spaprovd: its database */
	char workdir[BN_MAX_PATH];
	double start_s;            /* fork to ready */
};

struct bn_target_opts {
	const char *dir;           /* bench work dir */
	const char *spaprovd;      /* path of the daemon */
	const char *self;          /* path of this program (baseline) */
	const char *db;            /* spaprovd: use this database (NULL: fresh) */
	unsigned threads;          /* spaprovd per listener; baseline total */
	unsigned n_listeners;      /* 1..4 */
	int resume;                /* baseline/nginx/apache: session cache */
	unsigned conn_timeout;     /* spaprovd connection_timeout */
	const char *server_key;    /* key file or PKCS#11 URL (NULL: the PKI's) */
};

int bn_target_start(enum bn_kind kind, const struct bn_target_opts *o,
		    const struct bn_pki *pki, struct bn_target *t);
void bn_target_stop(struct bn_target *t);
/* Kill every server still running (async-signal-safe). */
void bn_targets_kill(void);
const char *bn_kind_name(enum bn_kind k);
int bn_kind_parse(const char *s, enum bn_kind *out);
/* Register phones 0..n-1 (profile "bench", three variables) and the
 * profile in a new database at path, in one transaction. */
int bn_db_register(const char *path, size_t n);
/* The profile body phone i receives (malloc'd). */
char *bn_render_profile(size_t i, size_t *len);
/* Rows in resyncs with outcome 'ok', or -1. */
long long bn_db_count_ok(const char *path, long long *total,
			 long long *distinct_macs);

/* ---- client (client.c) --------------------------------------------- */
enum bn_mode { BN_LEGACY, BN_RSA, BN_RESUME, BN_RESUME_ID };

struct bn_load {
	enum bn_mode mode;
	size_t phones;              /* distinct phones used */
	size_t requests;            /* resyncs in all */
	unsigned concurrency;       /* closed loop: in flight; 0 = open loop */
	double arrive_over;         /* open loop: arrivals spread over s */
	unsigned threads;           /* client threads */
	double timeout;             /* one resync */
	double max_seconds;         /* whole run bound */
	int check_body;             /* body must name the phone's MAC */
	void (*mark)(void *ctx);    /* called when the measured part starts */
	void *mark_ctx;
};

struct bn_result {
	size_t ok, failed, started;
	size_t err_connect, err_tls, err_status, err_body, err_timeout;
	size_t resumed, resume_tried;
	double wall_s;              /* first start to last finish */
	double *lat;                /* ms, ok resyncs, sorted */
	size_t n_lat;
	double max_start_lag;       /* open loop: client behind schedule, s */
	size_t max_inflight;
	int dh_bits;                /* DH prime size seen (DHE), 0 if none */
	char first_error[256];
};

int bn_load_run(const struct bn_load *ld, const struct bn_pki *pki,
		const struct bn_target *t, struct bn_result *r);
void bn_result_free(struct bn_result *r);
const char *bn_mode_name(enum bn_mode m);

/* Hold n TLS connections open (handshake done; every second one also sent
 * half a request).  Returns a handle, or NULL. */
struct bn_idle;
struct bn_idle *bn_idle_open(const struct bn_pki *pki,
			     const struct bn_target *t, size_t n,
			     double timeout, size_t *opened);
size_t bn_idle_alive(struct bn_idle *h);
void bn_idle_close(struct bn_idle *h);

/* ---- baseline server (baseline.c) ---------------------------------- */
int bn_baseline_main(int argc, char **argv);

/* ---- inventory (inventory.c) --------------------------------------- */
int bn_inventory_main(const char *dir, const char *spaprovd, size_t devices,
		      const struct bn_pki *pki, double ledger_seconds);

#endif
