/* csv.c: see csv.h. */
#include "base/csv.h"

#include <string.h>

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool gm__csv_each_row(const char *data, size_t len, const char *header,
                      void (*row)(void *ctx, const char *b, const char *e),
                      void *ctx) {
  const char *p = data, *end = data + len;
  bool header_ok = false;
  size_t hl = strlen(header);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    const char *b = p;
    p = nl ? nl + 1 : end;
    while (b < e && is_space(*b))
      b++;
    while (e > b && is_space(e[-1]))
      e--;
    if (b == e || *b == '#')
      continue;
    if (!header_ok) {
      if ((size_t)(e - b) != hl || memcmp(b, header, hl) != 0)
        return false; /* not our table */
      header_ok = true;
      continue;
    }
    row(ctx, b, e);
  }
  return header_ok;
}

bool gm__csv_field(const char *b, const char *e, char *dst, size_t size) {
  while (b < e && is_space(*b))
    b++;
  while (e > b && is_space(e[-1]))
    e--;
  size_t n = (size_t)(e - b);
  if (n == 0 || n >= size)
    return false;
  memcpy(dst, b, n);
  dst[n] = '\0';
  return true;
}
