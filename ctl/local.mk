# ctl: the spaprovctl command-line tool.
libspaprov_a_SOURCES += ctl/csvimport.c ctl/csvimport.h
bin_PROGRAMS += spaprovctl
spaprovctl_SOURCES = ctl/main.c ctl/ctl.h ctl/cmd_device.c \
	ctl/cmd_profile.c ctl/cmd_history.c ctl/cmd_labpki.c \
	ctl/out.c ctl/out.h \
	ctl/cmd_check.c ctl/cmd_csr.c ctl/fqdn.c ctl/fqdn.h \
	server/tls.c server/tls.h
spaprovctl_SOURCES += ctl/cmd_stats.c ctl/cmd_db.c ctl/cmd_import.c
spaprovctl_SOURCES += ctl/cmd_fleet.c
spaprovctl_SOURCES += ctl/cmd_admin.c
spaprovctl_LDADD = $(SPAPROV_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_fqdn
TESTS += tests/unit/test_fqdn
tests_unit_test_fqdn_SOURCES = tests/unit/test_fqdn.c ctl/fqdn.c ctl/fqdn.h
tests_unit_test_fqdn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_fqdn_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
