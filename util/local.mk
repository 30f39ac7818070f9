# util: logging and MAC notation (sources listed in Makefile.am)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_mac
TESTS += tests/unit/test_mac
tests_unit_test_mac_SOURCES = tests/unit/test_mac.c
tests_unit_test_mac_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_mac_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
