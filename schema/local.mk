# schema: numbered SQL migrations, compiled into the programs.
SCHEMA_MIGRATIONS = schema/0001-init.sql
EXTRA_DIST += $(SCHEMA_MIGRATIONS) schema/embed.awk schema/README.md
nodist_libspaprov_a_SOURCES += schema/migrations.c
BUILT_SOURCES += schema/migrations.c
CLEANFILES += schema/migrations.c

schema/migrations.c: $(SCHEMA_MIGRATIONS) schema/embed.awk
	$(AM_V_GEN)$(MKDIR_P) schema && \
	(cd $(srcdir) && $(AWK) -f schema/embed.awk $(SCHEMA_MIGRATIONS)) > $@.tmp && \
	mv $@.tmp $@
