/* exporter_internal.h: what the exporter's files share: a growable text
 * buffer (render.c writes into it, server.c hands it to the HTTP library)
 * and the listen address parser (server.c, checked by
 * gm_exporter_listen_check). */
#ifndef GM_EXPORTER_INTERNAL_H
#define GM_EXPORTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/exporter.h"

/* A NUL-terminated string that grows; a failed allocation is sticky (oom),
 * every later append is ignored. */
struct gm__buf {
  char *s;
  size_t len, cap;
  bool oom;
};

void gm__buf_append(struct gm__buf *b, const char *s, size_t n);
void gm__buf_puts(struct gm__buf *b, const char *s);
void gm__buf_printf(struct gm__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A listen address split into its parts: host without brackets ("" for
 * every IPv4 address), the port, and whether it was a bracketed IPv6
 * literal. false with err set when the form is wrong. */
struct gm__listen {
  char host[256];
  unsigned port;
  bool bracketed;
};
bool gm__listen_parse(const char *listen, struct gm__listen *out, char *err,
                      size_t err_size);

/* The watcher of subjects.c: a thread that searches the host every
 * rescan_s for runs and jobs (what: enum gm_exporter_subject_kind bits) and
 * keeps them as the meter's subjects; a snapshot's subjects are copied from
 * it (gm_exporter_snapshot_release frees them). */
struct gm__watch;
enum gm_status gm__watch_start(struct gm_meter *m, unsigned what,
                               double rescan_s, const char *procfs_root,
                               const char *sysfs_root, struct gm__watch **out);
void gm__watch_stop(struct gm__watch *w); /* NULL: no-op */
enum gm_status gm__watch_snapshot(struct gm__watch *w, size_t nc,
                                  struct gm_exporter_snapshot *s);

#endif
