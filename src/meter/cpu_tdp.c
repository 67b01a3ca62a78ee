/* cpu_tdp.c: see cpu_tdp.h. The table is parsed once (pthread_once) from the
 * compiled-in tables/cpu_tdp.csv into static storage, so the strings handed out
 * live as long as the process. */
#include "meter/cpu_tdp.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "base/csv.h"
#include "base/util.h"

extern const char gm__data_cpu_tdp_csv[];
extern const size_t gm__data_cpu_tdp_csv_len;

enum { TDP_MAX_ROWS = 512, TDP_TEXT = 64, MAX_TOKENS = 32 };

struct tdp_row {
  char model[TDP_TEXT];
  char norm[TDP_TEXT];
  char source[TDP_TEXT];
  double tdp_w;
  bool has_digit; /* some token holds a digit: allowed to match by tokens */
};

static struct tdp_row rows[TDP_MAX_ROWS];
static size_t n_rows;
static bool header_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

static char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive prefix test of an ASCII literal. */
static bool has_prefix_ci(const char *s, const char *lit) {
  for (; *lit; s++, lit++)
    if (lower(*s) != *lit)
      return false;
  return true;
}

/* Appends the finished token tok[0..n) to out unless it is a filler word. */
static void emit_token(const char *tok, size_t n, char *out, size_t size,
                       size_t *used) {
  if (n == 0)
    return;
  if ((n == 3 && memcmp(tok, "cpu", 3) == 0) ||
      (n == 9 && memcmp(tok, "processor", 9) == 0))
    return;
  size_t need = n + (*used > 0 ? 1 : 0);
  if (*used + need >= size)
    return; /* does not fit: drop it rather than cut it in half */
  if (*used > 0)
    out[(*used)++] = ' ';
  memcpy(out + *used, tok, n);
  *used += n;
  out[*used] = '\0';
}

void gm__cpu_tdp_normalise(const char *in, char *out, size_t size) {
  if (!out || size == 0)
    return;
  out[0] = '\0';
  if (!in)
    return;
  size_t used = 0;
  char tok[TDP_TEXT * 2];
  size_t tn = 0;
  const char *p = in;
  while (*p && *p != '@') {
    if (has_prefix_ci(p, "(r)")) {
      p += 3;
    } else if (has_prefix_ci(p, "(tm)")) {
      p += 4;
    } else if (has_prefix_ci(p, "(c)")) {
      p += 3;
    } else if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xAE) {
      p += 2; /* U+00AE registered sign */
    } else if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x84 &&
               (unsigned char)p[2] == 0xA2) {
      p += 3; /* U+2122 trade mark sign */
    } else if (is_space(*p)) {
      emit_token(tok, tn, out, size, &used);
      tn = 0;
      p++;
    } else {
      if (tn < sizeof(tok))
        tok[tn++] = lower(*p);
      p++;
    }
  }
  emit_token(tok, tn, out, size, &used);
}

/* Splits a normalised string (single spaces) into tokens. */
static size_t split_tokens(const char *s, const char *tok[], size_t len[],
                           size_t max) {
  size_t n = 0;
  while (*s && n < max) {
    const char *sp = strchr(s, ' ');
    size_t l = sp ? (size_t)(sp - s) : strlen(s);
    tok[n] = s;
    len[n] = l;
    n++;
    if (!sp)
      break;
    s = sp + 1;
  }
  return n;
}

