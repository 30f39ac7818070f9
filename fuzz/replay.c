#include "config.h"

/* replay: run a fuzz target's LLVMFuzzerTestOneInput() over saved inputs
 * without libFuzzer, so that any compiler and `make check` can use them.
 *
 *   replay_<target> DIR|FILE...
 *
 * Every regular file of a DIR (names starting with '.' skipped, no
 * recursion) and every FILE is read into a buffer of exactly its size and
 * handed to the target, which aborts on a broken invariant.  A missing
 * argument, a DIR without inputs or an unreadable file is an error: a
 * replay must never pass because it found nothing to run.  Prints one
 * line per argument; exits 0 if everything ran, 1 otherwise. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#define REPLAY_MAX_INPUT (16u << 20) /* bytes; corpus files are far smaller */

/* Read path into a malloc'd buffer of exactly its size (1 byte for an
 * empty file, so that the pointer is valid).  Returns 0 or -1. */
static int read_input(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;
	int ret = -1;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot seek\n", path);
		goto out;
	}
	if ((unsigned long)n > REPLAY_MAX_INPUT) {
		fprintf(stderr, "%s: larger than %u bytes\n", path,
			REPLAY_MAX_INPUT);
		goto out;
	}
	b = malloc(n > 0 ? (size_t)n : 1);
	if (b == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: short read\n", path);
		goto out;
	}
	*buf = b;
	*len = (size_t)n;
	b = NULL;
	ret = 0;
out:
	free(b);
	fclose(f);
	return ret;
}

static int run_file(const char *path)
{
	uint8_t *buf;
	size_t len;

	if (read_input(path, &buf, &len) < 0)
		return -1;
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays every regular file of dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	char *path;
	long count = 0;
	int n, ok = 1;

	n = scandir(dir, &ents, not_hidden, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (ok && asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
			fprintf(stderr, "%s: out of memory\n", dir);
			ok = 0;
		} else if (ok) {
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(path) < 0)
					ok = 0;
				else
					count++;
			}
			free(path);
		}
		free(ents[i]);
	}
	free(ents);
	return ok ? count : -1;
}

int main(int argc, char **argv)
{
	struct stat st;
	long count;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			count = -1;
		} else if (S_ISDIR(st.st_mode)) {
			count = run_dir(argv[i]);
			if (count == 0)
				fprintf(stderr, "%s: no inputs\n", argv[i]);
		} else {
			count = run_file(argv[i]) < 0 ? -1 : 1;
		}
		if (count <= 0) {
			failed = 1;
			continue;
		}
		printf("%s: %ld input%s replayed\n", argv[i], count,
		       count == 1 ? "" : "s");
	}
	return failed;
}
