# ca module: the lab PKI generator, the real Cisco SB Client Root
# Authority 2 and the default client-root bundle installed as
# $(pkgdatadir)/client-roots.pem (see ca/README.md).
libspaprov_a_SOURCES += ca/labpki.c ca/labpki.h
dist_pkgdata_DATA += ca/cisco-sb-client-root-2.pem ca/client-roots.pem
EXTRA_DIST += ca/README.md

# test_trust covers ca/labpki and ident/trust together: the lab PKI is
# what the trust checks run against.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_trust
TESTS += tests/unit/test_trust
tests_unit_test_trust_SOURCES = tests/unit/test_trust.c
tests_unit_test_trust_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_trust_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif
