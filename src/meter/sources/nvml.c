/* nvml.c: NVIDIA GPUs through NVML, loaded at run time with dlopen.
 *
 * Every GPU NVML can open becomes one component "gpu<N>" (N = NVML index, as
 * in nvidia-smi) with seven metrics (utilisation, memory, temperature, SM
 * clock, power limit). Energy comes from the millijoule counter
 * nvmlDeviceGetTotalEnergyConsumption on Volta and newer (provenance: measured
 * counter); older GPUs, and drivers that refuse the counter, are measured by
 * integrating the board power sensor (measured power). The power sensor is
 * read every tick in both cases so the meter can cross-check the counter.
 *
 * The few NVML declarations used are written here: the NVIDIA header is not
 * needed to build, and the library is optional at run time. NVML stays
 * initialised from open to close because the driver may unload between
 * clients and reset the energy counter (docs/sources/nvml.md).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "meter/source.h"

/* ---- The subset of the NVML ABI we use (Linux, plain C calling convention,
 * layouts as in the NVML 12.x/13.x headers). ---- */

typedef enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_INSUFFICIENT_POWER = 8,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_LIBRARY_NOT_FOUND = 12,
  NVML_ERROR_FUNCTION_NOT_FOUND = 13,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
  unsigned int gpu;    /* % of the sample period a kernel was running */
  unsigned int memory; /* % of the sample period memory was read/written */
} nvmlUtilization_t;

