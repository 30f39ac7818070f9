# fleet: encrypted profiles, firmware images and targets, device reports
# (issue 7).  The HTTP side is server/fleet_http.c, the SQL db/fleet.c.
libspaprov_a_SOURCES += fleet/encprofile.c fleet/encprofile.h \
	fleet/key.c fleet/key.h fleet/firmware.c fleet/firmware.h \
	fleet/report.c fleet/report.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_encprofile tests/unit/test_fleet
TESTS += tests/unit/test_encprofile tests/unit/test_fleet
tests_unit_test_encprofile_SOURCES = tests/unit/test_encprofile.c
tests_unit_test_encprofile_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_encprofile_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
tests_unit_test_fleet_SOURCES = tests/unit/test_fleet.c
tests_unit_test_fleet_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_fleet_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
