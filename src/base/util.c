/* util.c: see util.h. */
#define _GNU_SOURCE
#include "base/util.h"

#include "base/fileio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t gm__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * GM_NS_PER_S + ts.tv_nsec;
}

int64_t gm__thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (int64_t)ts.tv_sec * GM_NS_PER_S + ts.tv_nsec;
}

bool gm__fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < size;
}

bool gm__appendf(char *buf, size_t size, size_t *len, const char *fmt, ...) {
  if (!size || *len >= size)
    return false;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *len, size - *len, fmt, ap);
  va_end(ap);
  if (n < 0) {
    buf[*len] = '\0';
    return false;
  }
  if ((size_t)n >= size - *len) {
    *len = size - 1;
    return false;
  }
  *len += (size_t)n;
  return true;
}

enum gm_status gm__status_from_errno(int err) {
  switch (err) {
  case EACCES:
  case EPERM:
    return GM_ERR_PERMISSION;
  case ENOENT:
  case ENODEV:
  case ENXIO:
  case ENOTDIR:
    return GM_ERR_UNAVAILABLE;
  case ENOMEM:
    return GM_ERR_NO_MEMORY;
  default:
    return GM_ERR_IO;
  }
}

enum gm_status gm__read_text(const char *path, char *buf, size_t size) {
  if (size == 0)
    return GM_ERR_INVALID_ARG;
  buf[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return gm__status_from_errno(errno);
  size_t got = 0;
  for (;;) {
    if (got + 1 >= size)
      break;
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      close(fd);
      errno = err;
      return gm__status_from_errno(err);
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  while (got > 0 && isspace((unsigned char)buf[got - 1]))
    buf[--got] = '\0';
  return GM_OK;
}

enum gm_status gm__pread_text(int fd, char *buf, size_t size) {
  if (size == 0 || fd < 0)
    return GM_ERR_INVALID_ARG;
  size_t got = 0;
  while (got + 1 < size) {
    ssize_t n = pread(fd, buf + got, size - 1 - got, (off_t)got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      buf[0] = '\0';
      return gm__status_from_errno(errno);
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  buf[got] = '\0';
  while (got > 0 && isspace((unsigned char)buf[got - 1]))
    buf[--got] = '\0';
  return GM_OK;
}

bool gm__parse_u64(const char *s, uint64_t *out) {
  if (!s || !isdigit((unsigned char)s[0]))
    return false;
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return false;
  *out = (uint64_t)v;
  return true;
}

bool gm__parse_double(const char *s, double *out) {
  if (!s || !*s)
    return false;
  errno = 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
    return false;
  *out = v;
  return true;
}

enum gm_status gm__read_u64(const char *path, uint64_t *out) {
  char buf[64];
  enum gm_status rc = gm__read_text(path, buf, sizeof(buf));
  if (rc != GM_OK)
    return rc;
  if (!gm__parse_u64(buf, out))
    return GM_ERR_PARSE;
  return GM_OK;
}

enum gm_status gm__read_all(const char *path, char **out, size_t *len) {
  return gm__file_read_max(path, GM__READ_ALL_MAX, out, len, NULL, 0);
}

const char *gm__root(const char *explicit_root, const char *env_name,
                     const char *fallback) {
  if (explicit_root && *explicit_root)
    return explicit_root;
  const char *e = env_name ? getenv(env_name) : NULL;
  if (e && *e)
    return e;
  return fallback;
}

void gm__strlcpy(char *dst, const char *src, size_t size) {
  if (size == 0)
    return;
  size_t n = strlen(src);
  if (n >= size)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}
