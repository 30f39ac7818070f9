# db: SQLite access, one function per query.
libspaprov_a_SOURCES += db/db.c db/db.h db/internal.h db/migrations.h
