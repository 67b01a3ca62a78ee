/* cli.h: shared pieces of the greenml command-line tool. */
#ifndef GM_APP_CLI_H
#define GM_APP_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes of greenml itself (sysexits.h values). `measure` otherwise
 * exits with its command's status: 127 when it cannot be started, 128+N when
 * killed by signal N. */
#define GM_EXIT_USAGE 64    /* bad flag or value */
#define GM_EXIT_DATAERR 65  /* bad input data, database from a newer schema */
#define GM_EXIT_NOINPUT 66  /* an input file does not exist */
#define GM_EXIT_UNAVAIL 69  /* nothing to measure with */
#define GM_EXIT_SOFTWARE 70 /* internal error */
#define GM_EXIT_CANTCREAT 73 /* cannot create an output file */
#define GM_EXIT_IOERR 74    /* database or output write failed */

int cmd_measure(int argc, char **argv);
int cmd_idle(int argc, char **argv);
int cmd_sources(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_runs(int argc, char **argv);

/* Parses "100ms", "2s", "1.5s", "250us", "3m" into nanoseconds. A bare number
 * means seconds. */
bool gm_cli_parse_duration(const char *s, int64_t *out_ns);

#endif
