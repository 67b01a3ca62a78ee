/* text.c: see text.h. */
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gm_cli_text_fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < size;
}

void gm_cli_text_copy(char *dst, const char *src, size_t size) {
  if (size == 0)
    return;
  size_t n = strlen(src);
  if (n >= size)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static enum gm_status status_of(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR:
    return GM_ERR_NOT_FOUND;
  case EACCES:
  case EPERM:
    return GM_ERR_PERMISSION;
  case ENOMEM:
    return GM_ERR_NO_MEMORY;
  default:
    return GM_ERR_IO;
  }
}

enum gm_status gm_cli_text_read(const char *path, char **out, size_t *len) {
  *out = NULL;
  if (len)
    *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return status_of(errno);
  enum gm_status rc = GM_OK;
  size_t cap = 4096, got = 0;
  char *buf = malloc(cap);
  if (!buf) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  for (;;) {
    if (got + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        rc = GM_ERR_NO_MEMORY;
        goto fail;
      }
      buf = nb;
      cap *= 2;
    }
    size_t n = fread(buf + got, 1, cap - 1 - got, f);
    got += n;
    if (n == 0) {
      if (ferror(f)) {
        rc = GM_ERR_IO;
        goto fail;
      }
      break;
    }
  }
  fclose(f);
  buf[got] = '\0';
  *out = buf;
  if (len)
    *len = got;
  return GM_OK;
fail:
  free(buf);
  fclose(f);
  return rc;
}
