/* session_json.c: the run's summary document (the JSON of `greenml measure
 * --json`) and the pieces other documents share (session.h). */
#include <math.h>
#include <stdio.h>

#include "session_internal.h"

void gm_json_component_info(struct gm_json *j,
                            const struct gm_component_info *c) {
  gm_json_key(j, "name");
  gm_json_string(j, c->name);
  gm_json_key(j, "kind");
  gm_json_string(j, gm_kind_name(c->kind));
  gm_json_key(j, "domain");
  gm_json_string(j, gm_domain_name(c->domain));
  gm_json_key(j, "source");
  gm_json_string(j, c->source);
  gm_json_key(j, "provenance");
  gm_json_string(j, gm_provenance_name(c->provenance));
  gm_json_key(j, "signal");
  gm_json_string(j, gm_provenance_detail(c->provenance));
  gm_json_key(j, "detail");
  gm_json_string(j, c->detail);
  gm_json_key(j, "in_total");
  gm_json_bool(j, c->in_total);
  gm_json_key(j, "max_power_w");
  gm_json_number(j, c->max_power_w > 0 ? c->max_power_w : NAN);
  gm_json_key(j, "max_power_origin");
  gm_json_string(j, c->max_power_origin);
}

void gm_json_missing(struct gm_json *j, const struct gm_missing *x, size_t n) {
  gm_json_begin_array(j);
  for (size_t i = 0; i < n; i++) {
    gm_json_begin_object(j);
    gm_json_key(j, "name");
    gm_json_string(j, x[i].name);
    gm_json_key(j, "kind");
    gm_json_string(j, gm_kind_name(x[i].kind));
    gm_json_key(j, "source");
    if (x[i].source[0])
      gm_json_string(j, x[i].source);
    else
      gm_json_null(j);
    gm_json_key(j, "in_total");
    gm_json_bool(j, x[i].in_total);
    gm_json_key(j, "reason");
    gm_json_string(j, x[i].reason);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
}

void gm_json_metric_info(struct gm_json *j, const struct gm_metric_info *mi) {
  gm_json_key(j, "name");
  gm_json_string(j, mi->name);
  gm_json_key(j, "unit");
  gm_json_string(j, mi->unit);
  gm_json_key(j, "source");
  gm_json_string(j, mi->source);
}

bool gm_run_component_warning(const struct gm_run_component *c, size_t k,
                              char *buf, size_t size) {
  const struct gm_component_info *ci = &c->info;
  const struct gm_component_stats *cs = &c->stats;
  size_t i = 0;
  if (cs->xcheck_failed && i++ == k) {
    snprintf(buf, size,
             "%s energy counter and integrated power disagree by %.1f %% "
             "(counter %.3f J, power %.3f J)",
             ci->name, 100 * cs->xcheck_rel, cs->energy_j, cs->power_energy_j);
    return true;
  }
  if (cs->glitches && i++ == k) {
    snprintf(buf, size,
             "%s: %llu implausible reading%s discarded (power outside 0 .. "
             "%.0f W, %s; or a counter jump), %s filled from the neighbouring "
             "readings",
             ci->name, (unsigned long long)cs->glitches,
             cs->glitches == 1 ? "" : "s",
             ci->max_power_w > 0 ? ci->max_power_w : 20000.0,
             ci->max_power_origin,
             cs->glitches == 1 ? "its interval" : "their intervals");
    return true;
  }
  if (cs->counter_stopped && i++ == k) {
    snprintf(buf, size,
             "%s energy counter stopped at %.3f s while its power sensor "
             "showed load: integrated from power since then",
             ci->name, cs->counter_stopped_at_s);
    return true;
  }
  if (cs->lost && i++ == k) {
    snprintf(buf, size,
             "%s was lost during the run at %.3f s: its energy covers the run "
             "up to then only",
             ci->name, cs->lost_at_s);
    return true;
  }
  if (cs->read_errors && i++ == k) {
    snprintf(buf, size, "%s could not be read %llu times", ci->name,
             (unsigned long long)cs->read_errors);
    return true;
  }
  if (cs->resets && i++ == k) {
    snprintf(buf, size,
             "%s counter reset %llu times (interval filled from power)",
             ci->name, (unsigned long long)cs->resets);
    return true;
  }
  return false;
}

static void net_check(struct gm_json *j, const char *prefix, double noise_j,
                      enum gm_net_check k) {
  char key[48];
  snprintf(key, sizeof(key), "%snet_noise_j", prefix);
  gm_json_key(j, key);
  gm_json_number(j, noise_j);
  snprintf(key, sizeof(key), "%snet_below_noise", prefix);
  gm_json_key(j, key);
  if (k == GM_NET_UNKNOWN)
    gm_json_null(j);
  else
    gm_json_bool(j, k != GM_NET_ABOVE_NOISE);
  snprintf(key, sizeof(key), "%snet_negative", prefix);
  gm_json_key(j, key);
  if (k == GM_NET_UNKNOWN)
    gm_json_null(j);
  else
    gm_json_bool(j, k == GM_NET_NEGATIVE);
}

static void string_or_null(struct gm_json *j, const char *key, const char *s) {
  gm_json_key(j, key);
  if (s && s[0])
    gm_json_string(j, s);
  else
    gm_json_null(j);
}

static void components(struct gm_json *j, const struct gm_run_record *r) {
  gm_json_begin_array(j);
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    const struct gm_component_stats *cs = &c->stats;
    gm_json_begin_object(j);
    gm_json_component_info(j, &c->info);
    gm_json_key(j, "energy_j");
    gm_json_number(j, cs->energy_j);
    gm_json_key(j, "net_energy_j");
    gm_json_number(j, c->net_energy_j);
    gm_json_key(j, "avg_power_w");
    gm_json_number(j, cs->avg_power_w);
    gm_json_key(j, "peak_power_w");
    gm_json_number(j, cs->peak_power_w);
    gm_json_key(j, "power_sd_w");
    gm_json_number(j, cs->power_sd_w);
    gm_json_key(j, "idle_power_w");
    gm_json_number(j, c->idle_w);
    gm_json_key(j, "idle_sd_w");
    gm_json_number(j, c->idle_sd_w);
    net_check(j, "", c->net_noise_j, c->net_check);
    string_or_null(j, "net_reason", c->net_reason);
    gm_json_key(j, "power_integral_j");
    gm_json_number(j, cs->power_energy_j >= 0 ? cs->power_energy_j : NAN);
    gm_json_key(j, "counter_vs_power_rel");
    gm_json_number(j, cs->xcheck_rel >= 0 ? cs->xcheck_rel : NAN);
    gm_json_key(j, "counter_vs_power_disagree");
    gm_json_bool(j, cs->xcheck_failed);
    gm_json_key(j, "wraps");
    gm_json_int(j, (int64_t)cs->wraps);
    gm_json_key(j, "resets");
    gm_json_int(j, (int64_t)cs->resets);
    gm_json_key(j, "read_errors");
    gm_json_int(j, (int64_t)cs->read_errors);
    gm_json_key(j, "glitches");
    gm_json_int(j, (int64_t)cs->glitches);
    gm_json_key(j, "counter_stopped_at_s");
    gm_json_number(j, cs->counter_stopped ? cs->counter_stopped_at_s : NAN);
    gm_json_key(j, "lost_at_s");
    gm_json_number(j, cs->lost ? cs->lost_at_s : NAN);
    if (r->attributed) {
      const struct gm_attribution *a = &c->attr;
      gm_json_key(j, "attributed");
      gm_json_begin_object(j);
      gm_json_key(j, "energy_j");
      gm_json_number(j, a->energy_j);
      gm_json_key(j, "net_energy_j");
      gm_json_number(j, c->attr_net_j);
      gm_json_key(j, "share_s");
      gm_json_number(j, a->share_s);
      gm_json_key(j, "unknown_j");
      gm_json_number(j, a->unknown_j);
      gm_json_key(j, "last_share");
      gm_json_number(j, a->share);
      gm_json_key(j, "windows");
      gm_json_int(j, (int64_t)a->windows);
      gm_json_key(j, "unknown_windows");
      gm_json_int(j, (int64_t)a->unknown_windows);
      if (a->method == GM_ATTRIB_GPU_PROCESSES) {
        gm_json_key(j, "sole_user_windows");
        gm_json_int(j, (int64_t)a->sole_windows);
        gm_json_key(j, "by_sm_utilisation_windows");
        gm_json_int(j, (int64_t)a->weighted_windows);
        gm_json_key(j, "by_process_count_windows");
        gm_json_int(j, (int64_t)a->counted_windows);
        gm_json_key(j, "not_a_user_windows");
        gm_json_int(j, (int64_t)a->idle_windows);
      }
      gm_json_key(j, "provenance");
      gm_json_string(j, gm_attrib_method_name(a->method));
      gm_json_end_object(j);
    }
    gm_json_key(j, "warnings");
    gm_json_begin_array(j);
    char w[512];
    for (size_t k = 0; gm_run_component_warning(c, k, w, sizeof(w)); k++)
      gm_json_string(j, w);
    gm_json_end_array(j);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
}

static void phases(struct gm_json *j, const struct gm_run_record *r) {
  gm_json_begin_array(j);
  for (size_t p = 0; p < r->n_phases; p++) {
    const struct gm_run_phase *ph = &r->phases[p];
    gm_json_begin_object(j);
    gm_json_key(j, "name");
    gm_json_string(j, ph->name);
    gm_json_key(j, "start_s");
    gm_json_number(j, ph->start_s);
    gm_json_key(j, "duration_s");
    gm_json_number(j, ph->duration_s);
    gm_json_key(j, "ended_by_exit");
    gm_json_bool(j, ph->ended_by_stop);
    gm_json_key(j, "components");
    gm_json_begin_array(j);
    for (size_t c = 0; c < r->n_components; c++) {
      gm_json_begin_object(j);
      gm_json_key(j, "name");
      gm_json_string(j, r->components[c].info.name);
      gm_json_key(j, "energy_j");
      gm_json_number(j, ph->energy_j[c]);
      gm_json_key(j, "net_energy_j");
      gm_json_number(j, ph->net_energy_j[c]);
      if (ph->attributed_j) {
        gm_json_key(j, "attributed_energy_j");
        gm_json_number(j, ph->attributed_j[c]);
        gm_json_key(j, "attributed_net_energy_j");
        gm_json_number(j, ph->attributed_net_j[c]);
      }
      gm_json_end_object(j);
    }
    gm_json_end_array(j);
    gm_json_key(j, "energy_j");
    gm_json_number(j, ph->total.gross_j);
    gm_json_key(j, "net_energy_j");
    gm_json_number(j, ph->total.net_j);
    net_check(j, "", ph->total.net_noise_j, ph->total.net_check);
    gm_json_key(j, "provenance");
    gm_json_string(j, ph->total.provenance);
    if (ph->attributed_j) {
      gm_json_key(j, "attributed_energy_j");
      gm_json_number(j, ph->attributed_total_j);
      gm_json_key(j, "attributed_net_energy_j");
      gm_json_number(j, ph->attributed_total_net_j);
      gm_json_key(j, "attributed_provenance");
      gm_json_string(j, r->attribution.provenance);
    }
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
}

static void store_object(struct gm_json *j, const struct gm_session *s) {
  gm_json_key(j, "store");
  if (!s->have_tally) {
    gm_json_null(j);
    return;
  }
  gm_json_begin_object(j);
  gm_json_key(j, "complete");
  gm_json_bool(j, s->store_complete);
  gm_json_key(j, "samples_stored");
  gm_json_int(j, (int64_t)s->tally.stored);
  gm_json_key(j, "samples_lost");
  gm_json_int(j, (int64_t)s->tally.lost);
  gm_json_key(j, "stored_until_s");
  gm_json_number(j, s->tally.stored_until_s);
  string_or_null(j, "incomplete_cause", s->tally.cause);
  gm_json_end_object(j);
}

static void markers(struct gm_json *j, const struct gm_session *s) {
  gm_json_key(j, "markers");
  if (!s->have_markers) {
    gm_json_null(j);
    return;
  }
  gm_json_begin_object(j);
  gm_json_key(j, "bad_lines");
  gm_json_int(j, s->marker_bad_lines);
  gm_json_key(j, "rejected_before_start");
  gm_json_int(j, s->marker_rejected.before_start);
  gm_json_key(j, "rejected_out_of_order");
  gm_json_int(j, s->marker_rejected.out_of_order);
  gm_json_key(j, "rejected_in_future");
  gm_json_int(j, s->marker_rejected.in_future);
  gm_json_end_object(j);
}

const char *gm_session_json(struct gm_session *s) {
  if (!s || !s->rec)
    return NULL;
  const struct gm_run_record *r = s->rec;
  const struct gm_idle_baseline *b = s->base;
  struct gm_json *j = &s->doc;
  gm_json_release(j);
  gm_json_init(j);
  bool have_idle = false;
  for (size_t i = 0; i < r->n_components; i++)
    have_idle |= !isnan(r->components[i].idle_w);
  gm_json_begin_object(j);
  gm_json_key(j, "greenml_version");
  gm_json_string(j, GM_VERSION_STRING);
  gm_json_key(j, "kind");
  gm_json_string(j, s->kind);
  gm_json_key(j, "command");
  gm_json_string(j, s->command);
  gm_json_key(j, "run_id");
  if (s->run_id > 0)
    gm_json_int(j, s->run_id);
  else
    gm_json_null(j);
  gm_json_key(j, "exit_code");
  gm_json_int(j, s->exit_code);
  gm_json_key(j, "duration_s");
  gm_json_number(j, r->duration_s);
  gm_json_key(j, "interval_s");
  gm_json_number(j, s->interval_s);
  gm_json_key(j, "total_energy_j");
  gm_json_number(j, r->total.gross_j);
  gm_json_key(j, "total_net_energy_j");
  gm_json_number(j, r->total.net_j);
  net_check(j, "total_", r->total.net_noise_j, r->total.net_check);
  gm_json_key(j, "total_provenance");
  gm_json_string(j, r->total.provenance);
  gm_json_key(j, "total_partial");
  gm_json_bool(j, r->total.partial);
  string_or_null(j, "total_partial_why", r->partial_why);
  gm_json_key(j, "attributed");
  if (r->attributed) {
    const struct gm_run_attribution *a = &r->attribution;
    gm_json_begin_object(j);
    gm_json_key(j, "to");
    gm_json_string(j, a->subject);
    gm_json_key(j, "energy_j");
    gm_json_number(j, a->energy_j);
    gm_json_key(j, "net_energy_j");
    gm_json_number(j, a->net_j);
    gm_json_key(j, "share_of_total_pct");
    gm_json_number(j, a->share_pct);
    gm_json_key(j, "unknown_j");
    gm_json_number(j, a->unknown_j);
    gm_json_key(j, "provenance");
    gm_json_string(j, a->provenance);
    gm_json_key(j, "partial");
    gm_json_bool(j, a->partial);
    gm_json_end_object(j);
  } else {
    gm_json_null(j);
  }
  gm_json_key(j, "missing");
  gm_json_missing(j, r->missing, r->n_missing);
  string_or_null(j, "idle_baseline_unmatched",
                 r->n_idle_unmatched ? r->idle_unmatched : NULL);
  gm_json_key(j, "carbon_g");
  gm_json_number(j, s->carbon_g);
  gm_json_key(j, "carbon_net_g");
  gm_json_number(j, s->carbon_net_g);
  gm_json_key(j, "carbon_intensity_g_per_kwh");
  gm_json_number(j, s->intensity);
  gm_json_key(j, "carbon_source");
  gm_json_string(j, s->carbon_source);
  gm_json_key(j, "pue");
  gm_json_number(j, s->pue);
  gm_json_key(j, "sampler_cpu_s");
  gm_json_number(j, r->meter_cpu_s);
  gm_json_key(j, "process_cpu_s");
  gm_json_number(j, s->process_cpu_s);
  gm_json_key(j, "command_cpu_s");
  gm_json_number(j, s->command_cpu_s);
  gm_json_key(j, "missed_ticks");
  gm_json_int(j, (int64_t)r->missed_ticks);
  gm_json_key(j, "dropped_samples");
  gm_json_int(j, (int64_t)r->dropped_samples);
  store_object(j, s);
  gm_json_key(j, "idle_baseline");
  gm_json_string(j, have_idle ? "subtracted" : b ? "not applicable" : "none");
  gm_json_key(j, "idle_baseline_id");
  if (b && b->id > 0)
    gm_json_int(j, b->id);
  else
    gm_json_null(j);
  gm_json_key(j, "idle_baseline_cpu_util_pct");
  gm_json_number(j, b ? b->cpu_util_pct : NAN);
  gm_json_key(j, "idle_baseline_busy");
  if (b)
    gm_json_bool(j, b->busy);
  else
    gm_json_null(j);
  string_or_null(j, "idle_note", s->idle_note);
  gm_json_key(j, "tags");
  gm_json_raw(j, s->tags_json ? s->tags_json : "{}");
  gm_json_key(j, "components");
  components(j, r);
  gm_json_key(j, "metrics");
  gm_json_begin_array(j);
  for (size_t k = 0; k < r->n_metrics; k++) {
    gm_json_begin_object(j);
    gm_json_metric_info(j, &r->metrics[k].info);
    gm_json_key(j, "provenance");
    gm_json_string(j, "measured");
    gm_json_key(j, "mean");
    gm_json_number(j, r->metrics[k].mean);
    gm_json_key(j, "max");
    gm_json_number(j, r->metrics[k].max);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
  gm_json_key(j, "phases");
  phases(j, r);
  markers(j, s);
  gm_json_end_object(j);
  return j->oom ? NULL : j->buf;
}
