/* fleet/report: the parameters of an XML <flat-profile>, as a device
 * reports them (Report_Rule) or as we serve them, and their differences.
 *
 * Simple tag scanning, no external parser: inside <flat-profile> (which
 * MPP phones wrap in <device>), each <Name attr="...">value</Name> or
 * <Name/> is one parameter.  Attributes are ignored; comments, processing
 * instructions and CDATA-free text between elements are skipped; the
 * five XML entities and numeric character references are decoded;
 * values are compared without leading and trailing blanks. */
#ifndef SPAPROV_FLEET_REPORT_H
#define SPAPROV_FLEET_REPORT_H

#include <stddef.h>

#define FLEET_REPORT_MAX_PARAMS 8192  /* elements in one flat-profile */
#define FLEET_REPORT_MAX_NAME 128     /* bytes of an element name */
#define FLEET_REPORT_MAX_VALUE 16384  /* bytes of a value */

struct fleet_param {
	char *name;
	char *value;          /* decoded, trimmed */
	size_t pos;           /* order in the document */
};

/* Sorted by name; a repeated name keeps its first value. */
struct fleet_params {
	struct fleet_param *p;
	size_t n;
};

/* Parse len bytes.  0, or -1 with *err ("line 12: ..."; "no
 * <flat-profile> element"). */
int fleet_params_parse(const char *xml, size_t len, struct fleet_params *out,
		       char **err);
void fleet_params_free(struct fleet_params *p);

/* The value of `name`, or NULL. */
const char *fleet_params_get(const struct fleet_params *p, const char *name);

/* Calls diff() for each parameter of `served` whose value differs from
 * the one in `reported` (reported value NULL: not in the report), in
 * name order.  Returns the number of differences. */
size_t fleet_params_diff(const struct fleet_params *served,
			 const struct fleet_params *reported,
			 void (*diff)(void *ctx, const char *name,
				      const char *served,
				      const char *reported),
			 void *ctx);

#endif
