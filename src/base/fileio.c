/* fileio.c: see fileio.h. */
#define _GNU_SOURCE
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

/* How often a leftover at a new file's path is removed before giving up. */
#define CREATE_TRIES 8

int gm__file_create(const char *path, mode_t mode) {
  for (int i = 0; i < CREATE_TRIES; i++) {
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EEXIST)
      return fd;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

const char *gm__file_kind(mode_t mode) {
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "a special file";
}

static void say(char *why, size_t why_size, const char *text) {
  if (why && why_size > 0)
    gm__strlcpy(why, text, why_size);
}

enum gm_status gm__file_open_regular(const char *path, int *fd,
                                     uint64_t *size_bytes, char *why,
                                     size_t why_size) {
  *fd = -1;
  say(why, why_size, "");
  int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (f < 0) {
    int e = errno;
    say(why, why_size, strerror(e));
    errno = e;
    return gm__status_from_errno(e);
  }
  struct stat st;
  if (fstat(f, &st) != 0) {
    int e = errno;
    close(f);
    say(why, why_size, strerror(e));
    errno = e;
    return gm__status_from_errno(e);
  }
  if (!S_ISREG(st.st_mode)) {
    close(f);
    if (why && why_size > 0)
      gm__fmt(why, why_size, "%s, not a regular file",
              gm__file_kind(st.st_mode));
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return GM_ERR_PARSE;
  }
  int fl = fcntl(f, F_GETFL);
  if (fl >= 0)
    fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
  if (size_bytes)
    *size_bytes = st.st_size > 0 ? (uint64_t)st.st_size : 0;
  *fd = f;
  return GM_OK;
}

enum gm_status gm__file_read_max(const char *path, size_t max_bytes, char **out,
                                 size_t *len, char *why, size_t why_size) {
  *out = NULL;
  if (len)
    *len = 0;
  int fd = -1;
  uint64_t size = 0;
  enum gm_status rc = gm__file_open_regular(path, &fd, &size, why, why_size);
  if (rc != GM_OK)
    return rc;
  if (size > max_bytes) {
    close(fd);
    if (why && why_size > 0)
      gm__fmt(why, why_size, "%llu bytes, larger than the %zu-byte limit",
              (unsigned long long)size, max_bytes);
    errno = EFBIG;
    return GM_ERR_PARSE;
  }
  size_t cap = size > 0 && size < max_bytes ? (size_t)size + 1 : 4096;
  size_t got = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    close(fd);
    say(why, why_size, "out of memory");
    errno = ENOMEM;
    return GM_ERR_NO_MEMORY;
  }
  for (;;) {
    if (got == cap) {
      if (cap > max_bytes) {
        /* one byte past the limit was read: the file is larger */
        free(buf);
        close(fd);
        if (why && why_size > 0)
          gm__fmt(why, why_size, "larger than the %zu-byte limit", max_bytes);
        errno = EFBIG;
        return GM_ERR_PARSE;
      }
      size_t ncap = cap * 2 > max_bytes ? max_bytes + 1 : cap * 2;
      char *nb = realloc(buf, ncap + 1);
      if (!nb) {
        free(buf);
        close(fd);
        say(why, why_size, "out of memory");
        errno = ENOMEM;
        return GM_ERR_NO_MEMORY;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      free(buf);
      close(fd);
      say(why, why_size, strerror(e));
      errno = e;
      return gm__status_from_errno(e);
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (got > max_bytes) {
    free(buf);
    if (why && why_size > 0)
      gm__fmt(why, why_size, "larger than the %zu-byte limit", max_bytes);
    errno = EFBIG;
    return GM_ERR_PARSE;
  }
  buf[got] = '\0';
  *out = buf;
  if (len)
    *len = got;
  return GM_OK;
}
