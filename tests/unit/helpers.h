/* helpers.h: test helpers: temporary trees, files, spawning the CLI.
 * Include after <setjmp.h> etc. via this header only. */
#ifndef GM_TEST_HELPERS_H
#define GM_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Fails the test unless |a - b| <= eps, printing both values in full
 * (cmocka 1.1's float assertion rounds to float). */
void gmt_assert_near(double a, double b, double eps, const char *ea,
                     const char *eb, const char *file, int line);
#ifndef assert_double_equal
#define assert_double_equal(a, b, eps)                                         \
  gmt_assert_near((double)(a), (double)(b), (double)(eps), #a, #b, __FILE__,   \
                  __LINE__)
/* SQL that takes a current database back to schema 4 (the columns, tables
 * and indexes schemas 5 to 9 added), for the migration tests; the caller
 * sets PRAGMA user_version. */
const char *gmt_sql_undo_schemas_5_9(void);
/* Schema 9's part alone: back to schema 8 (bench tables without their
 * precision). */
const char *gmt_sql_undo_schema_9(void);

/* ---- a PostgreSQL server for the tests (tests/pg/cluster.sh) ----------
 * Started on first use, once per process, in a temporary directory (Unix
 * socket only); stopped and removed at exit, and by a watcher if the
 * process dies. Without libpq in this build or without the server's
 * binaries the calling test fails with the command that installs them. */
/* The location of database db on it (malloc'ed):
 * postgresql:///DB?host=SOCKET&user=greenml. */
char *gmt_pg_uri(const char *db);
/* A fresh database name (unique in this process): PREFIX_PID_N. */
char *gmt_pg_new_db(const char *prefix);
/* Runs sql on the database at uri (asserts success). */
void gmt_pg_exec(const char *uri, const char *sql);
/* The first value of the first row sql returns on uri, as a number. */
long long gmt_pg_value(const char *uri, const char *sql);
/* Whether the database of that name exists. */
bool gmt_pg_db_exists(const char *db);
/* pg_dump's text of the database at uri: schema and rows (malloc'ed). */
char *gmt_pg_dump(const char *uri, size_t *len);
/* Stops the server now (also done at exit). */
void gmt_pg_stop(void);

#endif

/* Creates a fresh temporary directory; returns a malloc'ed path. */
char *gmt_mkdtemp(void);
/* rm -rf path (path is not freed). */
void gmt_rmtree(const char *path);
/* mkdir -p root/rel. */
void gmt_mkdirs(const char *root, const char *rel);
/* Writes text to root/rel (creating parent directories). */
void gmt_write(const char *root, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes binary bytes to root/rel. */
void gmt_write_bin(const char *root, const char *rel, const void *data,
                   size_t len);
/* Joins root and rel into a static-lifetime-free malloc'ed path. */
char *gmt_path(const char *root, const char *rel);
/* The fake /sys, /proc and /dev of a temporary tree: root/sys, root/proc
 * and root/dev into buffers of size bytes each. */
void gmt_roots(const char *root, char *sysfs, char *procfs, char *devfs,
               size_t size);
/* Sets an environment variable for the rest of the test. */
void gmt_setenv(const char *name, const char *value);

/* SQL that takes a current database back to schema 4 (the columns, tables
 * and indexes schemas 5 to 9 added), for the migration tests; the caller
 * sets PRAGMA user_version. */
const char *gmt_sql_undo_schemas_5_9(void);

/* ---- a PostgreSQL server for the tests (tests/pg/cluster.sh) ----------
 * Started on first use, once per process, in a temporary directory (Unix
 * socket only); stopped and removed at exit, and by a watcher if the
 * process dies. Without libpq in this build or without the server's
 * binaries the calling test fails with the command that installs them. */
/* The location of database db on it (malloc'ed):
 * postgresql:///DB?host=SOCKET&user=greenml. */
char *gmt_pg_uri(const char *db);
/* A fresh database name (unique in this process): PREFIX_PID_N. */
char *gmt_pg_new_db(const char *prefix);
/* Runs sql on the database at uri (asserts success). */
void gmt_pg_exec(const char *uri, const char *sql);
/* The first value of the first row sql returns on uri, as a number. */
long long gmt_pg_value(const char *uri, const char *sql);
/* Whether the database of that name exists. */
bool gmt_pg_db_exists(const char *db);
/* pg_dump's text of the database at uri: schema and rows (malloc'ed). */
char *gmt_pg_dump(const char *uri, size_t *len);
/* Stops the server now (also done at exit). */
void gmt_pg_stop(void);

#endif
