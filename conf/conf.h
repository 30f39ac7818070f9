/* conf: the INI configuration file shared by spaprovd and spaprovctl.
 *
 * The configuration is plain data, so its struct is public (unlike the
 * other modules' handles): both programs read many fields of it.
 * Every error comes back as "FILE:LINE: KEY: REASON". */
#ifndef SPAPROV_CONF_H
#define SPAPROV_CONF_H

#include <stddef.h>

/* Which Cisco provisioning CA a listener's server certificate chains to. */
enum conf_ca {
	CONF_CA_SIPURA = 0,
	CONF_CA_LINKSYS,
	CONF_CA_SB,
	CONF_CA_SB2K,
	CONF_CA_MPP,
	CONF_CA__COUNT
};

enum conf_unknown { CONF_UNKNOWN_RECORD = 0, CONF_UNKNOWN_REJECT };

/* A device presents another certificate than the one pinned for its MAC:
 * serve it and warn (alert), or answer 403 pin-mismatch (refuse). */
enum conf_pin_policy { CONF_PIN_ALERT = 0, CONF_PIN_REFUSE };

/* The shared "ciscogeneric" certificate: 403 (reject), or identify the
 * device by the MAC in the request path, with low trust (url-mac). */
enum conf_generic_policy { CONF_GENERIC_REJECT = 0, CONF_GENERIC_URL_MAC };

/* [server] public_name and profile_path: the {{profile_rule}} URL. */
#define CONF_MAX_PUBLIC_NAME 253    /* bytes of a host name */
#define CONF_MAX_PROFILE_PATH 256   /* bytes of the path */
#define CONF_DEF_PROFILE_PATH "/spa$MA.xml"

/* What a listener asks of its clients (key `mode`).  Only mutual
 * listeners serve profiles by certificate; server-auth and plain ones
 * serve the encrypted profile of the MAC in the URL (and plain ones
 * firmware to anyone): fleet/, server/fleet_http.c. */
enum conf_mode {
	CONF_MODE_MUTUAL = 0,   /* TLS with a client certificate (default) */
	CONF_MODE_SERVER_AUTH,  /* TLS without asking for a client certificate */
	CONF_MODE_PLAIN,        /* plain HTTP: no certificate, no key */
};

/* Upper bounds used by the parser. */
#define CONF_MAX_LINE 4096      /* bytes per line, longer lines are an error */
#define CONF_MAX_LISTENERS 64
#define CONF_MAX_CLIENT_ROOTS 32

/* Limits on what a provisioning listener accepts from the network: the
 * defaults, and the largest values allowed.  The chain depth and the
 * Certificate message size cannot exceed what the handshake hook keeps
 * (TRUST_MAX_CHAIN, CONN_MAX_CERT_MSG: checked where those are defined). */
#define CONF_DEF_MAX_HEADER_SIZE (32u * 1024)  /* request line + headers */
#define CONF_DEF_MAX_BODY_SIZE (64u * 1024)    /* POST body */
#define CONF_DEF_MAX_URL_LENGTH 4096u          /* request target */
#define CONF_DEF_MAX_HEADERS 64u               /* header fields */
#define CONF_MAX_CLIENT_CHAIN 8u               /* certificates, also default */
#define CONF_MAX_CLIENT_CERT_SIZE (64u * 1024) /* bytes, also default */
/* TLS session resumption (server/sessions.h): cached sessions per
 * listener (0: no resumption, tickets neither) and their lifetime. */
#define CONF_DEF_TLS_SESSION_CACHE 20000u
/* Verified client chains remembered (ident/idcache.h), all listeners. */
#define CONF_DEF_IDENTITY_CACHE 20000u
#define CONF_MAX_TLS_SESSION_CACHE 1000000u
#define CONF_DEF_TLS_SESSION_LIFETIME 3600u      /* seconds */
#define CONF_MAX_TLS_SESSION_LIFETIME (7u * 86400)

