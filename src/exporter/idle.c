/* idle.c: the idle baseline the exporter shows with --idle auto: the one
 * `greenml measure --idle auto` would subtract on this host (exporter.h).
 * Whether it applies to each component is decided by gm_energy_idle_match
 * at every snapshot, never here. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "greenml/exporter.h"
#include "greenml/host.h"
#include "greenml/store.h"

static void note_set(char *note, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_set(char *note, size_t size, const char *fmt, ...) {
  if (!note || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(note, size, fmt, ap);
  va_end(ap);
}

enum gm_status gm_exporter_load_baseline(const struct gm_meter *m,
                                         const char *location,
                                         struct gm_idle_baseline **out,
                                         char *note, size_t note_size) {
  note_set(note, note_size, "%s", "");
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  if (!m || !location || !*location) {
    note_set(note, note_size, "no meter or no database location given");
    return GM_ERR_INVALID_ARG;
  }
  char path[4096];
  struct stat st;
  if (gm_store_location_file(location, path, sizeof(path)) &&
      stat(path, &st) != 0 && errno == ENOENT) {
    note_set(note, note_size,
             "no database at '%s', so no idle baseline: measure one with "
             "'greenml idle --db %s'",
             path, location);
    return GM_ERR_NOT_FOUND;
  }
  struct gm_store *s = NULL;
  char err[512] = "";
  enum gm_status rc = gm_store_open(location, &s, err, sizeof(err));
  if (rc != GM_OK) {
    note_set(note, note_size, "%s", err);
    return rc;
  }
  struct gm_host h;
  int64_t host_id = 0;
  if ((rc = gm_host_detect(m, &h)) == GM_OK)
    rc = gm_store_put_host(s, &h, &host_id);
  if (rc != GM_OK) {
    note_set(note, note_size, "%s", gm_store_last_error(s));
    gm_store_close(s);
    return rc;
  }
  rc = gm_store_load_idle(s, host_id, out);
  if (rc == GM_ERR_NOT_FOUND)
    note_set(note, note_size,
             "no idle baseline for this host in '%s': measure one with "
             "'greenml idle --db %s'",
             location, location);
  else if (rc != GM_OK)
    note_set(note, note_size, "%s", gm_store_last_error(s));
  gm_store_close(s);
  return rc;
}
