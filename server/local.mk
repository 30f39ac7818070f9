# server: the spaprovd daemon.
sbin_PROGRAMS += spaprovd
spaprovd_SOURCES = server/main.c server/server.h \
	server/listener.c server/request.c server/request.h \
	server/conn.c server/conn.h server/ledger.c server/ledger.h \
	server/tls.c server/tls.h server/outcome.h \
	server/privs.c server/privs.h server/service.c server/service.h
spaprovd_LDADD = $(SPAPROV_LIBS)
