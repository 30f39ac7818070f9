/* bench/util.c: time, percentiles, files, /proc readings. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

#define BN_MAX_PROCS 4096   /* processes scanned in /proc */

double bn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bn_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int bn_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
double bn_pct(const double *sorted, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

void bn_die(const char *fmt, ...)
{
	va_list ap;

	fputs("spaprov-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void bn_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("spaprov-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* xorshift64*: reproducible arrival times and lookups. */
unsigned long long bn_rng(unsigned long long *s)
{
	unsigned long long x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int bn_write_file(const char *path, const void *data, size_t len, int mode)
{
	char tmp[BN_MAX_PATH + 8];
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	rc = 0;
out:
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int bn_read_file(const char *path, size_t limit, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return -1;
	buf = malloc(limit + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, limit + 1, f);
	fclose(f);
	if (n > limit) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int bn_mkdirs(const char *path)
{
	char buf[BN_MAX_PATH];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

/* utime+stime(+cutime+cstime) of one process, and its parent. */
static int stat_of(pid_t pid, double *cpu, pid_t *ppid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	long long cut, cst;
	int parent;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL)
		return -1;
	/* fields after the name: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%lld %lld", &parent, &ut, &st, &cut, &cst) != 5)
		return -1;
	*cpu = (double)(ut + st + (unsigned long long)(cut + cst)) /
	       (double)sysconf(_SC_CLK_TCK);
	*ppid = parent;
	return 0;
}

static void status_of(pid_t pid, long *hwm, long *rss)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		long v;

		if (sscanf(line, "VmHWM: %ld", &v) == 1)
			*hwm += v;
		else if (sscanf(line, "VmRSS: %ld", &v) == 1)
			*rss += v;
	}
	fclose(f);
}

int bn_proc_read(pid_t pid, struct bn_proc *out)
{
	pid_t tree[BN_MAX_PROCS];
	size_t n = 0;
	DIR *d;
	struct dirent *e;
	double cpu;
	pid_t ppid;

	memset(out, 0, sizeof(*out));
	if (stat_of(pid, &cpu, &ppid) < 0)
		return -1;
	tree[n++] = pid;
	/* descendants (nginx and Apache workers): a few passes over /proc */
	for (int pass = 0; pass < 3; pass++) {
		d = opendir("/proc");
		if (d == NULL)
			break;
		while ((e = readdir(d)) != NULL && n < BN_MAX_PROCS) {
			pid_t p = (pid_t)atoi(e->d_name);
			int known = 0, child = 0;
			double c;
			pid_t pp;

			if (p <= 0 || stat_of(p, &c, &pp) < 0)
				continue;
			for (size_t i = 0; i < n; i++) {
				known |= tree[i] == p;
				child |= tree[i] == pp;
			}
			if (!known && child)
				tree[n++] = p;
		}
		closedir(d);
	}
	for (size_t i = 0; i < n; i++) {
		if (stat_of(tree[i], &cpu, &ppid) < 0)
			continue;
		out->cpu_s += cpu;
		status_of(tree[i], &out->hwm_kb, &out->rss_kb);
		out->nproc++;
	}
	return 0;
}
