/* json_read.h: a small JSON reader for the documents greenml itself writes
 * with greenml/json.h (bench configurations, host descriptions) and stores:
 * the whole text parsed into a tree, values looked up by key. RFC 8259
 * values, nesting up to 64 levels. The writer is greenml/json.h. */
#ifndef GM_BASE_JSON_READ_H
#define GM_BASE_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/status.h"

enum gm__json_type {
  GM__JSON_NULL,
  GM__JSON_BOOL,
  GM__JSON_NUMBER,
  GM__JSON_STRING,
  GM__JSON_ARRAY,
  GM__JSON_OBJECT,
};

struct gm__json_value {
  enum gm__json_type type;
  bool boolean;
  double number;
  char *string; /* STRING: decoded, NUL-terminated */
  /* ARRAY and OBJECT: n items (and keys for an object, in order) */
  size_t n;
  struct gm__json_value *items;
  char **keys;
  /* the value's text in the source, for gm__json_text */
  const char *src;
  size_t src_len;
};

/* Parses text (the whole of it) into *out, owned by the caller
 * (gm__json_free), which also keeps pointers into text: text must outlive
 * it. GM_ERR_PARSE for malformed JSON, GM_ERR_NO_MEMORY. */
enum gm_status gm__json_parse(const char *text, struct gm__json_value **out);
void gm__json_free(struct gm__json_value *v); /* NULL: no-op */

/* The member key of an object; NULL when v is not an object or lacks it. */
const struct gm__json_value *gm__json_get(const struct gm__json_value *v,
                                          const char *key);

/* As SQLite's json_extract gives a value back as text: a string's
 * characters, a number as written, true/false as 1/0, null as "", and an
 * array or object as its JSON without whitespace. */
void gm__json_text(const struct gm__json_value *v, char *buf, size_t size);
/* A number (or a bool as 1/0); NAN otherwise. */
double gm__json_number(const struct gm__json_value *v);

#endif
