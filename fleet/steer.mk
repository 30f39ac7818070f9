# fleet: the CA table and the {{profile_rule}} URL (steer), certificate
# pins and url-mac identification (identity).  The SQL is db/pin.c.
libspaprov_a_SOURCES += fleet/steer.c fleet/steer.h \
	fleet/identity.c fleet/identity.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_steer
TESTS += tests/unit/test_steer
tests_unit_test_steer_SOURCES = tests/unit/test_steer.c
tests_unit_test_steer_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_steer_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
