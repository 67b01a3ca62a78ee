/* json.h: the JSON writer greenml's documents are written with (run
 * summaries, bench configurations, host descriptions), public so that every
 * front end emits the same encoding. A growable buffer, no parser. Numbers
 * that are not finite are written as null. Out of memory is sticky: `oom`
 * is set and later calls do nothing. */
#ifndef GREENML_JSON_H
#define GREENML_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"

struct gm_json {
  char *buf;
  size_t len, cap;
  bool oom;
  bool after_key; /* a key was written; the next value needs no comma */
  int depth;
  bool need_comma[32];
};

GM_API void gm_json_init(struct gm_json *j);
GM_API void gm_json_release(struct gm_json *j);
GM_API void gm_json_begin_object(struct gm_json *j);
GM_API void gm_json_end_object(struct gm_json *j);
GM_API void gm_json_begin_array(struct gm_json *j);
GM_API void gm_json_end_array(struct gm_json *j);
/* Writes "key": inside an object; follow it with exactly one value. */
GM_API void gm_json_key(struct gm_json *j, const char *key);
GM_API void gm_json_string(struct gm_json *j, const char *s);
GM_API void gm_json_number(struct gm_json *j, double v);
GM_API void gm_json_int(struct gm_json *j, int64_t v);
GM_API void gm_json_bool(struct gm_json *j, bool v);
GM_API void gm_json_null(struct gm_json *j);
/* Inserts already-encoded JSON as one value. */
GM_API void gm_json_raw(struct gm_json *j, const char *text);
/* Appends a JSON string literal (with quotes) for s into buf. */
GM_API void gm_json_escape_into(char *out, size_t size, const char *s);

#endif
