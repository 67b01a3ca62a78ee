/* json.h: a minimal JSON writer into a growable buffer, enough for the
 * documents greenml emits (no parser). Numbers that are not finite are
 * written as null. */
#ifndef GM_BASE_JSON_H
#define GM_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gm__json {
  char *buf;
  size_t len, cap;
  bool oom;
  bool after_key; /* a key was written; the next value needs no comma */
  int depth;
  bool need_comma[32];
};

void gm__json_init(struct gm__json *j);
void gm__json_release(struct gm__json *j);
void gm__json_begin_object(struct gm__json *j);
void gm__json_end_object(struct gm__json *j);
void gm__json_begin_array(struct gm__json *j);
void gm__json_end_array(struct gm__json *j);
/* Writes "key": inside an object; follow it with exactly one value. */
void gm__json_key(struct gm__json *j, const char *key);
void gm__json_string(struct gm__json *j, const char *s);
void gm__json_number(struct gm__json *j, double v);
void gm__json_int(struct gm__json *j, int64_t v);
void gm__json_bool(struct gm__json *j, bool v);
void gm__json_null(struct gm__json *j);
/* Inserts already-encoded JSON as one value. */
void gm__json_raw(struct gm__json *j, const char *text);
/* Appends a JSON string literal (with quotes) for s into buf. */
void gm__json_escape_into(char *out, size_t size, const char *s);

#endif
