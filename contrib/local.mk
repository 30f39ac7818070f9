# contrib: the sample configuration, the systemd unit and helper scripts.
dist_pkgdata_DATA += contrib/spaprov.conf.sample
EXTRA_DIST += contrib/spaprovd.service.in

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = contrib/spaprovd.service
CLEANFILES += contrib/spaprovd.service

contrib/spaprovd.service: contrib/spaprovd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/contrib/spaprovd.service.in > $@.tmp && mv $@.tmp $@