static void parse_row(const char *b, const char *e) {
  const char *c1 = memchr(b, ',', (size_t)(e - b));
  const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(e - c1 - 1)) : NULL;
  if (!c1 || !c2 || memchr(c2 + 1, ',', (size_t)(e - c2 - 1)))
    return;
  if (n_rows >= TDP_MAX_ROWS)
    return;
  struct tdp_row *r = &rows[n_rows];
  char num[32];
  if (!gm__csv_field(b, c1, r->model, sizeof(r->model)) ||
      !gm__csv_field(c1 + 1, c2, num, sizeof(num)) ||
      !gm__csv_field(c2 + 1, e, r->source, sizeof(r->source)))
    return;
  double w;
  if (!gm__parse_double(num, &w) || w <= 0)
    return;
  r->tdp_w = w;
  gm__cpu_tdp_normalise(r->model, r->norm, sizeof(r->norm));
  if (r->norm[0] == '\0')
    return;
  r->has_digit = strpbrk(r->norm, "0123456789") != NULL;
  n_rows++;
}

static void row_cb(void *ctx, const char *b, const char *e) {
  (void)ctx;
  parse_row(b, e);
}

static void parse_table(void) {
  header_ok = gm__csv_each_row(gm__data_cpu_tdp_csv, gm__data_cpu_tdp_csv_len,
                               "model,tdp_w,source", row_cb, NULL);
}

static void load(void) { pthread_once(&once, parse_table); }

size_t gm__cpu_tdp_count(void) {
  load();
  return n_rows;
}

enum gm_status gm__cpu_tdp_at(size_t i, const char **model, double *tdp_w,
                              const char **source) {
  load();
  if (i >= n_rows)
    return GM_ERR_INVALID_ARG;
  if (model)
    *model = rows[i].model;
  if (tdp_w)
    *tdp_w = rows[i].tdp_w;
  if (source)
    *source = rows[i].source;
  return GM_OK;
}

/* True when the tokens of row occur as a contiguous run in the input's. */
static bool tokens_contain(const char *const in_tok[], const size_t in_len[],
                           size_t n_in, const char *const row_tok[],
                           const size_t row_len[], size_t n_row) {
  if (n_row == 0 || n_row > n_in)
    return false;
  for (size_t s = 0; s + n_row <= n_in; s++) {
    size_t k = 0;
    while (k < n_row && in_len[s + k] == row_len[k] &&
           memcmp(in_tok[s + k], row_tok[k], row_len[k]) == 0)
      k++;
    if (k == n_row)
      return true;
  }
  return false;
}

enum gm_status gm__cpu_tdp_lookup(const char *model_name, double *tdp_w,
                                  const char **matched, const char **source) {
  if (!model_name || !tdp_w)
    return GM_ERR_INVALID_ARG;
  load();
  if (!header_ok)
    return GM_ERR_PARSE;
  char norm[256];
  gm__cpu_tdp_normalise(model_name, norm, sizeof(norm));
  if (norm[0] == '\0')
    return GM_ERR_NOT_FOUND;

  const struct tdp_row *best = NULL;
  for (size_t i = 0; i < n_rows; i++) {
    if (strcmp(rows[i].norm, norm) == 0) {
      best = &rows[i];
      break;
    }
  }
  if (!best) {
    const char *in_tok[MAX_TOKENS];
    size_t in_len[MAX_TOKENS];
    size_t n_in = split_tokens(norm, in_tok, in_len, MAX_TOKENS);
    size_t best_tokens = 0, best_text = 0;
    for (size_t i = 0; i < n_rows; i++) {
      if (!rows[i].has_digit)
        continue;
      const char *row_tok[MAX_TOKENS];
      size_t row_len[MAX_TOKENS];
      size_t n_row = split_tokens(rows[i].norm, row_tok, row_len, MAX_TOKENS);
      if (!tokens_contain(in_tok, in_len, n_in, row_tok, row_len, n_row))
        continue;
      size_t text = strlen(rows[i].norm);
      if (!best || n_row > best_tokens ||
          (n_row == best_tokens && text > best_text)) {
        best = &rows[i];
        best_tokens = n_row;
        best_text = text;
      }
    }
  }
  if (!best)
    return GM_ERR_NOT_FOUND;
  *tdp_w = best->tdp_w;
  if (matched)
    *matched = best->model;
  if (source)
    *source = best->source;
  return GM_OK;
}
