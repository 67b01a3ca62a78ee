/* text.h: bounded string formatting and copying, and whole-file reads, for
 * the command's own files. Only public headers here: the command does not
 * use the library's private helpers. */
#ifndef GM_APP_TEXT_H
#define GM_APP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/status.h"

/* snprintf into buf (size bytes); false when the result did not fit (buf
 * then holds the truncated text) or on an encoding error. */
bool gm_cli_text_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies src into dst (size bytes), truncated, always NUL-terminated. */
void gm_cli_text_copy(char *dst, const char *src, size_t size);

/* Reads the whole file at path into a malloc'ed, NUL-terminated buffer:
 * *out is owned by the caller (free), *len (when len is not NULL) its length
 * without the NUL. GM_ERR_NOT_FOUND, GM_ERR_PERMISSION, GM_ERR_IO or
 * GM_ERR_NO_MEMORY on failure, *out then NULL. */
enum gm_status gm_cli_text_read(const char *path, char **out, size_t *len);

#endif
