/* log: one line per event, "level=... msg=... key=value" on stderr. */
#ifndef SPAPROV_LOG_H
#define SPAPROV_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Parse "error|warn|info|debug"; returns -1 on an unknown name. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
/* Send every later line to syslog (daemon facility) instead of stderr. */
void log_use_syslog(const char *ident);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
