# ident module: who a phone is (client certificate, User-Agent)
libspaprov_a_SOURCES += ident/ident.c ident/ident.h ident/ua.c ident/ua.h \
	ident/trust.c ident/trust.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_ident
TESTS += tests/unit/test_ident
tests_unit_test_ident_SOURCES = tests/unit/test_ident.c
tests_unit_test_ident_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_ident_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_ua
TESTS += tests/unit/test_ua
tests_unit_test_ua_SOURCES = tests/unit/test_ua.c
tests_unit_test_ua_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_ua_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif

# idcache: verified client chains, so a repeated chain is a hash + lookup
libspaprov_a_SOURCES += ident/idcache.c ident/idcache.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_idcache
TESTS += tests/unit/test_idcache
tests_unit_test_idcache_SOURCES = tests/unit/test_idcache.c
tests_unit_test_idcache_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_idcache_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
