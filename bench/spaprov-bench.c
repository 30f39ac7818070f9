/* spaprov-bench: measure the resync path (issue 8).  See bench/README.md.
 *
 *   spaprov-bench load      N phones, concurrency C, modes legacy / rsa /
 *                           resume / resume-id, against spaprovd, the GnuTLS
 *                           baseline, nginx and Apache, side by side
 *   spaprov-bench storm     P phones arriving over S seconds
 *   spaprov-bench idle      idle and slow TLS connections: RSS, delay
 *   spaprov-bench inventory 1,000,000 devices: startup, lookup, RSS, ledger
 *   spaprov-bench crypto    GnuTLS RSA private-key operations per second
 *
 * Servers run on 127.0.0.1 only and are stopped before the program ends;
 * every run is bounded in resyncs and in seconds. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "bench/bench.h"

#define BN_MAX_LIST 8              /* items in a comma list option */
#define BN_MAX_RUNS 64             /* result lines kept for the summary */

struct opts {
	char dir[BN_MAX_PATH];
	char spaprovd[BN_MAX_PATH];
	char self[BN_MAX_PATH];
	enum bn_kind targets[BN_MAX_LIST];
	size_t n_targets;
	enum bn_mode modes[BN_MAX_LIST];
	size_t n_modes;
	unsigned threads[BN_MAX_LIST];
	size_t n_threads;
	unsigned baseline_threads;
	size_t phones, requests;
	unsigned concurrency, client_threads, listeners;
	size_t storm_phones;
	double storm_seconds;
	size_t idle;
	size_t devices;
	double ledger_seconds;
	double timeout, max_seconds;
	const char *server_key;
	unsigned repeat;
};

struct summary {
	char label[96];
	enum bn_kind kind;
	enum bn_mode mode;
	unsigned threads;
	double rate, p50, p99, cpu_per_k;
};

static struct summary runs[BN_MAX_RUNS];
static size_t n_runs;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprov-bench COMMAND [OPTIONS]\n"
		"Commands: load, storm, idle, inventory, crypto (and "
		"serve-baseline, used internally)\n\n"
		"  --dir DIR              work dir: PKI, databases, configs "
		"(default /tmp/spaprov-bench)\n"
		"  --spaprovd PATH        the daemon (default: next to this "
		"program's build tree, ./spaprovd)\n"
		"  --target LIST          spaprovd,baseline,nginx,apache "
		"(default spaprovd,baseline)\n"
		"  --mode LIST            legacy,rsa,resume,resume-id "
		"(default legacy)\n"
		"  --phones N             distinct phones (default 1000)\n"
		"  --requests N           resyncs per run (default 2000)\n"
		"  --concurrency C        resyncs in flight (default 32)\n"
		"  --threads LIST         spaprovd worker threads ([server] "
		"threads, shared by\n"
		"                         all listeners), e.g. 1,2,4 (default 2)\n"
		"  --baseline-threads N   baseline threads (default: cores)\n"
		"  --client-threads N     client threads (default 2)\n"
		"  --listeners N          1..4 listeners (default 4)\n"
		"  --storm-phones P       storm: phones (default 20000)\n"
		"  --storm-seconds S      storm: arrival window (default 40)\n"
		"  --idle N               idle: connections (default 1000)\n"
		"  --devices N            inventory: devices (default 1000000)\n"
		"  --ledger-seconds S     inventory: ledger run (default 5)\n"
		"  --timeout S            one resync (default 30)\n"
		"  --max-seconds S        bound of one run (default 600)\n"
		"  --server-key KEY       spaprovd and baseline: key file or "
		"PKCS#11 URL\n"
		"  --repeat K             load: run every case K times, "
		"interleaved (median reported)\n");
}

static int split(const char *arg, char items[BN_MAX_LIST][32])
{
	char buf[256], *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok && n < BN_MAX_LIST;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(items[n++], 32, "%s", tok);
	return n;
}

static long num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		bn_die("%s: expected an integer in %ld..%ld, got '%s'", what,
		       lo, hi, s);
	return v;
}

