/* host.c: describes the machine: CPU model and sockets from cpuinfo, memory,
 * DIMMs (SMBIOS / dmidecode / EDAC), GPUs (the meter's NVML components),
 * kernel and whether it is virtualised. */
#define _GNU_SOURCE
#include "greenml/host.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "greenml/json.h"
#include "base/util.h"
#include "greenml/meter.h"
#include "meter/dimm.h"
#include "meter/meter_internal.h"

static void cpuinfo(const char *procfs, struct gm_host *h) {
  char path[512];
  gm__fmt(path, sizeof(path), "%s/cpuinfo", procfs);
  char *text = NULL;
  if (gm__read_all(path, &text, NULL) != GM_OK)
    return;
  int ids[256];
  int n_ids = 0;
  for (char *line = text; line && *line;) {
    char *next = strchr(line, '\n');
    if (next)
      *next = '\0';
    char *colon = strchr(line, ':');
    if (colon) {
      const char *val = colon + 1;
      while (*val == ' ')
        val++;
      if (strncmp(line, "processor", 9) == 0)
        h->logical_cpus++;
      else if (strncmp(line, "model name", 10) == 0 && !h->cpu_model[0])
        gm__strlcpy(h->cpu_model, val, sizeof(h->cpu_model));
      else if (strncmp(line, "physical id", 11) == 0) {
        int id = atoi(val);
        bool seen = false;
        for (int i = 0; i < n_ids; i++)
          seen |= ids[i] == id;
        if (!seen && n_ids < 256)
          ids[n_ids++] = id;
      } else if (strncmp(line, "flags", 5) == 0 && !h->virtualised &&
                 strstr(val, " hypervisor")) {
        h->virtualised = true;
        gm__strlcpy(h->virt_detail, "cpuid hypervisor flag",
                    sizeof(h->virt_detail));
      }
    }
    line = next ? next + 1 : NULL;
  }
  h->sockets = n_ids > 0 ? n_ids : 1;
  free(text);
}

static void virt(const char *sysfs, struct gm_host *h) {
  char path[512], buf[128];
  gm__fmt(path, sizeof(path), "%s/hypervisor/type", sysfs);
  if (gm__read_text(path, buf, sizeof(buf)) == GM_OK && buf[0]) {
    h->virtualised = true;
    gm__fmt(h->virt_detail, sizeof(h->virt_detail), "hypervisor type '%s'",
            buf);
    return;
  }
  gm__fmt(path, sizeof(path), "%s/class/dmi/id/sys_vendor", sysfs);
  if (gm__read_text(path, buf, sizeof(buf)) == GM_OK) {
    const char *vms[] = {"QEMU",      "KVM",     "VMware",     "Xen",
                         "Microsoft", "innotek", "Amazon EC2", "Google"};
    for (size_t i = 0; i < sizeof(vms) / sizeof(vms[0]); i++)
      if (strstr(buf, vms[i])) {
        h->virtualised = true;
        gm__fmt(h->virt_detail, sizeof(h->virt_detail), "DMI vendor '%s'", buf);
        return;
      }
  }
}

static void meminfo(const char *procfs, struct gm_host *h) {
  char path[512], buf[4096];
  gm__fmt(path, sizeof(path), "%s/meminfo", procfs);
  h->mem_total_bytes = NAN;
  if (gm__read_text(path, buf, sizeof(buf)) != GM_OK)
    return;
  unsigned long long kb;
  const char *p = strstr(buf, "MemTotal:");
  if (p && sscanf(p, "MemTotal: %llu kB", &kb) == 1)
    h->mem_total_bytes = (double)kb * 1024.0;
}

static void dimms(const struct gm__env *env, struct gm_host *h) {
  struct gm__dimm *d = NULL;
  size_t n = 0;
  enum gm__dimm_method method = GM_DIMM_NONE;
  gm__strlcpy(h->dimms_json, "[]", sizeof(h->dimms_json));
  if (gm__dimms_detect_ex(env, &d, &n, &method, NULL, 0) != GM_OK) {
    free(d);
    return;
  }
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_array(&j);
  for (size_t i = 0; i < n; i++) {
    gm_json_begin_object(&j);
    gm_json_key(&j, "locator");
    gm_json_string(&j, d[i].locator);
    gm_json_key(&j, "size_bytes");
    gm_json_int(&j, (int64_t)d[i].size_bytes);
    gm_json_key(&j, "type");
    gm_json_string(&j, d[i].type);
    gm_json_key(&j, "speed_mts");
    gm_json_int(&j, d[i].speed_mts);
    gm_json_key(&j, "configured_speed_mts");
    gm_json_int(&j, d[i].configured_speed_mts);
    gm_json_key(&j, "configured_voltage_mv");
    gm_json_int(&j, d[i].configured_voltage_mv);
    gm_json_key(&j, "source");
    gm_json_string(&j, gm__dimm_method_name(method));
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  if (!j.oom && j.len < sizeof(h->dimms_json))
    gm__strlcpy(h->dimms_json, j.buf, sizeof(h->dimms_json));
  gm_json_release(&j);
  free(d);
}

static void gpus(const struct gm_meter *m, struct gm_host *h) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    if (ci->kind != GM_KIND_GPU)
      continue;
    gm_json_begin_object(&j);
    gm_json_key(&j, "name");
    gm_json_string(&j, ci->name);
    gm_json_key(&j, "detail");
    gm_json_string(&j, ci->detail);
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm__strlcpy(h->gpus_json, "[]", sizeof(h->gpus_json));
  if (!j.oom && j.len < sizeof(h->gpus_json))
    gm__strlcpy(h->gpus_json, j.buf, sizeof(h->gpus_json));
  gm_json_release(&j);
}

/* FNV-1a, 64 bit: a stable key, not a security property. */
static uint64_t fnv1a(const char *s, uint64_t h) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= UINT64_C(1099511628211);
  }
  return h;
}

enum gm_status gm_host_detect(const struct gm_meter *m, struct gm_host *out) {
  if (!m || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  const struct gm__env *env = gm__meter_env(m);
  if (gethostname(out->hostname, sizeof(out->hostname) - 1) != 0)
    gm__strlcpy(out->hostname, "unknown", sizeof(out->hostname));
  struct utsname u;
  if (uname(&u) == 0)
    gm__fmt(out->kernel, sizeof(out->kernel), "%s %s %s", u.sysname, u.release,
            u.machine);
  cpuinfo(env->procfs, out);
  if (!out->virtualised)
    virt(env->sysfs, out);
  if (!out->virt_detail[0])
    gm__strlcpy(out->virt_detail, "no hypervisor detected",
                sizeof(out->virt_detail));
  meminfo(env->procfs, out);
  dimms(env, out);
  gpus(m, out);
  char mem[32];
  gm__fmt(mem, sizeof(mem), "%.0f",
          isnan(out->mem_total_bytes) ? 0.0
                                      : out->mem_total_bytes / 1073741824.0);
  uint64_t h = UINT64_C(14695981039346656037);
  h = fnv1a(out->hostname, h);
  h = fnv1a(out->cpu_model, h);
  h = fnv1a(mem, h);
  h = fnv1a(out->gpus_json, h);
  gm__fmt(out->fingerprint, sizeof(out->fingerprint), "%s-%016llx",
          out->hostname, (unsigned long long)h);
  return GM_OK;
}
