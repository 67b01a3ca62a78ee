/* json_read.c: see json_read.h. A recursive-descent parser over the whole
 * text; strings are decoded (\uXXXX with surrogate pairs to UTF-8). */
#define _GNU_SOURCE
#include "base/json_read.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
  const char *p;
  bool oom;
};

static void skip_ws(struct parser *P) {
  while (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r')
    P->p++;
}

static void free_value(struct gm__json_value *v) {
  if (v->type == GM__JSON_STRING)
    free(v->string);
  if (v->type == GM__JSON_ARRAY || v->type == GM__JSON_OBJECT) {
    for (size_t i = 0; i < v->n; i++) {
      free_value(&v->items[i]);
      if (v->keys)
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
  }
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string literal at P->p (the opening quote) into *out (malloc'ed). */
static bool parse_string(struct parser *P, char **out) {
  const char *s = ++P->p;
  size_t raw = 0;
  while (s[raw] && s[raw] != '"') {
    if ((unsigned char)s[raw] < 0x20)
      return false;
    raw += s[raw] == '\\' && s[raw + 1] ? 2 : 1;
  }
  if (s[raw] != '"')
    return false;
  /* decoded text is never longer than the escaped text */
  char *d = malloc(raw + 1);
  if (!d) {
    P->oom = true;
    return false;
  }
  size_t n = 0;
  for (size_t i = 0; i < raw;) {
    if (s[i] != '\\') {
      d[n++] = s[i++];
      continue;
    }
    char e = s[i + 1];
    i += 2;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      d[n++] = e;
      break;
    case 'b':
      d[n++] = '\b';
      break;
    case 'f':
      d[n++] = '\f';
      break;
    case 'n':
      d[n++] = '\n';
      break;
    case 'r':
      d[n++] = '\r';
      break;
    case 't':
      d[n++] = '\t';
      break;
    case 'u': {
      int hi = i + 4 <= raw ? hex4(s + i) : -1;
      if (hi < 0)
        goto bad;
      i += 4;
      uint32_t cp = (uint32_t)hi;
      if (hi >= 0xD800 && hi <= 0xDBFF && i + 6 <= raw && s[i] == '\\' &&
          s[i + 1] == 'u') {
        int lo = hex4(s + i + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) +
               ((uint32_t)lo - 0xDC00);
          i += 6;
        }
      }
      /* a \u escape takes 6 bytes and yields at most 4 (a pair: 12, 4) */
      n += put_utf8(d + n, cp);
      break;
    }
    default:
      goto bad;
    }
  }
  d[n] = '\0';
  P->p = s + raw + 1;
  *out = d;
  return true;
bad:
  free(d);
  return false;
}

static bool parse_value(struct parser *P, struct gm__json_value *v, int depth);

/* Appends one item (and key) to the array or object v. */
static struct gm__json_value *push(struct parser *P, struct gm__json_value *v,
                                   size_t *cap, char *key) {
  if (v->n == *cap) {
    size_t nc = *cap ? 2 * *cap : 4;
    struct gm__json_value *ni = realloc(v->items, nc * sizeof(*ni));
    if (!ni) {
      P->oom = true;
      return NULL;
    }
    v->items = ni;
    if (v->type == GM__JSON_OBJECT) {
      char **nk = realloc(v->keys, nc * sizeof(*nk));
      if (!nk) {
        P->oom = true;
        return NULL;
      }
      v->keys = nk;
    }
    *cap = nc;
  }
  if (v->type == GM__JSON_OBJECT)
    v->keys[v->n] = key;
  struct gm__json_value *item = &v->items[v->n++];
  memset(item, 0, sizeof(*item));
  return item;
}

static bool parse_container(struct parser *P, struct gm__json_value *v,
                            int depth) {
  bool object = *P->p == '{';
  char close = object ? '}' : ']';
  v->type = object ? GM__JSON_OBJECT : GM__JSON_ARRAY;
  P->p++;
  skip_ws(P);
  if (*P->p == close) {
    P->p++;
    return true;
  }
  size_t cap = 0;
  for (;;) {
    char *key = NULL;
    if (object) {
      skip_ws(P);
      if (*P->p != '"' || !parse_string(P, &key))
        return false;
      skip_ws(P);
      if (*P->p != ':') {
        free(key);
        return false;
      }
      P->p++;
    }
    struct gm__json_value *item = push(P, v, &cap, key);
    if (!item) {
      free(key);
      return false;
    }
    if (!parse_value(P, item, depth + 1))
      return false;
    skip_ws(P);
    if (*P->p == ',') {
      P->p++;
      continue;
    }
    if (*P->p != close)
      return false;
    P->p++;
    return true;
  }
}

static bool parse_number(struct parser *P, struct gm__json_value *v) {
  const char *s = P->p;
  if (*s == '-')
    s++;
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    while (*s >= '0' && *s <= '9')
      s++;
  else
    return false;
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  v->type = GM__JSON_NUMBER;
  v->number = strtod(P->p, NULL);
  P->p = s;
  return true;
}

static bool literal(struct parser *P, const char *word) {
  size_t n = strlen(word);
  if (strncmp(P->p, word, n) != 0)
    return false;
  P->p += n;
  return true;
}

static bool parse_value(struct parser *P, struct gm__json_value *v, int depth) {
  if (depth > MAX_DEPTH)
    return false;
  skip_ws(P);
  v->src = P->p;
  bool ok;
  switch (*P->p) {
  case '{':
  case '[':
    ok = parse_container(P, v, depth);
    break;
  case '"':
    v->type = GM__JSON_STRING;
    ok = parse_string(P, &v->string);
    break;
  case 't':
    v->type = GM__JSON_BOOL;
    v->boolean = true;
    ok = literal(P, "true");
    break;
  case 'f':
    v->type = GM__JSON_BOOL;
    ok = literal(P, "false");
    break;
  case 'n':
    v->type = GM__JSON_NULL;
    ok = literal(P, "null");
    break;
  default:
    ok = parse_number(P, v);
  }
  v->src_len = (size_t)(P->p - v->src);
  return ok;
}

enum gm_status gm__json_parse(const char *text, struct gm__json_value **out) {
  *out = NULL;
  if (!text)
    return GM_ERR_INVALID_ARG;
  struct gm__json_value *v = calloc(1, sizeof(*v));
  if (!v)
    return GM_ERR_NO_MEMORY;
  struct parser P = {text, false};
  bool ok = parse_value(&P, v, 0);
  skip_ws(&P);
  if (!ok || *P.p) {
    gm__json_free(v);
    return P.oom ? GM_ERR_NO_MEMORY : GM_ERR_PARSE;
  }
  *out = v;
  return GM_OK;
}

void gm__json_free(struct gm__json_value *v) {
  if (!v)
    return;
  free_value(v);
  free(v);
}

const struct gm__json_value *gm__json_get(const struct gm__json_value *v,
                                          const char *key) {
  if (!v || v->type != GM__JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0)
      return &v->items[i];
  return NULL;
}

double gm__json_number(const struct gm__json_value *v) {
  if (v && v->type == GM__JSON_NUMBER)
    return v->number;
  if (v && v->type == GM__JSON_BOOL)
    return v->boolean;
  return NAN;
}

void gm__json_text(const struct gm__json_value *v, char *buf, size_t size) {
  if (!size)
    return;
  buf[0] = '\0';
  if (!v)
    return;
  switch (v->type) {
  case GM__JSON_NULL:
    return;
  case GM__JSON_BOOL:
    snprintf(buf, size, "%d", v->boolean ? 1 : 0);
    return;
  case GM__JSON_STRING:
    snprintf(buf, size, "%s", v->string);
    return;
  case GM__JSON_NUMBER:
    snprintf(buf, size, "%.*s", (int)v->src_len, v->src);
    return;
  case GM__JSON_ARRAY:
  case GM__JSON_OBJECT:
    break;
  }
  /* the source without the whitespace outside strings */
  size_t n = 0;
  bool in_str = false;
  for (size_t i = 0; i < v->src_len && n + 1 < size; i++) {
    char c = v->src[i];
    if (in_str) {
      buf[n++] = c;
      if (c == '\\' && i + 1 < v->src_len && n + 1 < size)
        buf[n++] = v->src[++i];
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
      buf[n++] = c;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      buf[n++] = c;
    }
  }
  buf[n] = '\0';
}