static double fnum(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || v < lo || v > hi)
		bn_die("%s: expected a number in %g..%g, got '%s'", what, lo,
		       hi, s);
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "spaprovd", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 'T' },
		{ "mode", required_argument, NULL, 'm' },
		{ "phones", required_argument, NULL, 'p' },
		{ "requests", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "baseline-threads", required_argument, NULL, 'B' },
		{ "client-threads", required_argument, NULL, 'C' },
		{ "listeners", required_argument, NULL, 'L' },
		{ "storm-phones", required_argument, NULL, 'P' },
		{ "storm-seconds", required_argument, NULL, 'S' },
		{ "idle", required_argument, NULL, 'i' },
		{ "devices", required_argument, NULL, 'D' },
		{ "ledger-seconds", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "server-key", required_argument, NULL, 'k' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char items[BN_MAX_LIST][32];
	int ch, n;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': snprintf(o->dir, sizeof(o->dir), "%s", optarg); break;
		case 's':
			snprintf(o->spaprovd, sizeof(o->spaprovd), "%s", optarg);
			break;
		case 'T':
			n = split(optarg, items);
			o->n_targets = 0;
			for (int i = 0; i < n; i++)
				if (bn_kind_parse(items[i],
						  &o->targets[o->n_targets++]) < 0)
					bn_die("unknown target '%s'", items[i]);
			break;
		case 'm':
			n = split(optarg, items);
			o->n_modes = 0;
			for (int i = 0; i < n; i++) {
				int k;

				for (k = BN_LEGACY; k <= BN_RESUME_ID; k++)
					if (strcmp(items[i], bn_mode_name(
						(enum bn_mode)k)) == 0)
						break;
				if (k > BN_RESUME_ID)
					bn_die("unknown mode '%s'", items[i]);
				o->modes[o->n_modes++] = (enum bn_mode)k;
			}
			break;
		case 'p':
			o->phones = (size_t)num(optarg, 1, BN_MAX_PHONES, "phones");
			break;
		case 'r':
			o->requests = (size_t)num(optarg, 1, BN_MAX_REQUESTS,
						  "requests");
			break;
		case 'c':
			o->concurrency = (unsigned)num(optarg, 1,
						       BN_MAX_CONCURRENCY,
						       "concurrency");
			break;
		case 't':
			n = split(optarg, items);
			o->n_threads = 0;
			for (int i = 0; i < n; i++)
				o->threads[o->n_threads++] = (unsigned)num(
					items[i], 1, BN_MAX_THREADS, "threads");
			break;
		case 'B':
			o->baseline_threads = (unsigned)num(
				optarg, 1, BN_MAX_THREADS, "baseline-threads");
			break;
		case 'C':
			o->client_threads = (unsigned)num(
				optarg, 1, BN_MAX_THREADS, "client-threads");
			break;
		case 'L':
			o->listeners = (unsigned)num(optarg, 1, 4, "listeners");
			break;
		case 'P':
			o->storm_phones = (size_t)num(optarg, 1, BN_MAX_PHONES,
						      "storm-phones");
			break;
		case 'S':
			o->storm_seconds = fnum(optarg, 0.1, BN_MAX_SECONDS,
						"storm-seconds");
			break;
		case 'i':
			o->idle = (size_t)num(optarg, 1, BN_MAX_CONCURRENCY,
					      "idle");
			break;
		case 'D':
			o->devices = (size_t)num(optarg, 1, 10000000, "devices");
			break;
		case 'l':
			o->ledger_seconds = fnum(optarg, 0.1, 600,
						 "ledger-seconds");
			break;
		case 'o':
			o->timeout = fnum(optarg, 0.1, BN_MAX_SECONDS,
					  "timeout");
			break;
		case 'x':
			o->max_seconds = fnum(optarg, 1, BN_MAX_SECONDS,
					      "max-seconds");
			break;
		case 'k': o->server_key = optarg; break;
		case 'R':
			o->repeat = (unsigned)num(optarg, 1, 20, "repeat");
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
}

