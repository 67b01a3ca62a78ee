/* util.h: small helpers shared by the library: paths under overridable
 * roots, whole-file reads, number parsing, monotonic time. libc only. */
#ifndef GM_BASE_UTIL_H
#define GM_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/status.h"

#define GM_NS_PER_S INT64_C(1000000000)

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t gm__now_ns(void);
/* CPU time of the calling thread in nanoseconds. */
int64_t gm__thread_cpu_ns(void);

/* snprintf into buf; returns false when truncated. */
bool gm__fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf at buf + *len (< size), advancing *len; the text is cut at
 * size - 1 bytes and false returned when it does not fit. */
bool gm__appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Maps errno to a status: EACCES/EPERM -> PERMISSION, ENOENT/ENODEV/ENXIO ->
 * UNAVAILABLE, else IO. */
enum gm_status gm__status_from_errno(int err);

/* Reads a whole small file (at most size-1 bytes) into buf, NUL-terminated,
 * trailing whitespace stripped. On failure returns the mapped status and
 * leaves errno set. */
enum gm_status gm__read_text(const char *path, char *buf, size_t size);

/* Reads a whole small file through an open descriptor from offset 0 (pread),
 * as gm__read_text does; for procfs files re-read every tick. */
enum gm_status gm__pread_text(int fd, char *buf, size_t size);

/* Reads a file holding one unsigned decimal integer. GM_ERR_PARSE when the
 * content is not exactly that. */
enum gm_status gm__read_u64(const char *path, uint64_t *out);

/* Parses an unsigned decimal integer occupying the whole string. */
bool gm__parse_u64(const char *s, uint64_t *out);
/* Parses a finite double occupying the whole string. */
bool gm__parse_double(const char *s, double *out);

/* Reads a whole regular file of at most GM__READ_ALL_MAX bytes (fileio.h)
 * into a malloc'ed buffer (NUL-terminated). *out is owned by the caller
 * (free). A FIFO, a device or a directory is GM_ERR_PARSE, as is a larger
 * file (errno EFBIG); gm__file_read_max says why. */
enum gm_status gm__read_all(const char *path, char **out, size_t *len);

/* Resolves a root: explicit value, else the environment variable, else the
 * default. The result is borrowed from one of the three. */
const char *gm__root(const char *explicit_root, const char *env_name,
                     const char *fallback);

/* Copies src into dst (size bytes), always NUL-terminated. */
void gm__strlcpy(char *dst, const char *src, size_t size);

#endif
