# conf module: the INI configuration file
libspaprov_a_SOURCES += conf/conf.c conf/conf.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_conf
TESTS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_conf_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
