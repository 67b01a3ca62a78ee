/* cpu_tdp.h: the built-in CPU TDP table (tables/cpu_tdp.csv, compiled in) and
 * the matching of /proc/cpuinfo "model name" strings against it. Used by the
 * "cpu-tdp-model" source; exposed for tests.
 *
 * Matching (documented in docs/sources/cpu-model.md):
 *   1. Both the brand string and every table model are normalised with
 *      gm__cpu_tdp_normalise.
 *   2. An entry whose normalised form equals the normalised brand string wins
 *      (the first such entry in file order).
 *   3. Otherwise the entry whose whitespace-separated tokens occur as a
 *      contiguous run of the brand string's tokens wins; among several, the
 *      one with the most tokens, then the longest text, then the first in file
 *      order. Only entries with a token holding a digit (a model number) take
 *      part, so "Intel(R) Xeon(R) CPU @ 2.20GHz" matches nothing.
 * Tokens compare whole, so "7502" never matches "7502P" and "i7-12700" never
 * matches "i7-12700K".
 */
#ifndef GM_METER_CPU_TDP_H
#define GM_METER_CPU_TDP_H

#include <stddef.h>

#include "greenml/status.h"

/* Normalises a CPU brand string into out (size bytes, always terminated):
 * cuts everything from the first '@' (the "@ 2.50GHz" clock), removes "(R)",
 * "(TM)", "(C)" and the UTF-8 marks U+00AE and U+2122 (any case), lowercases
 * ASCII letters, drops the whole tokens "cpu" and "processor", and joins the
 * remaining tokens with single spaces (no leading or trailing space).
 * "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz" -> "intel xeon gold 6248". */
void gm__cpu_tdp_normalise(const char *in, char *out, size_t size);

/* Looks a brand string up in the table. On GM_OK *tdp_w is the per-socket
 * TDP in W, *matched the table's model name and *source its source column
 * (both static storage; matched and source may be NULL). GM_ERR_NOT_FOUND
 * when nothing matches, GM_ERR_INVALID_ARG for NULL model_name or tdp_w,
 * GM_ERR_PARSE when the compiled-in table has no valid header. Thread-safe. */
enum gm_status gm__cpu_tdp_lookup(const char *model_name, double *tdp_w,
                                  const char **matched, const char **source);

/* Number of rows parsed from the table, and row i (static storage). */
size_t gm__cpu_tdp_count(void);
enum gm_status gm__cpu_tdp_at(size_t i, const char **model, double *tdp_w,
                              const char **source);

#endif
