# schema: numbered SQL migrations, compiled into the programs.
SCHEMA_MIGRATIONS = schema/0001-init.sql \
	schema/0002-admin.sql \
	schema/0003-fleet.sql \
	schema/0004-tls-resumed.sql \
	schema/0005-pinning.sql \
	schema/0006-history-view.sql
schemadir = $(pkgdatadir)/schema
dist_schema_DATA = $(SCHEMA_MIGRATIONS) schema/README.md
EXTRA_DIST += schema/embed.awk
nodist_libspaprov_a_SOURCES += schema/migrations.c
BUILT_SOURCES += schema/migrations.c
CLEANFILES += schema/migrations.c

schema/migrations.c: $(SCHEMA_MIGRATIONS) schema/embed.awk
	$(AM_V_GEN)$(MKDIR_P) schema && \
	(cd $(srcdir) && $(AWK) -f schema/embed.awk $(SCHEMA_MIGRATIONS)) > $@.tmp && \
	mv $@.tmp $@
