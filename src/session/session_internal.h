/* session_internal.h: the session's state, shared by session.c and
 * session_json.c. */
#ifndef GM_SESSION_INTERNAL_H
#define GM_SESSION_INTERNAL_H

#include "greenml/session.h"

struct gm_session {
  struct gm_meter *m;
  struct gm_store *st;     /* the store used: own_st or the caller's */
  struct gm_store *own_st; /* opened by the session */
  int64_t host_id, run_id;
  enum gm_session_idle idle;
  const struct gm_idle_baseline *base; /* applied; NULL: none */
  struct gm_idle_baseline *own_base;   /* loaded by the session */
  bool base_given;
  char idle_note[256];
  char *kind, *command, *tags_json, *carbon_source;
  double intensity, pue, interval_s;
  void (*user_on_sample)(void *ctx, const struct gm_sample *s);
  void (*user_on_flush)(void *ctx);
  void *user_ctx;
  bool started, stopped;
  enum gm_status stop_status;
  int exit_code;
  struct gm_run_record *rec;
  double carbon_g, carbon_net_g;
  struct gm_store_sample_tally tally;
  bool have_tally, store_complete;
  double command_cpu_s, process_cpu_s;
  bool have_markers;
  unsigned marker_bad_lines;
  struct gm_mark_rejected marker_rejected;
  struct gm_json doc;
  char error[512];
};

#endif
