# db: SQLite access, one function per query.
libspaprov_a_SOURCES += db/db.c db/db.h db/internal.h db/migrations.h \
	db/maint.c db/maint.h
libspaprov_a_SOURCES += db/device.c db/device.h
libspaprov_a_SOURCES += db/history.c db/history.h db/profile.c db/profile.h
libspaprov_a_SOURCES += db/import.c db/import.h
libspaprov_a_SOURCES += db/admin.c db/admin.h db/admin_internal.h db/admin_views.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_history
TESTS += tests/unit/test_history
tests_unit_test_history_SOURCES = tests/unit/test_history.c
tests_unit_test_history_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_history_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_import
TESTS += tests/unit/test_import
tests_unit_test_import_SOURCES = tests/unit/test_import.c
tests_unit_test_import_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_import_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
libspaprov_a_SOURCES += db/fleet.c db/fleet.h
libspaprov_a_SOURCES += db/pin.c db/pin.h
libspaprov_a_SOURCES += db/txn.c db/txn.h
libspaprov_a_SOURCES += db/ledger_tune.c db/ledger_tune.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_ledger_tune
TESTS += tests/unit/test_ledger_tune
tests_unit_test_ledger_tune_SOURCES = tests/unit/test_ledger_tune.c
tests_unit_test_ledger_tune_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_ledger_tune_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
