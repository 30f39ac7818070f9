/* spaprovctl admin: the web admin's accounts and API tokens.
 *
 *   admin add NAME       password from standard input (asked twice on a
 *                        terminal, without echo)
 *   admin passwd NAME    new password; the account's sessions end
 *   admin rm NAME        the account, its tokens and sessions
 *   admin list [--json]
 *   admin token NAME     a new API token, printed once: only its SHA-256
 *                        is stored
 * Every change is recorded in the audit table. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "db/admin.h"
#include "db/db.h"
#include "web-admin/secret.h"

#define AUDIT_WHO "spaprovctl"

static void admin_usage(FILE *f)
{
	fprintf(f,
"Usage: spaprovctl admin add NAME         (password on standard input)\n"
"       spaprovctl admin passwd NAME      (password on standard input)\n"
"       spaprovctl admin rm NAME\n"
"       spaprovctl admin list [--json]\n"
"       spaprovctl admin token NAME\n"
"Accounts of the web admin ([admin] in the configuration).  NAME is 1 to\n"
"%d of A-Z a-z 0-9 . _ @ -.  A password has %d to %d characters; on a\n"
"terminal it is asked twice without echo, otherwise the first line of\n"
"standard input is taken.  `token` prints a new API token for scripts\n"
"(Authorization: Bearer TOKEN) once; only its SHA-256 is stored.\n",
		ADMIN_NAME_MAX, ADMIN_PASSWORD_MIN, ADMIN_PASSWORD_MAX);
}

/* One line of stdin without its line end, at most ADMIN_PASSWORD_MAX
 * bytes; NULL at EOF or when longer. */
static char *read_line(const char *prompt)
{
	char *buf = malloc(ADMIN_PASSWORD_MAX + 3);
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (buf == NULL)
		return NULL;
	if (tty) {
		fputs(prompt, stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, ADMIN_PASSWORD_MAX + 3, stdin) == NULL)
		buf[0] = '\0', n = 0;
	else
		n = strlen(buf);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return buf;
}

/* The new password, checked; NULL after saying why not. */
static char *new_password(void)
{
	char *pw = read_line("New password: "), *again;
	const char *problem;

	if (pw == NULL)
		return NULL;
	if ((problem = admin_password_problem(pw)) != NULL) {
		ctl_err("%s (at least %d, at most %d characters)", problem,
			ADMIN_PASSWORD_MIN, ADMIN_PASSWORD_MAX);
		goto bad;
	}
	if (isatty(STDIN_FILENO)) {
		again = read_line("Again: ");
		if (again == NULL || strcmp(again, pw) != 0) {
			ctl_err("the passwords differ");
			free(again);
			goto bad;
		}
		free(again);
	}
	return pw;
bad:
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return NULL;
}

static int check_name(const char *name)
{
	if (admin_name_valid(name))
		return 0;
	ctl_err("invalid account name '%s' (1 to %d of A-Z a-z 0-9 . _ @ -)",
		name, ADMIN_NAME_MAX);
	return -1;
}

static int exit_of(int rc, char *err, const char *name)
{
	if (rc == DB_NOTFOUND)
		ctl_err("no account %s", name);
	else if (rc != DB_OK)
		ctl_err("%s", err ? err : "database error");
	free(err);
	return rc == DB_OK ? CTL_OK : rc == DB_NOTFOUND ? CTL_NOTFOUND
			 : rc == DB_EXISTS ? CTL_INVALID : CTL_DBERROR;
}

static void audit(struct db *db, const char *action, const char *name)
{
	char *err = NULL;

	if (db_admin_audit(db, NULL, AUDIT_WHO, action, name, NULL, &err) !=
	    DB_OK) {
		ctl_err("warning: %s", err ? err : "cannot record audit entry");
		free(err);
	}
}

/* add (create = 1) or passwd. */
static int set_password(struct ctl *ctl, const char *name, int create)
{
	char *pw = NULL, *hash = NULL, *err = NULL;
	struct db *db;
	int rc = DB_ERROR;

	if (check_name(name) < 0)
		return CTL_INVALID;
	if ((pw = new_password()) == NULL)
		return CTL_INVALID;
	if (admin_password_hash(pw, &hash, &err) < 0)
		goto out;
	if ((db = ctl_db(ctl)) == NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
		free(hash);
		return CTL_DBERROR;
	}
	rc = create ? db_admin_account_add(db, name, hash, &err)
		    : db_admin_account_passwd(db, name, hash, &err);
	if (rc == DB_OK) {
		audit(db, create ? "account-add" : "account-passwd", name);
		printf("%s account %s\n", create ? "added" : "new password for",
		       name);
	}
out:
	explicit_bzero(pw, strlen(pw));
	free(pw);
	free(hash);
	return exit_of(rc, err, name);
}

static int remove_account(struct ctl *ctl, const char *name)
{
	struct db *db = ctl_db(ctl);
	char *err = NULL;
	int rc;

	if (db == NULL)
		return CTL_DBERROR;
	rc = db_admin_account_rm(db, name, &err);
	if (rc == DB_OK) {
		audit(db, "account-rm", name);
		printf("removed account %s\n", name);
	}
	return exit_of(rc, err, name);
}

static const struct out_col list_cols[] = {
	{ "name", OUT_TEXT }, { "created", OUT_TEXT },
	{ "last_login", OUT_TEXT }, { "tokens", OUT_INT },
	{ "sessions", OUT_INT },
};

static int list_row(void *ctx, int ncols, const char *const *names,
		    const char *const *values)
{
	/* name, created, updated, last_login, tokens, sessions */
	const char *v[5] = { values[0], values[1], values[3], values[4],
			     values[5] };

	(void)names;
	if (ncols < 6)
		return -1;
	out_row(ctx, v);
	return 0;
}

static int list_accounts(struct ctl *ctl, int json)
{
	struct db *db = ctl_db(ctl);
	struct out *o;
	char *err = NULL;

	if (db == NULL)
		return CTL_DBERROR;
	o = out_new(json, list_cols, sizeof(list_cols) / sizeof(list_cols[0]));
	if (db_admin_account_list(db, list_row, o, &err) < 0) {
		out_finish(o);
		return exit_of(DB_ERROR, err, "");
	}
	out_finish(o);
	return CTL_OK;
}

static int new_token(struct ctl *ctl, const char *name)
{
	char token[ADMIN_TOKEN_LEN + 1], hash[ADMIN_HEX_LEN + 1], *err = NULL;
	struct db *db = ctl_db(ctl);
	int rc;

	if (db == NULL)
		return CTL_DBERROR;
	memcpy(token, ADMIN_TOKEN_PREFIX, 4);
	if (admin_random_hex(token + 4) < 0 ||
	    admin_sha256_hex(token, ADMIN_TOKEN_LEN, hash) < 0) {
		ctl_err("cannot make a random token");
		return CTL_DBERROR;
	}
	rc = db_admin_token_add(db, name, hash, &err);
	if (rc == DB_OK) {
		audit(db, "token-add", name);
		printf("%s\n", token);
		fprintf(stderr, "spaprovctl: a new API token for %s; it is not "
				"shown again: send it as \"Authorization: "
				"Bearer TOKEN\"\n", name);
	}
	explicit_bzero(token, sizeof(token));
	return exit_of(rc, err, name);
}

int cmd_admin(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (argc == 3 && strcmp(sub, "add") == 0)
		return set_password(ctl, argv[2], 1);
	if (argc == 3 && strcmp(sub, "passwd") == 0)
		return set_password(ctl, argv[2], 0);
	if (argc == 3 && strcmp(sub, "rm") == 0)
		return remove_account(ctl, argv[2]);
	if (argc == 3 && strcmp(sub, "token") == 0)
		return new_token(ctl, argv[2]);
	if (strcmp(sub, "list") == 0 &&
	    (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
		return list_accounts(ctl, argc == 3);
	if (argc == 2 && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
		admin_usage(stdout);
		return CTL_OK;
	}
	admin_usage(stderr);
	return CTL_USAGE;
}
