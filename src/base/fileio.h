/* fileio.h: files opened the safe way for a program that may run as root.
 * New files are created exclusively, never through a symlink another user
 * planted at their path; files read are regular files only (a FIFO would
 * block, a device such as /dev/zero never ends) and no larger than a stated
 * limit. libc only; compiled into every library, like util.c. */
#ifndef GM_BASE_FILEIO_H
#define GM_BASE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "greenml/status.h"

/* Largest file gm__read_all reads. */
#define GM__READ_ALL_MAX ((size_t)64 << 20)

/* Creates path for writing with O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
 * and mode (before the umask): whatever stands at path is never opened, so
 * a symlink planted there is never followed. A leftover that is not a
 * directory (an earlier temporary file, or such a symlink) is unlinked
 * (which removes the link, not its target) and the creation retried, a few
 * times. Returns the descriptor, or -1 with errno set (EEXIST when
 * something keeps reappearing at path, EISDIR for a directory). */
int gm__file_create(const char *path, mode_t mode);

/* "a regular file", "a directory", "a FIFO", "a character device", "a
 * block device", "a socket", "a symbolic link" or "a special file". */
const char *gm__file_kind(mode_t mode);

/* Opens path for reading when it is a regular file: the open is
 * non-blocking, so a FIFO cannot hang it, and the type is checked on the
 * descriptor (fstat), so the check and the read concern the same file.
 * *fd receives the descriptor (blocking again; the caller closes it) and
 * *size_bytes (may be NULL) the size fstat reports. On failure *fd is -1,
 * why (may be NULL) receives the reason ("No such file or directory", "a
 * FIFO, not a regular file") and the status is GM_ERR_PARSE for a file of
 * another type, else the status of errno (gm__status_from_errno), with
 * errno set. */
enum gm_status gm__file_open_regular(const char *path, int *fd,
                                     uint64_t *size_bytes, char *why,
                                     size_t why_size);

/* Reads the whole regular file path, of at most max_bytes, into a malloc'ed
 * NUL-terminated buffer (*out, owned by the caller; *len its length, may be
 * NULL). The limit is checked while reading, so files whose reported size
 * is 0 (procfs, sysfs) are bounded too. Failures as gm__file_open_regular,
 * plus GM_ERR_PARSE for a file over max_bytes (why: "larger than N bytes")
 * and GM_ERR_NO_MEMORY. */
enum gm_status gm__file_read_max(const char *path, size_t max_bytes, char **out,
                                 size_t *len, char *why, size_t why_size);

#endif
