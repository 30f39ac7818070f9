# server: the spaprovd daemon.
sbin_PROGRAMS += spaprovd
spaprovd_SOURCES = server/main.c server/server.h \
	server/listener.c server/request.c server/request.h \
	server/conn.c server/conn.h server/ledger.c server/ledger.h \
	server/tls.c server/tls.h server/outcome.h \
	server/privs.c server/privs.h server/service.c server/service.h \
	server/sessions.c server/sessions.h
spaprovd_SOURCES += server/fleet_http.c server/fleet_http.h
spaprovd_SOURCES += server/workers.c server/workers.h \
	server/iplimit.c server/iplimit.h
spaprovd_LDADD = $(SPAPROV_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_sessions
TESTS += tests/unit/test_sessions
tests_unit_test_sessions_SOURCES = tests/unit/test_sessions.c \
	server/sessions.c server/sessions.h
tests_unit_test_sessions_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_sessions_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/test_tls_p11
TESTS += tests/unit/test_tls_p11
tests_unit_test_tls_p11_SOURCES = tests/unit/test_tls_p11.c server/tls.c server/tls.h
tests_unit_test_tls_p11_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tls_p11_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
