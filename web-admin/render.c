#include "config.h"

/* web-admin/render: a template rendered for a device with the same
 * lookup spaprovd uses (tmpl/builtins), the CA and listener taken from
 * the device's last resync: what the phone would get now. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/history.h"
#include "fleet/steer.h"
#include "server/server.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "web-admin/internal.h"

static const char *const secret_words[] = { "pass", "secret", "key", "pin",
					    "token" };

int admin_var_is_secret(const char *name)
{
	for (size_t w = 0; w < sizeof(secret_words) / sizeof(*secret_words);
	     w++)
		for (const char *p = name; *p != '\0'; p++)
			if (strncasecmp(p, secret_words[w],
					strlen(secret_words[w])) == 0)
				return 1;
	return 0;
}

int admin_render(struct areq *r, const struct db_device *dev,
		 const char *tmpl, int reveal, char **out, size_t *len,
		 char **err)
{
	struct tmpl_builtins b = {
		.mac = dev->mac, .serial = dev->serial, .model = dev->model,
		.firmware = dev->firmware, .vars = dev->vars,
		.n_vars = dev->n_vars,
	};
	char *listener = NULL, *ca = NULL, *dberr = NULL;
	char rule[STEER_MAX_RULE + 1];
	const struct gen *g;
	const char *why = NULL;
	struct db_var *masked = NULL;
	int ret = -1;

	if (!reveal && dev->n_vars > 0) {
		masked = calloc(dev->n_vars, sizeof(*masked));
		if (masked == NULL) {
			*err = strdup("out of memory");
			return -1;
		}
		for (size_t i = 0; i < dev->n_vars; i++) {
			masked[i].name = dev->vars[i].name;
			masked[i].value = admin_var_is_secret(dev->vars[i].name)
					  ? (char *)ADMIN_MASK
					  : dev->vars[i].value;
		}
		b.vars = masked;
	}

	/* never seen: {{ca}} and {{listener}} stay unknown */
	if (db_history_last_listener(r->db, dev->mac, &listener, &ca,
				     &dberr) == DB_OK) {
		b.listener = listener;
		b.ca = ca;
	}
	free(dberr);
	/* {{profile_rule}} as spaprovd computes it (unknown: the render
	 * fails naming it, as `spaprovctl profile render` does) */
	g = admin_gen_hold(r->adm);
	if (g != NULL)
		b.profile_rule = steer_rule_for(
			g->conf, g->hosts,
			listener ? conf_listener_find(g->conf, listener) : NULL,
			dev->model, dev->firmware, rule, sizeof(rule), &why);
	admin_gen_done(r->adm);
	ret = tmpl_render(tmpl, strlen(tmpl), tmpl_builtins_lookup, &b, out,
			  len, err);
	free(listener);
	free(ca);
	free(masked);
	return ret;
}