struct conf_listener {
	char *name;          /* from "[listener NAME]" */
	enum conf_ca ca;
	enum conf_mode mode;
	char *address;       /* numeric IPv4 or IPv6 address */
	unsigned port;       /* 0 = any free port (tests) */
	char *certificate;   /* PEM: server certificate, then its chain */
	char *key;           /* PEM private key file, or a PKCS#11 URL
				("pkcs11:...", kept as written) */
	char *key_pin_file;  /* PIN of a PKCS#11 key, or NULL */
	unsigned dh_bits;    /* 0 when dh_params is given */
	char *dh_params;     /* PKCS#3 PEM file or NULL */
	char *tls_priority;  /* NULL = the per-CA default */
	unsigned threads;    /* threads of its own; 0: the shared ones */
	unsigned connection_limit;     /* open connections on this listener */
	unsigned per_ip_connection_limit; /* 0 = unlimited (phones share NAT) */
	unsigned connection_timeout;   /* seconds of inactivity before close */
	unsigned max_header_size;      /* bytes of request line + headers */
	unsigned max_body_size;        /* bytes of a POST body */
	unsigned max_url_length;       /* bytes of the request target */
	unsigned max_headers;          /* header fields in a request */
	unsigned max_client_chain;     /* certificates the client may send */
	unsigned max_client_cert_size; /* bytes of its Certificate message */
	enum conf_pin_policy pin_policy;         /* default alert */
	enum conf_generic_policy generic_policy; /* default reject */
	unsigned tls_session_cache;    /* sessions kept; 0 = no resumption */
	unsigned tls_session_lifetime; /* seconds a session can be resumed */
	/* line numbers, for messages about values checked after parsing */
	int line_section, line_certificate, line_key, line_dh, line_priority,
	    line_address, line_key_pin_file;
};

/* The web admin listener, from an optional [admin] section. */
#define CONF_ADMIN_SESSION_TIMEOUT (8u * 3600) /* default, seconds */

struct conf_admin {
	int enabled;         /* an [admin] section was given */
	char *address;       /* numeric IPv4 or IPv6 address */
	unsigned port;       /* 0 = any free port (tests) */
	char *certificate;   /* PEM; NULL = plain HTTP (loopback only) */
	char *key;           /* PEM private key, with certificate */
	unsigned session_timeout; /* seconds a login session lasts */
	char *assets;        /* front-end directory; NULL = installed one */
	int line_section, line_address, line_certificate, line_key,
	    line_assets;
};

struct conf {
	char *path;                 /* the file read */
	char *database;
	char *client_roots[CONF_MAX_CLIENT_ROOTS];
	int client_roots_line[CONF_MAX_CLIENT_ROOTS];
	size_t n_client_roots;
	int client_cert_time_check; /* 0 or 1 */
	enum conf_unknown unknown_devices;
	char *log_level;            /* error | warn | info | debug */
	unsigned ledger_batch;      /* most rows per group commit */
	unsigned threads;           /* worker threads serving every listener */
	unsigned identity_cache;    /* verified client chains kept; 0: none */
	unsigned busy_timeout_ms;   /* SQLite busy timeout */
	char *user, *group;         /* drop to these after binding (NULL: stay) */
	int run_as_root;            /* allow serving as root (default no) */
	int syslog;                 /* log to syslog instead of stderr */
	unsigned resync_retention_days; /* prune older ledger rows; 0 = keep */
	char *public_name;          /* host phones use; NULL: certificate CN */
	char *profile_path;         /* NULL: CONF_DEF_PROFILE_PATH */
	char *pkcs11_module;        /* PKCS#11 module for pkcs11: keys; NULL =
				       GnuTLS's p11-kit defaults */
	int line_pkcs11_module;
	char *firmware_dir;         /* images for /firmware/NAME; NULL: none */
	struct conf_listener listeners[CONF_MAX_LISTENERS];
	size_t n_listeners;
	struct conf_admin admin;
};

/* Read and validate FILE: syntax, known keys, value types and ranges,
 * required keys, files readable, no two listeners on one address:port.
 * (Certificate/key matching is checked where the TLS credentials are
 * loaded.)  Returns 0, or -1 with *err = malloc'd "FILE:LINE: KEY: REASON". */
int conf_load(const char *path, struct conf **out, char **err);
void conf_free(struct conf *conf);

/* For tests and fuzzing: parse text as if read from path.  buf holds len
 * bytes (no NUL needed); relative paths in values are taken relative to
 * path's directory, and the files named are checked as conf_load() does.
 * Returns 0, or -1 with *err as for conf_load() (*out untouched then). */
int conf_parse_buffer(const char *path, const char *buf, size_t len,
		      struct conf **out, char **err);

/* "mutual", "server-auth", "plain" */
const char *conf_mode_name(enum conf_mode mode);

/* "sipura", "linksys", "sb", "sb2k", "mpp" */
const char *conf_ca_name(enum conf_ca ca);
int conf_ca_parse(const char *name, enum conf_ca *out);

/* The listener named NAME, or NULL. */
const struct conf_listener *conf_listener_find(const struct conf *conf,
					       const char *name);

#endif
