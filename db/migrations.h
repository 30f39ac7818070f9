/* The SQL of schema/NNNN-*.sql, in order; generated into schema/migrations.c. */
#ifndef SPAPROV_MIGRATIONS_H
#define SPAPROV_MIGRATIONS_H
extern const char *const db_migrations[];
extern const unsigned db_migrations_count;
#endif
