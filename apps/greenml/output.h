/* output.h: how the greenml command writes what it was asked for. THE rule
 * (README, "Exit codes"): an output is written whole or not at all, a
 * closed or broken standard stream never kills greenml nor loses another
 * output, and greenml never exits 0 when an output it was asked for was
 * not written.
 *
 * - Files (--json, --csv, export --out DIR, report): gm_cli_file_*, a
 *   temporary file created exclusively beside the destination and renamed
 *   over it once complete.
 * - The standard streams: gm_cli_streams_init at the start of main (SIGPIPE
 *   becomes EPIPE; a closed descriptor is held by a placeholder on which
 *   writes fail), gm_cli_streams_finish at its end (stdout checked). */
#ifndef GM_APP_OUTPUT_H
#define GM_APP_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* ---- files ----------------------------------------------------------------
 */

struct gm_cli_file {
  FILE *f;         /* write here between open and commit */
  char path[1024]; /* the destination */
  char tmp[1100];  /* the temporary file beside it; "" when writing in place */
};

/* Opens an output. For a path that does not exist or names a regular file,
 * the bytes go to a new file PATH.tmp-XXXXXX in the same directory
 * (O_CREAT | O_EXCL | O_NOFOLLOW, close-on-exec, mode 0666 less the umask,
 * or the mode of the file it replaces), which gm_cli_file_commit renames
 * over PATH: readers see the old file or the complete new one, never a
 * part. A symbolic link or something that is not a regular file (a FIFO,
 * /dev/stdout, /dev/null) is written through, in place, as fopen would.
 * Returns 0, or an errno value with nothing left behind (*o is then
 * closed). */
int gm_cli_file_open(struct gm_cli_file *o, const char *path);

/* Flushes, syncs and closes the file, then gives it its name. Returns 0,
 * or the errno value of the first failure (a write that failed earlier
 * counts: EIO when its errno is gone); on failure the temporary file is
 * removed and PATH is as it was. *o is closed either way. */
int gm_cli_file_commit(struct gm_cli_file *o);

/* Closes the file and removes the temporary one: PATH is as it was. A
 * no-op on a closed *o. */
void gm_cli_file_abort(struct gm_cli_file *o);

/* The whole of path from len bytes: open, write, commit. 0 or errno. */
int gm_cli_file_write(const char *path, const void *bytes, size_t len);

/* ---- the standard streams -------------------------------------------------
 */

/* Call first in main. Makes SIGPIPE harmless (a write to a broken pipe
 * fails with EPIPE; a handler rather than SIG_IGN, so that programs greenml
 * starts get the default back at exec) and gives every closed standard
 * descriptor a placeholder: /dev/null, opened so that writes to stdout and
 * stderr (and reads from stdin) fail with EBADF, as on a closed descriptor.
 * Without it the first file greenml opens would become fd 1 or 2 and
 * receive its messages. */
void gm_cli_streams_init(void);

/* In a child between fork and exec: closes the descriptors that were closed
 * when greenml started, so that the command sees its standard streams as
 * greenml got them. Async-signal-safe. */
void gm_cli_streams_for_child(void);

/* Call last in main with the command's name ("export"; NULL for greenml
 * itself) and exit code. Flushes and closes stdout; when something written
 * there was lost (a broken pipe, a closed descriptor, a full disk) says so
 * on stderr and returns GM_EXIT_IOERR in place of 0. Other codes are
 * returned as they are: the command has already failed and said why. A
 * failure on stderr changes nothing. */
int gm_cli_streams_finish(const char *cmd, int ec);

#endif