typedef struct { /* v1: nvmlDeviceGetMemoryInfo, bytes */
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef enum { NVML_TEMPERATURE_GPU = 0 } nvmlTemperatureSensors_t;

typedef struct { /* nvmlTemperature_v1_t, for nvmlDeviceGetTemperatureV */
  unsigned int version;
  nvmlTemperatureSensors_t sensorType;
  int temperature; /* degrees C */
} nvmlTemperature_t;

/* NVML_STRUCT_VERSION(Temperature, 1) = sizeof | 1 << 24. */
#define NVML_TEMPERATURE_V1 0x0100000Cu

typedef enum { NVML_CLOCK_SM = 1 } nvmlClockType_t;

typedef enum {
  NVML_VALUE_TYPE_DOUBLE = 0,
  NVML_VALUE_TYPE_UNSIGNED_INT = 1,
  NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
  NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
  NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
  NVML_VALUE_TYPE_SIGNED_INT = 5,
  NVML_VALUE_TYPE_UNSIGNED_SHORT = 6
} nvmlValueType_t;

typedef union {
  double dVal;
  int siVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  unsigned short usVal;
} nvmlValue_t;

typedef struct {
  unsigned int fieldId; /* in */
  unsigned int scopeId; /* in: power scope, 0 = GPU only */
  long long timestamp;  /* CPU microseconds since 1970 */
  long long latencyUsec;
  nvmlValueType_t valueType;
  nvmlReturn_t nvmlReturn; /* per field: value is valid only on success */
  nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct { /* nvmlProcessInfo_t of the _v3 (and _v2) process lists */
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct { /* nvmlDeviceGetProcessUtilization */
  unsigned int pid;
  unsigned long long timeStamp; /* CPU timestamp, microseconds */
  unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t layout");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32,
               "nvmlProcessUtilizationSample_t layout");
_Static_assert(sizeof(nvmlUtilization_t) == 8, "nvmlUtilization_t layout");
_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t layout");
_Static_assert(sizeof(nvmlTemperature_t) == 12, "nvmlTemperature_t layout");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t layout");
/* Symbols are stored through a void * (POSIX guarantees this works). */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym pointers");

#define NVML_FI_DEV_POWER_INSTANT 186 /* mW, "all architectures" */
#define NVML_POWER_SCOPE_GPU 0
#define NVML_DEVICE_ARCH_VOLTA 5
#define NVML_DEVICE_ARCH_UNKNOWN 0xffffffffu
#define NVML_DEVICE_BUFFER_SIZE 96  /* name and UUID, NUL included */
#define NVML_VERSION_BUFFER_SIZE 80 /* driver and NVML versions */

/* Every NVML function we call. The first four are required. */
struct nvml_fns {
  nvmlReturn_t (*init)(void);
  nvmlReturn_t (*shutdown)(void);
  nvmlReturn_t (*device_count)(unsigned int *count);
  nvmlReturn_t (*handle_by_index)(unsigned int idx, nvmlDevice_t *dev);
  const char *(*error_string)(nvmlReturn_t r);
  nvmlReturn_t (*driver_version)(char *buf, unsigned int len);
  nvmlReturn_t (*nvml_version)(char *buf, unsigned int len);
  nvmlReturn_t (*name)(nvmlDevice_t dev, char *buf, unsigned int len);
  nvmlReturn_t (*uuid)(nvmlDevice_t dev, char *buf, unsigned int len);
  nvmlReturn_t (*architecture)(nvmlDevice_t dev, unsigned int *arch);
  nvmlReturn_t (*total_energy)(nvmlDevice_t dev, unsigned long long *mj);
  nvmlReturn_t (*power_usage)(nvmlDevice_t dev, unsigned int *mw);
  nvmlReturn_t (*field_values)(nvmlDevice_t dev, int n, nvmlFieldValue_t *v);
  nvmlReturn_t (*utilization)(nvmlDevice_t dev, nvmlUtilization_t *u);
  nvmlReturn_t (*memory_info)(nvmlDevice_t dev, nvmlMemory_t *m);
  nvmlReturn_t (*temperature)(nvmlDevice_t dev, nvmlTemperatureSensors_t s,
                              unsigned int *c);
  nvmlReturn_t (*temperature_v)(nvmlDevice_t dev, nvmlTemperature_t *t);
  nvmlReturn_t (*clock_info)(nvmlDevice_t dev, nvmlClockType_t type,
                             unsigned int *mhz);
  nvmlReturn_t (*enforced_power_limit)(nvmlDevice_t dev, unsigned int *mw);
  nvmlReturn_t (*limit_constraints)(nvmlDevice_t dev, unsigned int *min_mw,
                                    unsigned int *max_mw);
  nvmlReturn_t (*compute_processes)(nvmlDevice_t dev, unsigned int *count,
                                    nvmlProcessInfo_t *infos);
  nvmlReturn_t (*process_utilization)(nvmlDevice_t dev,
                                      nvmlProcessUtilizationSample_t *samples,
                                      unsigned int *count,
                                      unsigned long long last_seen_us);
};

/* ---- The source ---- */

/* How a GPU's power sensor is read; decided once at open. */
enum power_method {
  POWER_NONE,
  POWER_FIELD_INSTANT, /* nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT) */
  POWER_USAGE          /* nvmlDeviceGetPowerUsage: 1-s average on Ampere+ */
};

/* The metrics of one GPU, in the order they are reported. */
enum {
  M_UTIL,
  M_MEM_UTIL,
  M_VRAM_USED,
  M_VRAM_TOTAL,
  M_TEMP,
  M_SM_CLOCK,
  M_POWER_LIMIT,
  METRICS_PER_GPU
};

static const struct {
  const char *suffix;
  const char *unit;
} metric_specs[METRICS_PER_GPU] = {
    [M_UTIL] = {"util", "%"},
    [M_MEM_UTIL] = {"mem_util", "%"},
    [M_VRAM_USED] = {"vram_used", "B"},
    [M_VRAM_TOTAL] = {"vram_total", "B"},
    [M_TEMP] = {"temp", "C"},
    [M_SM_CLOCK] = {"sm_clock", "MHz"},
    [M_POWER_LIMIT] = {"power_limit", "W"},
};

struct gpu {
  nvmlDevice_t dev;
  unsigned int idx; /* NVML index: the N of "gpu<N>" */
  bool counter;     /* energy from nvmlDeviceGetTotalEnergyConsumption */
  enum power_method power;
  bool temperature_v; /* nvmlDeviceGetTemperatureV accepts our version */
  bool lost;          /* GPU_IS_LOST seen: never called again */
  unsigned long long util_seen_us; /* newest process sample seen */
};

struct nvml {
  void *lib;
  struct nvml_fns fn;
  const char *init_name; /* the init symbol found, for messages */
  bool initialised;      /* nvmlShutdown owed */
  size_t n_gpus;
  struct gpu *gpus;                     /* n_gpus */
  struct gm_component_info *components; /* n_gpus */
  struct gm_metric_info *metrics;       /* n_gpus * METRICS_PER_GPU */
};

/* Appends to a NUL-terminated buffer; a truncated result ends in "...". */
static void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  if (len + 1 >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n >= size - len && size >= 4)
    memcpy(buf + size - 4, "...", 4);
}

static const char *nvml_error(const struct nvml *s, nvmlReturn_t r) {
  const char *text = s->fn.error_string ? s->fn.error_string(r) : NULL;
  return text ? text : "unknown NVML error";
}

/* The fix for an NVML error that stops a GPU (or all of them). */
static const char *nvml_fix(nvmlReturn_t r) {
  switch (r) {
  case NVML_ERROR_NO_PERMISSION:
    return "give this user read/write access to /dev/nvidiactl and "
           "/dev/nvidia<N> (join the group that owns them, e.g. "
           "`sudo usermod -aG video $USER`, then log in again), or run as "
           "root";
  case NVML_ERROR_DRIVER_NOT_LOADED:
    return "load the NVIDIA kernel driver (`sudo modprobe nvidia`; install "
           "the NVIDIA driver if the module is missing) and check that "
           "`nvidia-smi` works";
  case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
    return "the NVML library and the loaded kernel driver differ in version: "
           "reboot (or reload the nvidia modules) after the driver upgrade";
  case NVML_ERROR_INSUFFICIENT_POWER:
    return "connect the GPU's external power cables";
  case NVML_ERROR_NOT_SUPPORTED:
    return "this GPU reports neither energy nor power through NVML (e.g. "
           "Jetson boards: use tegrastats); use --no-gpu to skip GPUs";
  case NVML_ERROR_GPU_IS_LOST:
    return "the GPU fell off the bus: check `nvidia-smi` and `dmesg`; a "
           "reboot is usually needed";
  default:
    return "check that `nvidia-smi` works; set GREENML_NVML_LIB to the "
           "driver's libnvidia-ml.so.1, or use --no-gpu to skip GPUs";
  }
}

/* Status of a per-GPU failure. */
static enum gm_status status_from_nvml(nvmlReturn_t r) {
  switch (r) {
  case NVML_SUCCESS:
    return GM_OK;
  case NVML_ERROR_NO_PERMISSION:
    return GM_ERR_PERMISSION;
  case NVML_ERROR_NOT_SUPPORTED:
    return GM_ERR_NOT_SUPPORTED;
  case NVML_ERROR_GPU_IS_LOST:
    return GM_ERR_DEVICE_LOST;
  case NVML_ERROR_DRIVER_NOT_LOADED:
  case NVML_ERROR_LIBRARY_NOT_FOUND:
  case NVML_ERROR_FUNCTION_NOT_FOUND:
  case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
  case NVML_ERROR_INSUFFICIENT_POWER:
    return GM_ERR_UNAVAILABLE;
  default:
    return GM_ERR_IO;
  }
}

static const char *arch_name(unsigned int arch, char *buf, size_t size) {
  switch (arch) {
  case 2:
    return "kepler";
  case 3:
    return "maxwell";
  case 4:
    return "pascal";
  case 5:
    return "volta";
  case 6:
    return "turing";
  case 7:
    return "ampere";
  case 8:
    return "ada";
  case 9:
    return "hopper";
  case 10:
    return "blackwell";
  case 13:
    return "rubin";
  case NVML_DEVICE_ARCH_UNKNOWN:
    return "unknown";
  default:
    gm__fmt(buf, size, "%u", arch);
    return buf;
  }
}

/* Stores the first of names the library exports into *fn, a function
 * pointer of any type. Returns the name found, or NULL. */
static const char *load_sym(void *lib, const char *const *names, void *fn,
                            size_t fn_size) {
  for (; *names; names++) {
    void *p = dlsym(lib, *names);
    if (p) {
      memcpy(fn, &p, fn_size);
      return *names;
    }
  }
  return NULL;
}

/* Versioned names first: the header maps e.g. nvmlInit to nvmlInit_v2, and
 * dlsym does not see that mapping. */
#define LOAD(s, field, ...)                                                    \
  load_sym((s)->lib, (const char *const[]){__VA_ARGS__, NULL}, &(s)->fn.field, \
           sizeof((s)->fn.field))

/* Resolves every symbol; fails only when a required one is missing. */
static enum gm_status load_symbols(struct nvml *s, const char *lib,
                                   struct gm_probe *probe) {
  const char *missing = NULL;
  s->init_name = LOAD(s, init, "nvmlInit_v2", "nvmlInit");
  if (!s->init_name)
    missing = "nvmlInit_v2";
  if (!LOAD(s, shutdown, "nvmlShutdown") && !missing)
    missing = "nvmlShutdown";
  if (!LOAD(s, device_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount") &&
      !missing)
    missing = "nvmlDeviceGetCount_v2";
  if (!LOAD(s, handle_by_index, "nvmlDeviceGetHandleByIndex_v2",
            "nvmlDeviceGetHandleByIndex") &&
      !missing)
    missing = "nvmlDeviceGetHandleByIndex_v2";
  LOAD(s, error_string, "nvmlErrorString");
  LOAD(s, driver_version, "nvmlSystemGetDriverVersion");
  LOAD(s, nvml_version, "nvmlSystemGetNVMLVersion");
  LOAD(s, name, "nvmlDeviceGetName");
  LOAD(s, uuid, "nvmlDeviceGetUUID");
  LOAD(s, architecture, "nvmlDeviceGetArchitecture");
  LOAD(s, total_energy, "nvmlDeviceGetTotalEnergyConsumption");
  LOAD(s, power_usage, "nvmlDeviceGetPowerUsage");
  LOAD(s, field_values, "nvmlDeviceGetFieldValues");
  LOAD(s, utilization, "nvmlDeviceGetUtilizationRates");
  LOAD(s, memory_info, "nvmlDeviceGetMemoryInfo");
  LOAD(s, temperature, "nvmlDeviceGetTemperature");
  LOAD(s, temperature_v, "nvmlDeviceGetTemperatureV");
  LOAD(s, clock_info, "nvmlDeviceGetClockInfo");
  LOAD(s, enforced_power_limit, "nvmlDeviceGetEnforcedPowerLimit");
  LOAD(s, limit_constraints, "nvmlDeviceGetPowerManagementLimitConstraints");
  /* _v1 takes a two-field struct: only the four-field versions are used */
  LOAD(s, compute_processes, "nvmlDeviceGetComputeRunningProcesses_v3",
       "nvmlDeviceGetComputeRunningProcesses_v2");
  LOAD(s, process_utilization, "nvmlDeviceGetProcessUtilization");
  if (!missing)
    return GM_OK;
  gm__fmt(probe->reason, sizeof(probe->reason),
          "'%s' is not a usable NVML library: no symbol '%s'", lib, missing);
  gm__fmt(probe->fix, sizeof(probe->fix),
          "set GREENML_NVML_LIB to the NVIDIA driver's libnvidia-ml.so.1 "
          "(e.g. /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1), or use "
          "--no-gpu to skip GPUs");
  return GM_ERR_UNAVAILABLE;
}

/* Reads the power sensor in milliwatts with the given method. */
static nvmlReturn_t read_power_mw(const struct nvml *s, nvmlDevice_t dev,
                                  enum power_method method, double *mw) {
  if (method == POWER_USAGE) {
    unsigned int v = 0;
    nvmlReturn_t r = s->fn.power_usage(dev, &v);
    *mw = v;
    return r;
  }
  if (method != POWER_FIELD_INSTANT)
    return NVML_ERROR_NOT_SUPPORTED;
  nvmlFieldValue_t fv;
  memset(&fv, 0, sizeof(fv));
  fv.fieldId = NVML_FI_DEV_POWER_INSTANT;
  fv.scopeId = NVML_POWER_SCOPE_GPU;
  /* The call succeeds when any field was filled: the field's own status is
   * what counts. */
  nvmlReturn_t r = s->fn.field_values(dev, 1, &fv);
  if (r != NVML_SUCCESS)
    return r;
  if (fv.nvmlReturn != NVML_SUCCESS)
    return fv.nvmlReturn;
  double v;
  switch (fv.valueType) {
  case NVML_VALUE_TYPE_DOUBLE:
    v = fv.value.dVal;
    break;
  case NVML_VALUE_TYPE_UNSIGNED_INT:
    v = fv.value.uiVal;
    break;
  case NVML_VALUE_TYPE_UNSIGNED_LONG:
    v = (double)fv.value.ulVal;
    break;
  case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG:
    v = (double)fv.value.ullVal;
    break;
  case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
    v = (double)fv.value.sllVal;
    break;
  case NVML_VALUE_TYPE_SIGNED_INT:
    v = fv.value.siVal;
    break;
  case NVML_VALUE_TYPE_UNSIGNED_SHORT:
    v = fv.value.usVal;
    break;
  default:
    return NVML_ERROR_UNKNOWN;
  }
  if (!isfinite(v) || v < 0)
    return NVML_ERROR_UNKNOWN;
  *mw = v;
  return NVML_SUCCESS;
}

/* Picks the power method: the instant field (not the 1-s average that
 * nvmlDeviceGetPowerUsage returns on Ampere and newer), else PowerUsage.
 * Returns the last error when neither works. */
static nvmlReturn_t choose_power(const struct nvml *s, struct gpu *g) {
  double mw;
  nvmlReturn_t r = NVML_ERROR_FUNCTION_NOT_FOUND;
  g->power = POWER_NONE;
  if (s->fn.field_values) {
    r = read_power_mw(s, g->dev, POWER_FIELD_INSTANT, &mw);
    if (r == NVML_SUCCESS) {
      g->power = POWER_FIELD_INSTANT;
      return r;
    }
    if (r == NVML_ERROR_GPU_IS_LOST)
      return r;
  }
  if (s->fn.power_usage) {
    r = read_power_mw(s, g->dev, POWER_USAGE, &mw);
    if (r == NVML_SUCCESS)
      g->power = POWER_USAGE;
  }
  return r;
}

/* The plausible ceiling: twice the highest power limit the board accepts
 * (an administrator may raise the enforced limit up to it while greenml
 * runs; boards overshoot their limit only briefly), else twice the enforced
 * limit; none (the absolute ceiling) when neither is readable. Values above
 * 100 kW are not limits. */
static void set_ceiling(const struct nvml *s, const struct gpu *g,
                        struct gm_component_info *c) {
  unsigned int lo = 0, hi = 0;
  if (s->fn.limit_constraints &&
      s->fn.limit_constraints(g->dev, &lo, &hi) == NVML_SUCCESS && hi > 0 &&
      hi <= 100000000u) {
    c->max_power_w = 2.0 * hi / 1000.0;
    gm__fmt(c->max_power_origin, sizeof(c->max_power_origin),
            "2 x the board's highest power limit, %.0f W (NVML)", hi / 1000.0);
    return;
  }
  if (s->fn.enforced_power_limit &&
      s->fn.enforced_power_limit(g->dev, &hi) == NVML_SUCCESS && hi > 0 &&
      hi <= 100000000u) {
    c->max_power_w = 2.0 * hi / 1000.0;
    gm__fmt(c->max_power_origin, sizeof(c->max_power_origin),
            "2 x the enforced power limit, %.0f W (NVML)", hi / 1000.0);
  }
}

/* Opens GPU idx into g and its component. On failure writes why it was
 * skipped ("gpu1 skipped: ...") and returns the NVML error. */
static nvmlReturn_t open_gpu(struct nvml *s, unsigned int idx,
                             const char *driver, struct gpu *g,
                             struct gm_component_info *c, char *why,
                             size_t why_size) {
  memset(g, 0, sizeof(*g));
  g->idx = idx;
  nvmlReturn_t r = s->fn.handle_by_index(idx, &g->dev);
  if (r != NVML_SUCCESS) {
    gm__fmt(why, why_size, "gpu%u skipped: cannot get its handle: %s", idx,
            nvml_error(s, r));
    return r;
  }

  char name[NVML_DEVICE_BUFFER_SIZE] = "NVIDIA GPU";
  char uuid[NVML_DEVICE_BUFFER_SIZE] = "unknown";
  if (s->fn.name && s->fn.name(g->dev, name, sizeof(name)) != NVML_SUCCESS)
    gm__strlcpy(name, "NVIDIA GPU", sizeof(name));
  if (s->fn.uuid && s->fn.uuid(g->dev, uuid, sizeof(uuid)) != NVML_SUCCESS)
    gm__strlcpy(uuid, "unknown", sizeof(uuid));
  name[sizeof(name) - 1] = '\0';
  uuid[sizeof(uuid) - 1] = '\0';

  /* No architecture (old driver): assume pre-Volta. An architecture too new
   * for the driver's header reads as UNKNOWN (> Volta): the probe decides. */
  unsigned int arch = NVML_DEVICE_ARCH_UNKNOWN;
  bool arch_known =
      s->fn.architecture && s->fn.architecture(g->dev, &arch) == NVML_SUCCESS;
  if (!arch_known)
    arch = NVML_DEVICE_ARCH_UNKNOWN;

  if (arch_known && arch >= NVML_DEVICE_ARCH_VOLTA && s->fn.total_energy) {
    unsigned long long mj;
    r = s->fn.total_energy(g->dev, &mj);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    g->counter = r == NVML_SUCCESS;
  }

  nvmlReturn_t power_r = choose_power(s, g);
  if (power_r == NVML_ERROR_GPU_IS_LOST) {
    r = power_r;
    goto lost;
  }
  if (!g->counter && g->power == POWER_NONE) {
    gm__fmt(why, why_size,
            "gpu%u skipped: neither an energy counter nor a power sensor is "
            "readable: %s",
            idx, nvml_error(s, power_r));
    return power_r == NVML_SUCCESS ? NVML_ERROR_NOT_SUPPORTED : power_r;
  }

  if (s->fn.temperature_v) {
    /* Drivers older than the versioned call's struct say so; use the
     * deprecated call there. */
    nvmlTemperature_t t = {.version = NVML_TEMPERATURE_V1,
                           .sensorType = NVML_TEMPERATURE_GPU};
    r = s->fn.temperature_v(g->dev, &t);
    g->temperature_v =
        !s->fn.temperature || (r != NVML_ERROR_ARGUMENT_VERSION_MISMATCH &&
                               r != NVML_ERROR_FUNCTION_NOT_FOUND);
  }

  memset(c, 0, sizeof(*c));
  gm__fmt(c->name, sizeof(c->name), "gpu%u", idx);
  gm__strlcpy(c->source, "nvml", sizeof(c->source));
  char arch_buf[16];
  gm__fmt(c->detail, sizeof(c->detail), "%s, arch %s, UUID %s, driver %s", name,
          arch_name(arch, arch_buf, sizeof(arch_buf)), uuid, driver);
  c->kind = GM_KIND_GPU;
  c->domain = GM_DOMAIN_GPU;
  c->provenance =
      g->counter ? GM_PROV_MEASURED_COUNTER : GM_PROV_MEASURED_POWER;
  c->in_total = true;
  c->wrap_j = 0; /* 64-bit millijoule counter */
  c->power_interval_mean = false;
  set_ceiling(s, g, c);
  return NVML_SUCCESS;

lost:
  gm__fmt(why, why_size, "gpu%u skipped: %s", idx, nvml_error(s, r));
  return r;
}

static void close_(void *self) {
  struct nvml *s = self;
  if (!s)
    return;
  if (s->initialised)
    s->fn.shutdown();
  if (s->lib)
    dlclose(s->lib);
  free(s->gpus);
  free(s->components);
  free(s->metrics);
  free(s);
}

/* Describes the GPUs in use for probe->found. */
static void describe(const struct nvml *s, unsigned int count,
                     const char *driver, const char *nvml_version,
                     struct gm_probe *probe) {
  char *found = probe->found;
  size_t size = sizeof(probe->found);
  found[0] = '\0';
  if (s->n_gpus == count)
    appendf(found, size, "%zu GPU%s:", s->n_gpus, s->n_gpus == 1 ? "" : "s");
  else
    appendf(found, size, "%zu of %u GPUs:", s->n_gpus, count);
  for (size_t i = 0; i < s->n_gpus; i++) {
    /* The detail starts with the device name, up to the first comma. */
    const char *detail = s->components[i].detail;
    int name_len = (int)strcspn(detail, ",");
    appendf(found, size, "%s %s %.*s (%s)", i ? "," : "", s->components[i].name,
            name_len, detail,
            s->gpus[i].counter ? "energy counter" : "power sensor");
  }
  appendf(found, size, "; driver %s, NVML %s", driver, nvml_version);
}

/* The driver is there and says nothing of its GPUs: all of them, however
 * many, are missing. */
static void missing_gpus(const struct gm__env *env,
                         const struct gm_probe *probe) {
  char why[256];
  gm__fmt(why, sizeof(why),
          "%s; fix: %s (or --no-gpu on a machine without "
          "GPUs)",
          probe->reason, probe->fix);
  gm__missing_add(env, "gpus", "nvml", GM_KIND_GPU, true, why);
}

/* ---- which GPUs (gm_meter_config.gpus) ---------------------------------- */

#define MAX_SELECTED 64

struct selection {
  bool all, none;
  size_t n;
  char item[MAX_SELECTED][96]; /* an index or a UUID (prefix) */
  bool matched[MAX_SELECTED];
};

/* Parses "all", "none", "void" or a comma list. CUDA reads an empty list
 * as no device; so does greenml. */
static void select_parse(const char *spec, struct selection *sel) {
  memset(sel, 0, sizeof(*sel));
  char buf[256];
  gm__strlcpy(buf, spec ? spec : "all", sizeof(buf));
  char *p = buf;
  while (*p == ' ')
    p++;
  if (strcmp(p, "all") == 0) {
    sel->all = true;
    return;
  }
  if (!*p || strcmp(p, "none") == 0 || strcmp(p, "void") == 0 ||
      strcmp(p, "NoDevFiles") == 0) {
    sel->none = true;
    return;
  }
  char *save = NULL;
  for (char *t = strtok_r(p, ",", &save); t && sel->n < MAX_SELECTED;
       t = strtok_r(NULL, ",", &save)) {
    while (*t == ' ')
      t++;
    size_t len = strlen(t);
    while (len && t[len - 1] == ' ')
      t[--len] = '\0';
    if (len)
      gm__strlcpy(sel->item[sel->n++], t, sizeof(sel->item[0]));
  }
  sel->none = sel->n == 0;
}

static bool is_index(const char *t) {
  if (!*t)
    return false;
  for (; *t; t++)
    if (*t < '0' || *t > '9')
      return false;
  return true;
}

/* Whether GPU idx (UUID uuid, "" when unknown) is selected; marks the
 * items that name it. */
static bool select_has(struct selection *sel, unsigned idx, const char *uuid) {
  if (sel->all)
    return true;
  bool hit = false;
  for (size_t k = 0; k < sel->n; k++) {
    const char *t = sel->item[k];
    bool match = is_index(t) ? strtoul(t, NULL, 10) == idx
                             : uuid[0] && strncmp(uuid, t, strlen(t)) == 0;
    if (match) {
      sel->matched[k] = true;
      hit = true;
    }
  }
  return hit;
}

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  enum gm_status st = GM_OK;
  struct nvml *s = NULL;
  *self = NULL;
  probe->found[0] = probe->reason[0] = probe->fix[0] = '\0';
  if (env->no_gpu) {
    gm__strlcpy(probe->reason, "disabled by --no-gpu", sizeof(probe->reason));
    st = GM_ERR_UNAVAILABLE;
    goto fail;
  }
  struct selection sel;
  select_parse(env->gpus, &sel);
  const char *origin = env->gpus_origin ? env->gpus_origin : "--gpus";
  if (sel.none) {
    gm__fmt(probe->reason, sizeof(probe->reason), "no GPU selected (%s='%s')",
            origin, env->gpus ? env->gpus : "");
    st = GM_ERR_UNAVAILABLE;
    goto fail;
  }
  s = calloc(1, sizeof(*s));
  if (!s) {
    st = GM_ERR_NO_MEMORY;
    goto fail;
  }

  const char *lib =
      env->nvml_lib && *env->nvml_lib ? env->nvml_lib : "libnvidia-ml.so.1";
  dlerror(); /* clear a stale error */
  s->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!s->lib) {
    const char *err = dlerror();
    if (!err)
      err = "unknown dlopen error";
    /* dlerror usually starts with the path already. */
    if (strstr(err, lib))
      gm__fmt(probe->reason, sizeof(probe->reason), "cannot load NVML: %s",
              err);
    else
      gm__fmt(probe->reason, sizeof(probe->reason), "cannot load '%s': %s", lib,
              err);
    gm__fmt(probe->fix, sizeof(probe->fix),
            "install the NVIDIA driver (it provides libnvidia-ml.so.1; "
            "`nvidia-smi` should work), or set GREENML_NVML_LIB to the "
            "library's full path; use --no-gpu to skip GPUs");
    st = GM_ERR_UNAVAILABLE;
    goto fail;
  }
  st = load_symbols(s, lib, probe);
  if (st != GM_OK)
    goto fail;

  nvmlReturn_t r = s->fn.init();
  if (r != NVML_SUCCESS) {
    gm__fmt(probe->reason, sizeof(probe->reason), "%s failed: %s", s->init_name,
            nvml_error(s, r));
    gm__strlcpy(probe->fix, nvml_fix(r), sizeof(probe->fix));
    missing_gpus(env, probe);
    st = r == NVML_ERROR_NO_PERMISSION ? GM_ERR_PERMISSION : GM_ERR_UNAVAILABLE;
    goto fail;
  }
  s->initialised = true;

  char driver[NVML_VERSION_BUFFER_SIZE] = "unknown";
  char nvml_version[NVML_VERSION_BUFFER_SIZE] = "unknown";
  if (s->fn.driver_version &&
      s->fn.driver_version(driver, sizeof(driver)) != NVML_SUCCESS)
    gm__strlcpy(driver, "unknown", sizeof(driver));
  if (s->fn.nvml_version &&
      s->fn.nvml_version(nvml_version, sizeof(nvml_version)) != NVML_SUCCESS)
    gm__strlcpy(nvml_version, "unknown", sizeof(nvml_version));
  driver[sizeof(driver) - 1] = nvml_version[sizeof(nvml_version) - 1] = '\0';

  unsigned int count = 0;
  r = s->fn.device_count(&count);
  if (r != NVML_SUCCESS) {
    gm__fmt(probe->reason, sizeof(probe->reason), "cannot count GPUs: %s",
            nvml_error(s, r));
    gm__strlcpy(probe->fix, nvml_fix(r), sizeof(probe->fix));
    missing_gpus(env, probe);
    st = GM_ERR_UNAVAILABLE;
    goto fail;
  }
  if (count == 0) {
    gm__fmt(probe->found, sizeof(probe->found), "driver %s, NVML %s", driver,
            nvml_version);
    gm__strlcpy(probe->reason, "NVML found no GPU", sizeof(probe->reason));
    st = GM_ERR_UNAVAILABLE;
    goto fail;
  }

  s->gpus = calloc(count, sizeof(*s->gpus));
  s->components = calloc(count, sizeof(*s->components));
  s->metrics = calloc((size_t)count * METRICS_PER_GPU, sizeof(*s->metrics));
  if (!s->gpus || !s->components || !s->metrics) {
    st = GM_ERR_NO_MEMORY;
    goto fail;
  }

  /* A GPU that cannot be opened is skipped and explained; the others are
   * still measured. */
  nvmlReturn_t first_skip = NVML_SUCCESS;
  for (unsigned int i = 0; i < count; i++) {
    if (!sel.all) {
      /* a UUID needs the handle; an index does not */
      char uuid[NVML_DEVICE_BUFFER_SIZE] = "";
      nvmlDevice_t dev;
      if (s->fn.uuid && s->fn.handle_by_index(i, &dev) == NVML_SUCCESS &&
          s->fn.uuid(dev, uuid, sizeof(uuid)) != NVML_SUCCESS)
        uuid[0] = '\0';
      uuid[sizeof(uuid) - 1] = '\0';
      if (!select_has(&sel, i, uuid))
        continue; /* not asked for: neither metered nor missing */
    }
    char why[128];
    r = open_gpu(s, i, driver, &s->gpus[s->n_gpus], &s->components[s->n_gpus],
                 why, sizeof(why));
    if (r == NVML_SUCCESS) {
      s->n_gpus++;
      continue;
    }
    appendf(probe->reason, sizeof(probe->reason), "%s%s",
            probe->reason[0] ? "; " : "", why);
    char gname[16], gwhy[256];
    gm__fmt(gname, sizeof(gname), "gpu%u", i);
    gm__fmt(gwhy, sizeof(gwhy), "%s; fix: %s", why, nvml_fix(r));
    gm__missing_add(env, gname, "nvml", GM_KIND_GPU, true, gwhy);
    if (first_skip == NVML_SUCCESS) {
      first_skip = r;
      gm__strlcpy(probe->fix, nvml_fix(r), sizeof(probe->fix));
    }
  }
  /* a GPU asked for that NVML does not have is missing, not ignored */
  for (size_t k = 0; k < sel.n; k++) {
    if (sel.matched[k])
      continue;
    char gname[48], gwhy[256];
    gm__fmt(gname, sizeof(gname), "gpu %s", sel.item[k]);
    gm__fmt(gwhy, sizeof(gwhy),
            "%s='%s' names GPU '%s', which NVML does not have (%u GPU%s: "
            "indices 0 .. %u, or their UUIDs from nvidia-smi -L)",
            origin, env->gpus, sel.item[k], count, count == 1 ? "" : "s",
            count - 1);
    gm__missing_add(env, gname, "nvml", GM_KIND_GPU, true, gwhy);
    appendf(probe->reason, sizeof(probe->reason), "%sno GPU '%s'",
            probe->reason[0] ? "; " : "", sel.item[k]);
  }
  if (s->n_gpus == 0) {
    st = first_skip != NVML_SUCCESS ? status_from_nvml(first_skip)
                                    : GM_ERR_UNAVAILABLE;
    if (first_skip == NVML_SUCCESS && !probe->reason[0])
      gm__fmt(probe->reason, sizeof(probe->reason),
              "none of the %u GPUs is selected (%s='%s')", count, origin,
              env->gpus);
    goto fail;
  }

  for (size_t i = 0; i < s->n_gpus; i++) {
    for (size_t k = 0; k < METRICS_PER_GPU; k++) {
      struct gm_metric_info *m = &s->metrics[i * METRICS_PER_GPU + k];
      gm__fmt(m->name, sizeof(m->name), "gpu%u.%s", s->gpus[i].idx,
              metric_specs[k].suffix);
      gm__strlcpy(m->unit, metric_specs[k].unit, sizeof(m->unit));
      gm__strlcpy(m->source, "nvml", sizeof(m->source));
    }
  }
  describe(s, count, driver, nvml_version, probe);
  if (!sel.all)
    appendf(probe->found, sizeof(probe->found), "; selected by %s='%s'", origin,
            env->gpus);
  *self = s;
  return GM_OK;

fail:
  close_(s);
  return st;
}

static size_t component_count_(const void *self) {
  return ((const struct nvml *)self)->n_gpus;
}

static const struct gm_component_info *component_(const void *self, size_t i) {
  const struct nvml *s = self;
  return i < s->n_gpus ? &s->components[i] : NULL;
}

static size_t metric_count_(const void *self) {
  return ((const struct nvml *)self)->n_gpus * METRICS_PER_GPU;
}

static const struct gm_metric_info *metric_(const void *self, size_t i) {
  const struct nvml *s = self;
  return i < s->n_gpus * METRICS_PER_GPU ? &s->metrics[i] : NULL;
}

/* Reads one GPU. Values that fail this tick stay as they are (the caller
 * set them to "nothing" / NAN); GPU_IS_LOST from any call marks g lost. */
static void read_gpu(const struct nvml *s, struct gpu *g,
                     struct gm__reading *rd, double *m) {
  nvmlReturn_t r;
  if (g->counter) {
    unsigned long long mj = 0;
    r = s->fn.total_energy(g->dev, &mj);
    if (r == NVML_SUCCESS) {
      /* Raw counter value: the meter differences it and handles resets. */
      rd->has_energy = true;
      rd->energy_j = (double)mj / 1000.0;
    } else if (r == NVML_ERROR_GPU_IS_LOST) {
      goto lost;
    }
  }
  double mw = 0;
  r = read_power_mw(s, g->dev, g->power, &mw);
  if (r == NVML_SUCCESS) {
    rd->has_power = true;
    rd->power_w = mw / 1000.0;
  } else if (r == NVML_ERROR_GPU_IS_LOST) {
    goto lost;
  }
  rd->ok = rd->has_energy || rd->has_power;

  if (s->fn.utilization) {
    nvmlUtilization_t u;
    r = s->fn.utilization(g->dev, &u);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS) {
      m[M_UTIL] = u.gpu;
      m[M_MEM_UTIL] = u.memory;
    }
  }
  if (s->fn.memory_info) {
    nvmlMemory_t mem;
    r = s->fn.memory_info(g->dev, &mem);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS) {
      m[M_VRAM_USED] = (double)mem.used;
      m[M_VRAM_TOTAL] = (double)mem.total;
    }
  }
  if (g->temperature_v) {
    nvmlTemperature_t t = {.version = NVML_TEMPERATURE_V1,
                           .sensorType = NVML_TEMPERATURE_GPU};
    r = s->fn.temperature_v(g->dev, &t);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS)
      m[M_TEMP] = t.temperature;
  } else if (s->fn.temperature) {
    unsigned int c;
    r = s->fn.temperature(g->dev, NVML_TEMPERATURE_GPU, &c);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS)
      m[M_TEMP] = c;
  }
  if (s->fn.clock_info) {
    unsigned int mhz;
    r = s->fn.clock_info(g->dev, NVML_CLOCK_SM, &mhz);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS)
      m[M_SM_CLOCK] = mhz;
  }
  if (s->fn.enforced_power_limit) {
    unsigned int limit_mw;
    r = s->fn.enforced_power_limit(g->dev, &limit_mw);
    if (r == NVML_ERROR_GPU_IS_LOST)
      goto lost;
    if (r == NVML_SUCCESS)
      m[M_POWER_LIMIT] = limit_mw / 1000.0;
  }
  return;

