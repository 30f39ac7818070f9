#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util/str.h"
#include "db/db.h"
#include "db/fleet.h"
#include "fleet/firmware.h"

#define FW_MAX_PEM (256u * 1024)  /* bytes of a certificate file read */
#define FW_HOST_CACHE 16          /* certificate files whose CN we keep */

int fleet_fw_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FLEET_FW_MAX_NAME || name[0] == '.')
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int fleet_fw_open(const char *dir, const char *name, unsigned long long *size,
		  int *missing, char **err)
{
	struct stat st;
	int dfd = -1, fd = -1, ret = -1;

	*missing = 0;
	if (!fleet_fw_name_valid(name)) {
		*err = str_printf("not a firmware file name");
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		*missing = errno == ENOENT;
		*err = str_printf("firmware_dir %s: %s", dir, strerror(errno));
		goto out;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				       O_NONBLOCK);
	if (fd < 0) {
		*missing = errno == ENOENT;
		*err = str_printf("%s: %s", name, errno == ELOOP
						   ? "a symbolic link"
						   : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*err = str_printf("%s: not a regular file", name);
		goto out;
	}
	if ((unsigned long long)st.st_size > FLEET_FW_MAX_SIZE) {
		*err = str_printf("%s: larger than %llu bytes", name,
			   FLEET_FW_MAX_SIZE);
		goto out;
	}
	*size = (unsigned long long)st.st_size;
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

/* Upper case without '-' and blanks: "SPA-9000" -> "SPA9000". */
static void model_key(const char *model, char *out, size_t size)
{
	size_t o = 0;

	for (; *model != '\0' && o + 1 < size; model++) {
		char c = *model;

		if (c == '-' || c == ' ')
			continue;
		out[o++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	out[o] = '\0';
}

int fleet_fw_needs_plain(const char *model, const struct conf_listener *cl)
{
	static const char *const http_only[] = {
		"SPA9000", "SPA1000", "SPA1001", "SPA2000", "SPA2002",
		"SPA3000", "SPA841",
	};
	char key[FLEET_FW_MAX_MODEL + 1];

	if (cl != NULL && cl->ca == CONF_CA_SIPURA)
		return 1;
	if (model == NULL)
		return 0;
	model_key(model, key, sizeof(key));
	for (size_t i = 0; i < sizeof(http_only) / sizeof(http_only[0]); i++)
		if (strcmp(key, http_only[i]) == 0)
			return 1;
	return 0;
}

/* The subject CN of the first certificate in pem; 0 or -1. */
static int cn_of_pem(const char *pem, size_t len, char *out, size_t size)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem,
			     (unsigned)len };
	size_t n = size;
	int ret = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, out, &n) < 0 || out[0] == '\0')
		goto out;
	/* phones compare only up to a '/' (ctl check says so too) */
	out[strcspn(out, "/")] = '\0';
	ret = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

/* CNs of certificate files already read: spaprovd renders profiles on
 * many threads and may no longer be able to read the file after the
 * privilege drop, so the first answer is kept (per path, size, mtime). */
static struct {
	char *path;
	long long size, mtime;
	char cn[FLEET_FW_MAX_HOST];
} host_cache[FW_HOST_CACHE];
static size_t host_cache_next;
static pthread_mutex_t host_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cn_of_file(const char *path, char *out, size_t size)
{
	struct stat st;
	char buf[FLEET_FW_MAX_HOST] = "";
	int ret = -1, fd;
	size_t i;

	if (stat(path, &st) < 0)
		return -1;
	pthread_mutex_lock(&host_cache_lock);
	for (i = 0; i < FW_HOST_CACHE; i++) {
		if (host_cache[i].path != NULL &&
		    strcmp(host_cache[i].path, path) == 0 &&
		    host_cache[i].size == (long long)st.st_size &&
		    host_cache[i].mtime == (long long)st.st_mtime) {
			snprintf(out, size, "%s", host_cache[i].cn);
			ret = 0;
			goto out;
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		char *pem = malloc(FW_MAX_PEM + 1);
		ssize_t n = pem != NULL ? read(fd, pem, FW_MAX_PEM) : -1;

		close(fd);
		if (n > 0 && cn_of_pem(pem, (size_t)n, buf, sizeof(buf)) == 0)
			ret = 0;
		free(pem);
	}
	if (ret < 0)
		goto out;
	snprintf(out, size, "%s", buf);
	i = host_cache_next++ % FW_HOST_CACHE;
	free(host_cache[i].path);
	host_cache[i].path = strdup(path);
	host_cache[i].size = (long long)st.st_size;
	host_cache[i].mtime = (long long)st.st_mtime;
	snprintf(host_cache[i].cn, sizeof(host_cache[i].cn), "%s", buf);
out:
	pthread_mutex_unlock(&host_cache_lock);
	return ret;
}

void fleet_fw_host(const struct fleet_fw_site *s,
		   const struct conf_listener *target, char *out, size_t size)
{
	const struct conf *conf = s->conf;
	const char *addr = target->address;

	if (conf->public_name != NULL) {
		snprintf(out, size, "%s", conf->public_name);
		return;
	}
	if (target == s->cl && s->cert_pem != NULL &&
	    cn_of_pem(s->cert_pem, strlen(s->cert_pem), out, size) == 0)
		return;
	if (target->certificate != NULL &&
	    cn_of_file(target->certificate, out, size) == 0)
		return;
	/* a plain listener: the name on the other listeners' certificates */
	if (s->cl != NULL && s->cert_pem != NULL &&
	    cn_of_pem(s->cert_pem, strlen(s->cert_pem), out, size) == 0)
		return;
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (conf->listeners[i].certificate != NULL &&
		    cn_of_file(conf->listeners[i].certificate, out, size) == 0)
			return;
	snprintf(out, size, "%s%s%s", strchr(addr, ':') ? "[" : "", addr,
		 strchr(addr, ':') ? "]" : "");
}

/* The listener an Upgrade_Rule should name, *https for a TLS one. */
static const struct conf_listener *rule_listener(const struct fleet_fw_site *s,
						 const char *model, int *https)
{
	const struct conf_listener *cl = s->cl;

	*https = 0;
	if (cl != NULL && cl->mode == CONF_MODE_MUTUAL &&
	    !fleet_fw_needs_plain(model, cl)) {
		*https = 1;
		return cl;
	}
	for (size_t i = 0; i < s->conf->n_listeners; i++)
		if (s->conf->listeners[i].mode == CONF_MODE_PLAIN)
			return &s->conf->listeners[i];
	/* no plain listener: the device's own one, if it serves firmware */
	if (cl != NULL && cl->mode == CONF_MODE_MUTUAL) {
		*https = 1;
		return cl;
	}
	return NULL;
}

void fleet_fw_upgrade_rule(const struct fleet_fw_site *s, const char *model,
			   const char *file, char *out, size_t size)
{
	const struct conf_listener *t;
	char host[FLEET_FW_MAX_HOST];
	unsigned port;
	int https, n;

	out[0] = '\0';
	if (file == NULL || !fleet_fw_name_valid(file))
		return;
	t = rule_listener(s, model, &https);
	if (t == NULL)
		return;
	port = t == s->cl && s->port != 0 ? s->port : t->port;
	fleet_fw_host(s, t, host, sizeof(host));
	n = snprintf(out, size, "%s://%s:%u" FLEET_FW_PREFIX "%s%s",
		     https ? "https" : "http", host, port, file,
		     https ? "" : "?$MA");
	if (n < 0 || (size_t)n >= size)
		out[0] = '\0'; /* never a cut URL */
}

int fleet_fw_vars(struct db *db, const struct fleet_fw_site *s,
		  const char *model, struct fleet_fw_vars *out, char **err)
{
	char *version = NULL, *file = NULL;
	int rc;

	out->target[0] = '\0';
	out->rule[0] = '\0';
	if (model == NULL || model[0] == '\0')
		return 0;
	rc = db_firmware_target_get(db, model, &version, &file, err);
	if (rc == DB_ERROR)
		return -1;
	if (rc == DB_OK) {
		snprintf(out->target, sizeof(out->target), "%s", version);
		fleet_fw_upgrade_rule(s, model, file, out->rule,
				      sizeof(out->rule));
	}
	free(version);
	free(file);
	return 0;
}
