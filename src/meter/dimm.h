/* dimm.h: detection of the installed memory modules (DIMMs), for the DRAM
 * power model. Three sources, tried in order:
 *
 *   1. a saved `dmidecode -t memory` text file (env->dmidecode_file),
 *   2. the raw SMBIOS structure table <sysfs>/firmware/dmi/tables/DMI
 *      (mode 0400 root), type 17 "Memory Device" structures,
 *   3. EDAC <sysfs>/devices/system/edac/mc/mc<N>/dimm<M>/{size,dimm_mem_type,
 *      dimm_label} (readable by everyone, only with an EDAC driver loaded; no
 *      speed or voltage).
 *
 * The parsers are pure functions over bytes/text so tests can feed them
 * directly; they never read outside the buffer they are given.
 */
#ifndef GM_METER_DIMM_H
#define GM_METER_DIMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/status.h"
#include "meter/source.h"

/* One populated memory module. Unknown numbers are 0, unknown strings "". */
struct gm__dimm {
  char locator[32];              /* "DIMM_A1", "mc0/dimm2" */
  uint64_t size_bytes;           /* > 0 */
  char type[16];                 /* "DDR4", "DDR5", "LPDDR4", "Unknown", ... */
  unsigned speed_mts;            /* maximum data rate of the module, MT/s */
  unsigned configured_speed_mts; /* data rate it runs at, MT/s */
  unsigned configured_voltage_mv;
  bool registered; /* registered (buffered) or load-reduced module */
};

/* Where the DIMM list came from. */
enum gm__dimm_method {
  GM_DIMM_NONE,
  GM_DIMM_DMIDECODE, /* saved `dmidecode -t memory` output */
  GM_DIMM_SMBIOS,    /* raw SMBIOS table */
  GM_DIMM_EDAC       /* EDAC sysfs */
};

/* "none", "dmidecode", "SMBIOS", "EDAC". */
const char *gm__dimm_method_name(enum gm__dimm_method m);

/* What a walk of an SMBIOS table saw (for explanations and tests). */
struct gm__smbios_walk {
  size_t structures; /* structures walked (complete ones) */
  size_t slots;      /* type 17 structures, populated or not */
  bool end_seen;     /* stopped at type 127 (End-of-Table) */
  bool broken;       /* stopped at a length < 4 header */
  bool truncated;    /* stopped at a structure running past the buffer */
};

/* Decodes every populated type 17 structure of a raw SMBIOS structure table
 * (the content of /sys/firmware/dmi/tables/DMI). Stops at type 127, at a
 * header with length < 4, or at a structure that does not fit in len bytes
 * (that one is not decoded), as dmidecode does. Size 0 (empty slot) and 0xFFFF
 * (unknown) are skipped. GM_OK even when no DIMM was found (*n == 0). *out is
 * malloc'ed (may be NULL when *n == 0); the caller frees it. walk may be NULL.
 */
enum gm_status gm__smbios_parse_type17(const uint8_t *buf, size_t len,
                                       struct gm__dimm **out, size_t *n,
                                       struct gm__smbios_walk *walk);

/* Decodes the "Memory Device" blocks of `dmidecode -t memory` (or plain
 * `dmidecode`) text output. Slots reported as "No Module Installed" or of
 * unknown size are skipped. GM_OK even when none was found (*n == 0).
 * *slots (may be NULL) receives the number of Memory Device blocks. */
enum gm_status gm__dmidecode_parse(const char *text, struct gm__dimm **out,
                                   size_t *n, size_t *slots);

/* Tries the three sources in order and returns the first that yields at least
 * one populated DIMM. how (may be NULL) explains which one was used and why
 * the ones before it failed, e.g. "SMBIOS '/sys/firmware/dmi/tables/DMI': 4
 * of 8 slots populated" or "SMBIOS: '/sys/firmware/dmi/tables/DMI' not
 * readable (permission denied; run as root or ...); EDAC: ...".
 * GM_ERR_UNAVAILABLE when none works (how then lists every failure),
 * GM_ERR_NO_MEMORY. *out is malloc'ed; the caller frees it. */
enum gm_status gm__dimms_detect(const struct gm__env *env,
                                struct gm__dimm **out, size_t *n, char *how,
                                size_t how_size);
/* The same, also saying which method was used (GM_DIMM_NONE on failure). */
enum gm_status gm__dimms_detect_ex(const struct gm__env *env,
                                   struct gm__dimm **out, size_t *n,
                                   enum gm__dimm_method *method, char *how,
                                   size_t how_size);

/* The DRAM model (src/meter/sources/dram_model.c): sum over the DIMMs with
 * size_bytes > 0 of 1/2 C V^2 f, V the configured voltage (else the nominal
 * one of the type), f the I/O clock = data rate / 2 (configured speed, else
 * speed, else the nominal one of the type). c_f <= 0 selects the default
 * C = 3.1 nF. Watts. */
double gm__dram_model_power_w(const struct gm__dimm *d, size_t n, double c_f);

#endif