static void defaults(struct opts *o, const char *argv0)
{
	char buf[BN_MAX_PATH], *d;

	memset(o, 0, sizeof(*o));
	snprintf(o->dir, sizeof(o->dir), "/tmp/spaprov-bench");
	if (realpath("/proc/self/exe", buf) == NULL)
		snprintf(buf, sizeof(buf), "%s", argv0);
	snprintf(o->self, sizeof(o->self), "%s", buf);
	d = dirname(buf);
	/* bench/spaprov-bench in the build tree: the daemon is ../spaprovd */
	snprintf(o->spaprovd, sizeof(o->spaprovd), "%s/../spaprovd", d);
	o->targets[0] = BN_SPAPROVD;
	o->targets[1] = BN_BASELINE;
	o->n_targets = 2;
	o->modes[0] = BN_LEGACY;
	o->n_modes = 1;
	o->threads[0] = 2;
	o->n_threads = 1;
	o->phones = 1000;
	o->requests = 2000;
	o->concurrency = 32;
	o->client_threads = 2;
	o->listeners = 4;
	o->storm_phones = 20000;
	o->storm_seconds = 40;
	o->idle = 1000;
	o->devices = 1000000;
	o->ledger_seconds = 5;
	o->timeout = 30;
	o->max_seconds = 600;
	o->repeat = 1;
}

static struct bn_target_opts topts(const struct opts *o, unsigned threads,
				   int resume)
{
	struct bn_target_opts t = {
		.dir = o->dir, .spaprovd = o->spaprovd, .self = o->self,
		.threads = threads, .n_listeners = o->listeners,
		.resume = resume, .server_key = o->server_key,
	};
	return t;
}

static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double client_cpu0;

struct mark {
	pid_t pid;
	struct bn_proc before;
	double t;
};

static void mark_start(void *p)
{
	struct mark *m = p;

	bn_proc_read(m->pid, &m->before);
	m->t = bn_now();
	client_cpu0 = self_cpu();
}

static void print_result(const char *label, const struct bn_result *r,
			 double cpu, const struct bn_proc *after)
{
	double rate = r->wall_s > 0 ? (double)r->ok / r->wall_s : 0;

	printf("%-34s %8.1f/s  p50 %7.1f  p95 %7.1f  p99 %7.1f  max %7.1f ms"
	       "  cpu %6.2f s/1k  peakRSS %6.1f MB  ok %zu fail %zu",
	       label, rate, bn_pct(r->lat, r->n_lat, 50),
	       bn_pct(r->lat, r->n_lat, 95), bn_pct(r->lat, r->n_lat, 99),
	       r->n_lat ? r->lat[r->n_lat - 1] : 0,
	       r->ok ? cpu / (double)r->ok * 1000 : 0,
	       (double)after->hwm_kb / 1024, r->ok, r->failed);
	if (r->resume_tried > 0)
		printf("  resumed %zu/%zu", r->resumed, r->resume_tried);
	if (r->dh_bits > 0)
		printf("  DH %d bits", r->dh_bits);
	if (r->ok > 0)
		printf("  (clients: %.2f s/1k)",
		       (self_cpu() - client_cpu0) / (double)r->ok * 1000);
	printf("\n");
	if (r->failed > 0)
		printf("    failures: connect %zu tls %zu status %zu body %zu "
		       "timeout %zu; first: %s\n", r->err_connect, r->err_tls,
		       r->err_status, r->err_body, r->err_timeout,
		       r->first_error);
	fflush(stdout);
}

/* One target, one mode, one thread setting. */
static int load_one(const struct opts *o, const struct bn_pki *pki,
		    enum bn_kind kind, enum bn_mode mode, unsigned threads)
{
	int resume = mode == BN_RESUME || mode == BN_RESUME_ID;
	struct bn_target_opts to = topts(o, threads, resume);
	struct bn_target t;
	struct bn_load ld = {
		.mode = mode, .phones = o->phones, .requests = o->requests,
		.concurrency = o->concurrency, .threads = o->client_threads,
		.timeout = o->timeout, .max_seconds = o->max_seconds,
	};
	struct bn_result r;
	struct bn_proc after;
	struct mark m = { 0 };
	char label[96];
	double cpu;

