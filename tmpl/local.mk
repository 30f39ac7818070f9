# tmpl module: "{{ name }}" profile templates
libspaprov_a_SOURCES += tmpl/tmpl.c tmpl/tmpl.h tmpl/builtins.h
libspaprov_a_SOURCES += tmpl/builtins.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_tmpl
TESTS += tests/unit/test_tmpl
tests_unit_test_tmpl_SOURCES = tests/unit/test_tmpl.c
tests_unit_test_tmpl_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_tmpl_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
