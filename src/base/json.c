/* json.c: see json.h. */
#include "greenml/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gm_json_init(struct gm_json *j) { memset(j, 0, sizeof(*j)); }

void gm_json_release(struct gm_json *j) {
  free(j->buf);
  memset(j, 0, sizeof(*j));
}

static void put(struct gm_json *j, const char *s, size_t n) {
  if (j->oom)
    return;
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 256;
    while (j->len + n + 1 > cap)
      cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) {
      j->oom = true;
      return;
    }
    j->buf = nb;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
}

static void puts_(struct gm_json *j, const char *s) { put(j, s, strlen(s)); }

/* Separates values inside a container; a key already wrote its comma. */
static void value_prefix(struct gm_json *j) {
  if (j->depth > 0 && j->depth < 32) {
    if (j->need_comma[j->depth])
      puts_(j, ",");
    j->need_comma[j->depth] = true;
  }
}

static void prefix(struct gm_json *j) {
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  value_prefix(j);
}

void gm_json_begin_object(struct gm_json *j) {
  prefix(j);
  puts_(j, "{");
  if (j->depth < 31)
    j->need_comma[++j->depth] = false;
}

void gm_json_end_object(struct gm_json *j) {
  puts_(j, "}");
  if (j->depth > 0)
    j->depth--;
}

void gm_json_begin_array(struct gm_json *j) {
  prefix(j);
  puts_(j, "[");
  if (j->depth < 31)
    j->need_comma[++j->depth] = false;
}

void gm_json_end_array(struct gm_json *j) {
  puts_(j, "]");
  if (j->depth > 0)
    j->depth--;
}

static void escaped(struct gm_json *j, const char *s) {
  puts_(j, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[8];
    switch (*p) {
    case '"':
      puts_(j, "\\\"");
      break;
    case '\\':
      puts_(j, "\\\\");
      break;
    case '\n':
      puts_(j, "\\n");
      break;
    case '\t':
      puts_(j, "\\t");
      break;
    case '\r':
      puts_(j, "\\r");
      break;
    default:
      if (*p < 0x20) {
        snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
        puts_(j, tmp);
      } else {
        put(j, (const char *)p, 1);
      }
    }
  }
  puts_(j, "\"");
}

void gm_json_key(struct gm_json *j, const char *key) {
  value_prefix(j);
  escaped(j, key);
  puts_(j, ":");
  j->after_key = true;
}

void gm_json_string(struct gm_json *j, const char *s) {
  prefix(j);
  if (!s)
    puts_(j, "null");
  else
    escaped(j, s);
}

void gm_json_number(struct gm_json *j, double v) {
  prefix(j);
  if (!isfinite(v)) {
    puts_(j, "null");
    return;
  }
  char tmp[40];
  snprintf(tmp, sizeof(tmp), "%.17g", v);
  puts_(j, tmp);
}

void gm_json_int(struct gm_json *j, int64_t v) {
  prefix(j);
  char tmp[32];
  snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
  puts_(j, tmp);
}

void gm_json_bool(struct gm_json *j, bool v) {
  prefix(j);
  puts_(j, v ? "true" : "false");
}

void gm_json_null(struct gm_json *j) {
  prefix(j);
  puts_(j, "null");
}

void gm_json_raw(struct gm_json *j, const char *text) {
  prefix(j);
  puts_(j, text);
}

void gm_json_escape_into(char *out, size_t size, const char *s) {
  struct gm_json j;
  gm_json_init(&j);
  escaped(&j, s);
  if (size) {
    size_t n = j.oom ? 0 : j.len;
    if (n >= size)
      n = size - 1;
    if (n)
      memcpy(out, j.buf, n);
    out[n] = '\0';
  }
  gm_json_release(&j);
}