	if (kind == BN_BASELINE)
		to.threads = o->baseline_threads;
	if (bn_target_start(kind, &to, pki, &t) < 0)
		return -1;
	ld.check_body = t.per_phone_body;
	m.pid = t.pid;
	ld.mark = mark_start;
	ld.mark_ctx = &m;
	if (kind == BN_SPAPROVD)
		snprintf(label, sizeof(label), "%s %s threads=%u%s", t.name,
			 bn_mode_name(mode), threads,
			 o->server_key ? " (key given)" : "");
	else if (kind == BN_BASELINE)
		snprintf(label, sizeof(label), "%s %s threads=%u%s", t.name,
			 bn_mode_name(mode), to.threads ? to.threads
				: (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
			 o->server_key ? " (key given)" : "");
	else
		snprintf(label, sizeof(label), "%s %s", t.name,
			 bn_mode_name(mode));
	if (bn_load_run(&ld, pki, &t, &r) < 0) {
		bn_target_stop(&t);
		bn_warn("%s: the load could not run", label);
		return -1;
	}
	bn_proc_read(t.pid, &after);
	cpu = after.cpu_s - m.before.cpu_s;
	bn_target_stop(&t);
	print_result(label, &r, cpu, &after);
	if (kind == BN_SPAPROVD) {
		long long total = 0, distinct = 0;
		long long okrows = bn_db_count_ok(t.db, &total, &distinct);

		printf("    ledger: %lld rows, %lld ok (client saw %zu ok "
		       "resyncs in the measured part, %zu in the warm-up "
		       "too)%s\n", total, okrows, r.ok,
		       resume ? o->phones : (size_t)0,
		       okrows == (long long)(r.ok + (resume ? o->phones : 0))
			       ? ": every resync recorded"
			       : ": MISMATCH");
	}
	if (n_runs < BN_MAX_RUNS) {
		struct summary *s = &runs[n_runs++];

		snprintf(s->label, sizeof(s->label), "%s", label);
		s->kind = kind;
		s->mode = mode;
		s->threads = threads;
		s->rate = r.wall_s > 0 ? (double)r.ok / r.wall_s : 0;
		s->p50 = bn_pct(r.lat, r.n_lat, 50);
		s->p99 = bn_pct(r.lat, r.n_lat, 99);
		s->cpu_per_k = r.ok ? cpu / (double)r.ok * 1000 : 0;
	}
	bn_result_free(&r);
	return 0;
}

static int cmp_rate(const void *a, const void *b)
{
	const struct summary *x = a, *y = b;

	return x->rate < y->rate ? -1 : x->rate > y->rate;
}

/* Replace repeated runs of one case by the run with the median rate. */
static void print_medians(void)
{
	struct summary out[BN_MAX_RUNS], same[BN_MAX_RUNS];
	size_t n_out = 0;

	printf("== medians over the repeats (by resyncs/s)\n");
	for (size_t i = 0; i < n_runs; i++) {
		size_t k = 0, seen = 0;

		for (size_t j = 0; j < n_out; j++)
			seen |= strcmp(out[j].label, runs[i].label) == 0;
		if (seen)
			continue;
		for (size_t j = i; j < n_runs; j++)
			if (strcmp(runs[j].label, runs[i].label) == 0)
				same[k++] = runs[j];
		qsort(same, k, sizeof(same[0]), cmp_rate);
		out[n_out] = same[(k - 1) / 2];
		printf("%-34s %8.1f/s  p50 %7.1f  p99 %7.1f ms  cpu %6.2f "
		       "s/1k  (runs: %zu, rates %.0f..%.0f/s)\n",
		       out[n_out].label, out[n_out].rate, out[n_out].p50,
		       out[n_out].p99, out[n_out].cpu_per_k, k, same[0].rate,
		       same[k - 1].rate);
		n_out++;
	}
	memcpy(runs, out, n_out * sizeof(out[0]));
	n_runs = n_out;
}

static void print_fractions(void)
{
	for (size_t i = 0; i < n_runs; i++) {
		const struct summary *b = NULL;

		if (runs[i].kind == BN_BASELINE)
			continue;
		for (size_t j = 0; j < n_runs; j++)
			if (runs[j].kind == BN_BASELINE &&
			    runs[j].mode == runs[i].mode)
				b = &runs[j];
		if (b == NULL || b->rate <= 0)
			continue;
		printf("  %-34s %5.1f %% of the baseline's resyncs/s, "
		       "%5.1f %% of its CPU per resync\n", runs[i].label,
		       100 * runs[i].rate / b->rate,
		       b->cpu_per_k > 0 ? 100 * runs[i].cpu_per_k /
						  b->cpu_per_k : 0);
	}
}

static int cmd_load(const struct opts *o, const struct bn_pki *pki)
{
	printf("== load: %zu phones, %zu resyncs per run, concurrency %u, "
	       "%u client threads, %u listeners, %ld cores (clients and "
	       "server share them)\n", o->phones, o->requests, o->concurrency,
	       o->client_threads, o->listeners,
	       sysconf(_SC_NPROCESSORS_ONLN));
	for (size_t mi = 0; mi < o->n_modes; mi++) {
		/* rounds interleave the targets, so that load from other
		 * work on the machine hits them alike */
		for (unsigned rep = 0; rep < o->repeat; rep++) {
			for (size_t ti = 0; ti < o->n_targets; ti++) {
				enum bn_kind k = o->targets[ti];

				if (k == BN_SPAPROVD) {
					for (size_t h = 0; h < o->n_threads;
					     h++)
						load_one(o, pki, k,
							 o->modes[mi],
							 o->threads[h]);
				} else {
					load_one(o, pki, k, o->modes[mi], 0);
				}
			}
		}
	}
	if (o->repeat > 1)
		print_medians();
	printf("== relative to the baseline (same mode%s)\n",
	       o->repeat > 1 ? ", medians" : "");
	print_fractions();
	return 0;
}

static int cmd_storm(const struct opts *o, const struct bn_pki *pki)
{
	for (size_t ti = 0; ti < o->n_targets; ti++) {
		struct bn_target_opts to = topts(o, o->threads[0], 0);
		struct bn_target t;
		struct bn_load ld = {
			.mode = o->modes[0], .phones = o->storm_phones,
			.requests = o->storm_phones, .concurrency = 0,
			.arrive_over = o->storm_seconds,
			.threads = o->client_threads, .timeout = o->timeout,
			.max_seconds = o->storm_seconds + o->max_seconds,
		};
		struct bn_result r;
		struct bn_proc before, after;
		double cpu;

		if (o->targets[ti] == BN_BASELINE)
			to.threads = o->baseline_threads;
		if (bn_target_start(o->targets[ti], &to, pki, &t) < 0)
			continue;
		ld.check_body = t.per_phone_body;
		bn_proc_read(t.pid, &before);
		client_cpu0 = self_cpu();
		printf("== storm: %s, %zu phones arriving over %.0f s (%s, "
		       "threads %u), %u client threads\n", t.name,
		       o->storm_phones, o->storm_seconds,
		       bn_mode_name(o->modes[0]), o->threads[0],
		       o->client_threads);
		fflush(stdout);
		if (bn_load_run(&ld, pki, &t, &r) < 0) {
			bn_target_stop(&t);
			continue;
		}
		bn_proc_read(t.pid, &after);
		cpu = after.cpu_s - before.cpu_s;
		bn_target_stop(&t);
		printf("  served %zu of %zu in %.1f s (window %.0f s); "
		       "refused/failed %zu; worst %.0f ms, p99 %.0f ms, "
		       "p50 %.0f ms (from arrival); client max start lag "
		       "%.0f ms; %zu in flight at most\n",
		       r.ok, o->storm_phones, r.wall_s, o->storm_seconds,
		       r.failed, r.n_lat ? r.lat[r.n_lat - 1] : 0,
		       bn_pct(r.lat, r.n_lat, 99), bn_pct(r.lat, r.n_lat, 50),
		       r.max_start_lag * 1e3, r.max_inflight);
		printf("  server CPU %.1f s (%.2f s per 1000), peak RSS %.1f MB"
		       "; clients' CPU %.1f s\n", cpu,
		       r.ok ? cpu / (double)r.ok * 1000 : 0,
		       (double)after.hwm_kb / 1024, self_cpu() - client_cpu0);
		if (r.failed)
			printf("  failures: connect %zu tls %zu status %zu "
			       "body %zu timeout %zu; first: %s\n",
			       r.err_connect, r.err_tls, r.err_status,
			       r.err_body, r.err_timeout, r.first_error);
		if (t.per_phone_body)
			printf("  every phone got its own profile: %s\n",
			       r.ok == o->storm_phones && r.err_body == 0
				       ? "yes" : "NO");
		if (t.kind == BN_SPAPROVD) {
			long long total = 0, distinct = 0;
			long long okrows = bn_db_count_ok(t.db, &total,
							  &distinct);

			/* a row is committed before its answer is sent, so
			 * the ledger holds at least every resync a phone saw
			 * (more when a phone gave up waiting for the answer) */
			printf("  ledger: %lld rows, %lld ok, %lld distinct "
			       "MACs; phones saw %zu ok: %s\n", total, okrows,
			       distinct, r.ok,
			       okrows >= (long long)r.ok && distinct == okrows
				       ? "every resync they saw is recorded"
				       : "MISMATCH");
		}
		fflush(stdout);
		bn_result_free(&r);
	}
	return 0;
}

static void short_load(const struct opts *o, const struct bn_pki *pki,
		       const struct bn_target *t, const char *label)
{
	struct bn_load ld = {
		.mode = BN_LEGACY, .phones = o->phones,
		.requests = o->requests, .concurrency = o->concurrency,
		.threads = o->client_threads, .timeout = o->timeout,
		.max_seconds = o->max_seconds, .check_body = 1,
	};
	struct bn_result r;
	struct bn_proc before, after;

	bn_proc_read(t->pid, &before);
	client_cpu0 = self_cpu();
	if (bn_load_run(&ld, pki, t, &r) < 0)
		return;
	bn_proc_read(t->pid, &after);
	print_result(label, &r, after.cpu_s - before.cpu_s, &after);
	bn_result_free(&r);
}

static int cmd_idle(const struct opts *o, const struct bn_pki *pki)
{
	struct bn_target_opts to = topts(o, o->threads[0], 0);
	struct bn_target t;
	struct bn_proc p0, p1;
	struct bn_idle *h;
	size_t opened = 0;
	double t0;

	to.conn_timeout = 120;
	if (bn_target_start(BN_SPAPROVD, &to, pki, &t) < 0)
		return 1;
	printf("== idle: spaprovd threads=%u, %zu idle/slow connections "
	       "(connection_timeout raised to %u s for the test)\n",
	       o->threads[0], o->idle, to.conn_timeout);
	short_load(o, pki, &t, "without idle connections");
	bn_sleep(1);
	bn_proc_read(t.pid, &p0);
	t0 = bn_now();
	h = bn_idle_open(pki, &t, o->idle, 60, &opened);
	bn_sleep(1);
	bn_proc_read(t.pid, &p1);
	printf("  opened %zu TLS connections in %.1f s (half idle after the "
	       "handshake, half with half a request)\n", opened,
	       bn_now() - t0);
	printf("  spaprovd RSS %.1f MB -> %.1f MB: %.1f KB per connection\n",
	       (double)p0.rss_kb / 1024, (double)p1.rss_kb / 1024,
	       opened ? (double)(p1.rss_kb - p0.rss_kb) / (double)opened : 0);
	short_load(o, pki, &t, "with them open");
	if (h != NULL)
		printf("  still open after the load: %zu of %zu\n",
		       bn_idle_alive(h), opened);
	bn_idle_close(h);
	bn_target_stop(&t);
	return 0;
}

/* GnuTLS private-key operations with the bench server key. */
static int cmd_crypto(const struct bn_pki *pki)
{
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	gnutls_datum_t pem, sig = { 0 }, ct = { 0 }, pt = { 0 };
	unsigned char hash[20] = { 1, 2, 3 };
	gnutls_datum_t h = { hash, sizeof(hash) }, msg = { hash, 16 };
	double t0, el;
	long n;

	if (gnutls_load_file(pki->server_key, &pem) < 0)
		return 1;
	gnutls_privkey_init(&key);
	gnutls_pubkey_init(&pub);
	if (gnutls_privkey_import_x509_raw(key, &pem, GNUTLS_X509_FMT_PEM,
					   NULL, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0)
		return 1;
	gnutls_free(pem.data);
	t0 = bn_now();
	for (n = 0; n < 100000 && bn_now() - t0 < 3; n++) {
		gnutls_free(sig.data);
		gnutls_privkey_sign_hash(key, GNUTLS_DIG_SHA1, 0, &h, &sig);
	}
	el = bn_now() - t0;
	printf("GnuTLS %s RSA-2048 sign (DHE-RSA server signature): %.0f/s "
	       "(%.2f ms each, one core)\n", gnutls_check_version(NULL),
	       (double)n / el, el / (double)n * 1e3);
	gnutls_pubkey_encrypt_data(pub, 0, &msg, &ct);
	t0 = bn_now();
	for (n = 0; n < 100000 && bn_now() - t0 < 3; n++) {
		gnutls_free(pt.data);
		pt.data = NULL;
		gnutls_privkey_decrypt_data(key, 0, &ct, &pt);
	}
	el = bn_now() - t0;
	printf("GnuTLS RSA-2048 decrypt (RSA key exchange): %.0f/s "
	       "(%.2f ms each, one core)\n", (double)n / el,
	       el / (double)n * 1e3);
	{
		/* what a 1024-bit server key (sipura/linksys listeners in the
		 * lab PKI) would cost instead */
		gnutls_privkey_t k1;
		gnutls_datum_t s1 = { 0 };

		gnutls_privkey_init(&k1);
		if (gnutls_privkey_generate(k1, GNUTLS_PK_RSA, 1024, 0) == 0) {
			t0 = bn_now();
			for (n = 0; n < 100000 && bn_now() - t0 < 3; n++) {
				gnutls_free(s1.data);
				s1.data = NULL;
				gnutls_privkey_sign_hash(k1, GNUTLS_DIG_SHA1, 0,
							 &h, &s1);
			}
			el = bn_now() - t0;
			printf("GnuTLS RSA-1024 sign: %.0f/s (%.2f ms each, one "
			       "core)\n", (double)n / el,
			       el / (double)n * 1e3);
		}
		gnutls_free(s1.data);
		gnutls_privkey_deinit(k1);
	}
	gnutls_free(sig.data);
	gnutls_free(ct.data);
	gnutls_free(pt.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return 0;
}

/* Interrupted: take the servers down with us. */
static void on_signal(int sig)
{
	bn_targets_kill();
	_exit(128 + sig);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct bn_pki pki;
	const char *cmd;
	size_t need;
	int rc = 0;

	if (argc >= 2 && strcmp(argv[1], "serve-baseline") == 0)
		return bn_baseline_main(argc - 1, argv + 1);
	if (argc < 2 || argv[1][0] == '-') {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	defaults(&o, argv[0]);
	parse(argc - 1, argv + 1, &o);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (strcmp(cmd, "load") != 0 && strcmp(cmd, "storm") != 0 &&
	    strcmp(cmd, "idle") != 0 && strcmp(cmd, "inventory") != 0 &&
	    strcmp(cmd, "crypto") != 0) {
		usage(stderr);
		return 2;
	}
	if (bn_mkdirs(o.dir) < 0)
		bn_die("cannot create %s: %s", o.dir, strerror(errno));
	gnutls_global_init();
	need = o.phones;
	if (strcmp(cmd, "storm") == 0 && o.storm_phones > need)
		need = o.storm_phones;
	if (strcmp(cmd, "idle") == 0 && o.idle > need)
		need = o.idle;
	if (strcmp(cmd, "crypto") == 0)
		need = 1;
	bn_pki_load(o.dir, need, &pki);
	if (strcmp(cmd, "load") == 0)
		rc = cmd_load(&o, &pki);
	else if (strcmp(cmd, "storm") == 0)
		rc = cmd_storm(&o, &pki);
	else if (strcmp(cmd, "idle") == 0)
		rc = cmd_idle(&o, &pki);
	else if (strcmp(cmd, "inventory") == 0)
		rc = bn_inventory_main(o.dir, o.spaprovd, o.devices, &pki,
				       o.ledger_seconds);
	else
		rc = cmd_crypto(&pki);
	bn_pki_free(&pki);
	gnutls_global_deinit();
	return rc;
}