lost:
  g->lost = true;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  struct nvml *s = self;
  size_t n_ok = 0, n_lost = 0;
  (void)tick;
  for (size_t i = 0; i < s->n_gpus; i++) {
    struct gpu *g = &s->gpus[i];
    double *m = metrics + i * METRICS_PER_GPU;
    out[i] = (struct gm__reading){.ok = false};
    for (size_t k = 0; k < METRICS_PER_GPU; k++)
      m[k] = NAN;
    if (!g->lost)
      read_gpu(s, g, &out[i], m);
    if (g->lost) {
      out[i] = (struct gm__reading){.ok = false, .lost = true};
      for (size_t k = 0; k < METRICS_PER_GPU; k++)
        m[k] = NAN;
      n_lost++;
    } else if (out[i].ok) {
      n_ok++;
    }
  }
  if (n_ok > 0)
    return GM_OK;
  return n_lost == s->n_gpus ? GM_ERR_DEVICE_LOST : GM_ERR_IO;
}

#define MAX_GPU_PROCS 256

/* The compute processes on GPU i, weighted by their mean SM utilisation over
 * the samples the driver took since the last call when it gives them. */
static long users_(void *self, size_t i, struct gm__user *out, size_t cap) {
  struct nvml *s = self;
  if (i >= s->n_gpus || !s->fn.compute_processes)
    return -1;
  struct gpu *g = &s->gpus[i];
  if (g->lost)
    return -1;
  nvmlProcessInfo_t infos[MAX_GPU_PROCS];
  unsigned int n = MAX_GPU_PROCS;
  nvmlReturn_t r = s->fn.compute_processes(g->dev, &n, infos);
  if (r == NVML_ERROR_GPU_IS_LOST)
    g->lost = true;
  if (r != NVML_SUCCESS || n > MAX_GPU_PROCS)
    return -1;
  for (unsigned k = 0; k < n && k < cap; k++)
    out[k] = (struct gm__user){.pid = (int)infos[k].pid, .weight = NAN};
  if (n == 0 || !s->fn.process_utilization)
    return (long)n;
  nvmlProcessUtilizationSample_t smp[MAX_GPU_PROCS];
  unsigned int ns = MAX_GPU_PROCS;
  r = s->fn.process_utilization(g->dev, smp, &ns, g->util_seen_us);
  if (r != NVML_SUCCESS || ns > MAX_GPU_PROCS)
    return (long)n; /* NOT_FOUND (no sample since), unsupported: unweighted */
  for (unsigned k = 0; k < n && k < cap; k++) {
    double sum = 0;
    unsigned cnt = 0;
    for (unsigned j = 0; j < ns; j++)
      if (smp[j].pid == infos[k].pid && smp[j].smUtil <= 100) {
        sum += smp[j].smUtil;
        cnt++;
      }
    out[k].weight = cnt ? sum / cnt : 0.0; /* no sample: did no work */
  }
  for (unsigned j = 0; j < ns; j++)
    if (smp[j].timeStamp > g->util_seen_us)
      g->util_seen_us = smp[j].timeStamp;
  return (long)n;
}

const struct gm__source_ops gm__source_nvml = {
    .name = "nvml",
    .roles = GM__ROLE_GPU,
    .preference = 0,
    .open = open_,
    .component_count = component_count_,
    .component = component_,
    .metric_count = metric_count_,
    .metric = metric_,
    .read = read_,
    .users = users_,
    .close = close_,
};
