# web-admin: spaprovd's admin listener ([admin] in the config), its JSON
# API and the browser front end.  secret.c (password hashing, tokens) is
# shared with `spaprovctl admin`, so it goes into the library.
libspaprov_a_SOURCES += web-admin/secret.c web-admin/secret.h
spaprovd_SOURCES += web-admin/admin.c web-admin/admin.h \
	web-admin/internal.h web-admin/routes.c web-admin/reply.c \
	web-admin/auth.c web-admin/session.c web-admin/static.c \
	web-admin/render.c web-admin/api_devices.c web-admin/api_import.c \
	web-admin/api_history.c web-admin/api_dashboard.c \
	web-admin/api_profiles.c web-admin/ops.c web-admin/api_fleet.c
# The counters behind GET /metrics (lead: this line may move to
# server/local.mk).
spaprovd_SOURCES += server/metrics.c server/metrics.h

# The front end: no build step, installed as it is.
webadmindir = $(pkgdatadir)/web-admin
dist_webadmin_DATA = web-admin/static/index.html web-admin/static/app.js \
	web-admin/static/api.js web-admin/static/ui.js \
	web-admin/static/style.css web-admin/static/favicon.svg
webadminpagesdir = $(webadmindir)/pages
dist_webadminpages_DATA = web-admin/static/pages/dashboard.js \
	web-admin/static/pages/devices.js web-admin/static/pages/device.js \
	web-admin/static/pages/profiles.js web-admin/static/pages/history.js \
	web-admin/static/pages/login.js
webadminuplotdir = $(webadmindir)/vendor/uplot
dist_webadminuplot_DATA = web-admin/static/vendor/uplot/uPlot.esm.js \
	web-admin/static/vendor/uplot/uPlot.min.css \
	web-admin/static/vendor/uplot/LICENSE
EXTRA_DIST += web-admin/README.md

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_admin
TESTS += tests/unit/test_admin
tests_unit_test_admin_SOURCES = tests/unit/test_admin.c
tests_unit_test_admin_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_admin_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c \
	server/metrics.c server/metrics.h server/sessions.c server/sessions.h
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_metrics_LDADD = $(SPAPROV_LIBS) $(CHECK_LIBS)
endif

# The browser test: the real daemon, spaprovctl, the phone emulator and
# Debian's Chromium driven by playwright-core (tests/web-admin).
TESTS += tests/integration/web-admin.sh tests/integration/metrics.sh
EXTRA_DIST += tests/integration/web-admin.sh tests/web-admin/e2e.mjs \
	tests/integration/metrics.sh \
	tests/web-admin/package.json tests/web-admin/package-lock.json

# The browser test's screenshots are test output: `make clean` removes them
# (distcheck wants an empty build tree).
clean-local: clean-web-admin-artifacts
clean-web-admin-artifacts:
	-rm -rf tests/artifacts/web-admin
	-rmdir tests/artifacts 2>/dev/null
.PHONY: clean-web-admin-artifacts
