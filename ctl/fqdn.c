#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "ctl/fqdn.h"

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* One label: 1..63 letters, digits, inner hyphens. */
static const char *label_problem(const char *s, size_t len)
{
	if (len == 0)
		return "has an empty label (two dots in a row, or a leading "
		       "or trailing dot)";
	if (len > CTL_FQDN_MAX_LABEL)
		return "has a label longer than 63 characters";
	if (s[0] == '-' || s[len - 1] == '-')
		return "has a label that starts or ends with '-'";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return "may hold only letters, digits, '-' and '.'";
	return NULL;
}

static int all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int ctl_fqdn_valid(const char *cn, const char **why)
{
	unsigned char addr[16];
	const char *reason = NULL, *p, *dot, *last = NULL;
	size_t len = cn ? strlen(cn) : 0;

	if (len == 0)
		reason = "is empty";
	else if (len > CTL_FQDN_MAX)
		reason = "is longer than 253 characters";
	else if (strchr(cn, '*') != NULL)
		reason = "is a wildcard: phones reject wildcard certificates";
	else if (inet_pton(AF_INET, cn, addr) == 1 ||
		 inet_pton(AF_INET6, cn, addr) == 1)
		reason = "is an IP address: phones need a host name";
	else if (strchr(cn, '.') == NULL)
		reason = "has no dot: phones need a fully qualified name";
	for (p = cn; reason == NULL; p = dot + 1) {
		dot = strchr(p, '.');
		reason = label_problem(p, dot ? (size_t)(dot - p) : strlen(p));
		last = p;
		if (dot == NULL)
			break;
	}
	if (reason == NULL && all_digits(last, strlen(last)))
		reason = "ends in a numeric label: looks like an IP address";
	if (why != NULL)
		*why = reason;
	return reason == NULL;
}
