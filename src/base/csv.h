/* csv.h: the embedded data tables (tables/NAME.csv): comment lines start
   with '#', blank lines are skipped, one exact header line, then rows. */
#ifndef GM_BASE_CSV_H
#define GM_BASE_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* Calls row(ctx, begin, end) for each data line of data[0..len), trimmed of
 * surrounding white space. Returns false (and calls nothing) when the first
 * non-comment line is not exactly header. */
bool gm__csv_each_row(const char *data, size_t len, const char *header,
                      void (*row)(void *ctx, const char *b, const char *e),
                      void *ctx);

/* Copies the field [b, e) into dst with surrounding blanks trimmed; false
 * when it is empty or does not fit in size bytes. */
bool gm__csv_field(const char *b, const char *e, char *dst, size_t size);

#endif
