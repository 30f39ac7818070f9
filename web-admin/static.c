#include "config.h"

/* web-admin/static: the front end's files, from the assets directory.
 * Only plain names are served ([A-Za-z0-9._-] segments, none starting
 * with '.'), only files with a known type, and "/" is index.html. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web-admin/internal.h"

#define ADMIN_MAX_DEPTH 4          /* path segments */

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".json", "application/json" },
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t n = sizeof(types) / sizeof(types[0]);

	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* 1 if path is "/seg/seg..." with plain segments. */
static int plain_path(const char *path)
{
	int depth = 0;

	if (path[0] != '/')
		return 0;
	while (*path == '/') {
		size_t n;

		path++;
		n = strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789._-");
		if (n == 0 || path[0] == '.' || ++depth > ADMIN_MAX_DEPTH)
			return 0;
		path += n;
	}
	return *path == '\0';
}

/* Read a regular file of at most ADMIN_MAX_ASSET bytes. */
static int read_asset(const char *file, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, ret = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)ADMIN_MAX_ASSET)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != (ssize_t)st.st_size)
		goto out;
	*out = buf;
	*len = (size_t)n;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

enum MHD_Result admin_static(struct areq *r)
{
	const char *path = strcmp(r->url, "/") == 0 ? "/index.html" : r->url;
	const char *type = type_of(path);
	char *file = NULL, *body = NULL;
	size_t len = 0;
	enum MHD_Result ret;

	if (type == NULL || !plain_path(path))
		return admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not-found",
					 "no such page");
	if (asprintf(&file, "%s%s", r->adm->assets, path) < 0)
		return MHD_NO;
	if (read_asset(file, &body, &len) < 0) {
		free(file);
		return admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not-found",
					 "no such page");
	}
	free(file);
	ret = admin_reply(r, MHD_HTTP_OK, type, body, len, 1);
	return ret;
}
