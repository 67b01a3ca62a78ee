/* session_kv.c: gm_session_open_kv, the session's configuration as text
 * (session.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "greenml/carbon.h"
#include "greenml/session.h"

static bool number(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s || !(v >= lo) || !(v <= hi))
    return false;
  *out = v;
  return true;
}

static bool integer(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

/* The tags must be one JSON object of strings: they are stored and written
 * into documents as they are. */
static bool tags_ok(const char *text) {
  struct gm__json_value *v = NULL;
  if (gm__json_parse(text, &v) != GM_OK)
    return false;
  bool ok = v->type == GM__JSON_OBJECT;
  for (size_t i = 0; ok && i < v->n; i++)
    ok = v->items[i].type == GM__JSON_STRING;
  gm__json_free(v);
  return ok;
}

#define BAD(...)                                                               \
  do {                                                                         \
    if (err)                                                                   \
      snprintf(err, err_size, __VA_ARGS__);                                    \
    return GM_ERR_INVALID_ARG;                                                 \
  } while (0)

enum gm_status gm_session_open_kv(const char *const *keys,
                                  const char *const *values, size_t n,
                                  struct gm_session **out, char *err,
                                  size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!out || (n && (!keys || !values)))
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_session_config c = gm_session_config_default();
  const char *region = NULL;
  double intensity = -1;
  char source[256] = "";
  for (size_t i = 0; i < n; i++) {
    const char *k = keys[i], *v = values[i];
    if (!k || !v)
      BAD("configuration entry %zu is NULL", i);
    double d;
    long long ll;
    if (strcmp(k, "interval_ns") == 0) {
      if (!integer(v, 1000000LL, 60000000000LL, &ll))
        BAD("interval '%s' ns is not between 1 ms and 60 s", v);
      c.meter.interval_ns = ll;
    } else if (strcmp(k, "db") == 0) {
      c.db = *v ? v : NULL;
    } else if (strcmp(k, "idle") == 0) {
      if (strcmp(v, "auto") == 0)
        c.idle = GM_SESSION_IDLE_AUTO;
      else if (strcmp(v, "none") == 0)
        c.idle = GM_SESSION_IDLE_NONE;
      else
        BAD("idle '%s' is not 'auto' or 'none'", v);
    } else if (strcmp(k, "kind") == 0) {
      if (!*v || strlen(v) > 15)
        BAD("kind '%s' must be 1 to 15 characters", v);
      c.kind = v;
    } else if (strcmp(k, "command") == 0) {
      c.command = v;
    } else if (strcmp(k, "tags") == 0) {
      if (!tags_ok(v))
        BAD("tags '%s' are not a JSON object of strings", v);
      c.tags_json = v;
    } else if (strcmp(k, "region") == 0) {
      region = v;
    } else if (strcmp(k, "carbon_intensity") == 0) {
      if (!number(v, 0, 5000, &intensity))
        BAD("carbon intensity '%s' is not a value in gCO2e/kWh (0 .. 5000)", v);
    } else if (strcmp(k, "pue") == 0) {
      if (!number(v, 1.0, 5.0, &d))
        BAD("pue '%s' must be a number from 1.0 to 5.0", v);
      c.pue = d;
    } else if (strcmp(k, "cpu_tdp_w") == 0) {
      if (!number(v, 1e-3, 1e5, &d))
        BAD("cpu_tdp_w '%s' is not a power in W above 0", v);
      c.meter.cpu_tdp_w = d;
    } else if (strcmp(k, "dimm_capacitance_f") == 0) {
      if (!number(v, 1e-15, 1e-3, &d))
        BAD("dimm_capacitance_f '%s' is not a capacitance in F above 0", v);
      c.meter.dimm_capacitance_f = d;
    } else if (strcmp(k, "dmidecode") == 0) {
      c.meter.dmidecode_file = v;
    } else if (strcmp(k, "no_gpu") == 0) {
      if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        BAD("no_gpu '%s' is not 0 or 1", v);
      c.meter.no_gpu = v[0] == '1';
    } else if (strcmp(k, "gpus") == 0) {
      if (!*v || strlen(v) >= 256)
        BAD("gpus '%s' is not all, none or a list of GPU indices and UUIDs", v);
      c.meter.gpus = v;
    } else if (strcmp(k, "track_pid") == 0) {
      if (!integer(v, 1, 0x7fffffffLL, &ll))
        BAD("track_pid '%s' is not a process id", v);
      c.meter.track_pid = (int)ll;
    } else if (strcmp(k, "track_cgroup") == 0) {
      if (v[0] != '/' || strlen(v) >= 256 || strstr(v, ".."))
        BAD("track_cgroup '%s' is not a cgroup v2 path such as "
            "/system.slice/job.scope",
            v);
      c.meter.track_cgroup = v;
    } else if (strcmp(k, "sysfs_root") == 0) {
      c.meter.sysfs_root = v;
    } else if (strcmp(k, "procfs_root") == 0) {
      c.meter.procfs_root = v;
    } else if (strcmp(k, "devfs_root") == 0) {
      c.meter.devfs_root = v;
    } else if (strcmp(k, "nvml_lib") == 0) {
      c.meter.nvml_lib = v;
    } else {
      BAD("unknown session setting '%s'", k);
    }
  }
  if (region && intensity >= 0)
    BAD("region and carbon_intensity cannot be used together");
  if (intensity >= 0) {
    c.carbon_g_per_kwh = intensity;
    snprintf(source, sizeof(source), "carbon_intensity given");
  } else {
    struct gm_carbon_entry e;
    if (gm_carbon_lookup(region ? region : "WORLD", &e) != GM_OK)
      BAD("region '%s' is not in the carbon table (ISO 3166-1 alpha-2 "
          "codes and WORLD); give carbon_intensity instead",
          region);
    c.carbon_g_per_kwh = e.g_per_kwh;
    snprintf(source, sizeof(source), "%s%s %s, %.96s %d",
             region ? "region " : "no region: ", e.code, e.country, e.source,
             e.year);
  }
  c.carbon_source = source;
  return gm_session_open(&c, out, err, err_size);
}
