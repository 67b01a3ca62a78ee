/* attrib.h: the energy of a subject (a process tree or a cgroup) out of the
 * machine's, window by window (see attrib.c for the rules). Used by the
 * meter on its sampler thread only. */
#ifndef GM_METER_ATTRIB_H
#define GM_METER_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/meter.h"
#include "meter/source.h"

struct gm__attrib;

/* The processes using component c (a GPU): as gm__source_ops.users. */
typedef long (*gm__attrib_users_fn)(void *ctx, size_t c, struct gm__user *out,
                                    size_t cap);

struct gm__attrib_config {
  const char *procfs; /* the procfs root */
  int pid;            /* > 0: the process tree of pid */
  /* else a cgroup v2 directory: the path under the hierarchy ("/a/b") and
   * the hierarchy's mount (the sysfs root's fs/cgroup) */
  const char *cgroup;
  const char *cgroup_mount;
  /* the components' cumulative energy when the subject begins (NULL: 0,
   * the meter's start): what they drew since, before the first window, has
   * no share */
  const double *base_j;
};

/* GM_ERR_INVALID_ARG (no subject), GM_ERR_NOT_FOUND (the cgroup has no
 * cpu.stat; why says so), GM_ERR_NO_MEMORY. */
enum gm_status gm__attrib_open(const struct gm__attrib_config *cfg, size_t nc,
                               const struct gm_component_info *comps,
                               struct gm__attrib **out, char *why,
                               size_t why_size);
void gm__attrib_close(struct gm__attrib *a);

/* One tick at t_ns. window: procstat read /proc/stat afresh, busy_s the
 * machine's busy CPU seconds then; self_s the CPU seconds the meter itself
 * spent inside the subject so far (its sampler, when the subject is the
 * meter's own process; else 0), which are not the subject's; cum_j the
 * components' cumulative energies; final: the meter's last tick (a stretch
 * after the last window gets the latest shares). Closes a window when one
 * is due. */
void gm__attrib_tick(struct gm__attrib *a, int64_t t_ns, bool window,
                     double busy_s, double self_s, const double *cum_j,
                     bool final, gm__attrib_users_fn users, void *users_ctx);

/* The account of component c so far. */
void gm__attrib_get(const struct gm__attrib *a, size_t c,
                    struct gm_attribution *out);
/* The cumulative attributed energies (nc entries, borrowed). */
const double *gm__attrib_energy(const struct gm__attrib *a);
/* The cumulative share-times (nc entries, borrowed). */
const double *gm__attrib_share_s(const struct gm__attrib *a);
const char *gm__attrib_subject(const struct gm__attrib *a);

#endif
