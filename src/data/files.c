/* files.c: the helpers the CIFAR-10 loader (cifar10.c) and the downloader
 * (cifar10_fetch.c) share: error messages, paths, directories, the status of
 * a failed write. They sit apart from both because the two are built into
 * different libraries (libgreenml-nn and libgreenml-data), each of which
 * gets its own hidden copy of this file. */
#define _POSIX_C_SOURCE 200809L
#include "data/cifar10_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

void gm__data_err(char *err, size_t err_size, const char *fmt, ...) {
  if (!err || err_size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
}

enum gm_status gm__data_path(char *buf, size_t size, const char *dir,
                             const char *name, char *err, size_t err_size) {
  if (!gm__fmt(buf, size, "%s/%s", dir, name)) {
    gm__data_err(err, err_size, "path '%s/%s' is too long", dir, name);
    return GM_ERR_INVALID_ARG;
  }
  return GM_OK;
}

enum gm_status gm__data_write_status(int err) {
  switch (err) {
  case EACCES:
  case EPERM:
  case EROFS:
    return GM_ERR_PERMISSION;
  case ENOMEM:
    return GM_ERR_NO_MEMORY;
  default:
    return GM_ERR_IO;
  }
}

enum gm_status gm__data_mkdir(const char *dir, char *err, size_t err_size) {
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return GM_OK;
  if (mkdir(dir, 0755) == 0)
    return GM_OK;
  int e = errno;
  gm__data_err(err, err_size, "cannot create the directory '%s': %s", dir,
               strerror(e));
  return gm__data_write_status(e);
}
