/* fake_nvml.c: a scripted stand-in for the NVIDIA driver's libnvidia-ml.so.1.
 *
 * Built as build/fakes/libnvidia-ml.so.1 (tests/CMakeLists.txt); tests load it
 * through GREENML_NVML_LIB / gm_meter_config.nvml_lib, so the production
 * dlopen path is the one tested. It exports the NVML functions greenml uses
 * (versioned names and the unversioned ones) with the real C signatures and
 * struct layouts. The declarations are written again here on purpose: a
 * layout mistake in src/meter/sources/nvml.c must not be copied into the fake.
 *
 * Behaviour comes from the script file named by GREENML_FAKE_NVML_SCRIPT,
 * read by the first nvmlInit* (NVML init is reference counted; the last
 * nvmlShutdown forgets the state). Without the variable there is one H100
 * with an energy counter. GREENML_FAKE_NVML_INIT=<code> makes nvmlInit*
 * return <code> (overrides the script's `init`).
 *
 * Script format: one directive per line, `#` starts a comment line; codes are
 * nvmlReturn_t numbers (3 NOT_SUPPORTED, 4 NO_PERMISSION, 9 DRIVER_NOT_LOADED,
 * 15 GPU_IS_LOST, 18 LIB_RM_VERSION_MISMATCH, 999 UNKNOWN).
 *
 *   init 4                     nvmlInit* returns this code (default 0)
 *   driver 550.54.15           nvmlSystemGetDriverVersion
 *   nvml 12.550.54.15          nvmlSystemGetNVMLVersion
 *   gpu key=value ...          adds a GPU (index = order of `gpu` lines):
 *       name="NVIDIA H100 80GB HBM3"  uuid=GPU-...  arch=9 (5 = Volta)
 *       power_mw=250000        power sensor (both power calls), mW
 *       field_type=1           nvmlValueType_t of the power field (0 double,
 *                              1 uint, 2 ulong, 3 ull, 4 sll, 5 int, 6 ushort)
 *       energy_mj=1000000 energy_step_mj=25000
 *                              counter: start + step x (energy calls so far)
 *       util=50 mem_util=20 vram_total=<B> vram_used=<B> temp=60 sm_clock=1410
 *       power_limit_mw=700000
 *       handle_error=4         nvmlDeviceGetHandleByIndex_v2 fails with it
 *       temp_v=0               nvmlDeviceGetTemperatureV answers
 *                              ARGUMENT_VERSION_MISMATCH (an older driver)
 *   energy_trace <gpu> = v0,v1,...  mJ returned by the k-th energy call
 *                                   (the last value repeats)
 *   power_trace <gpu> = v0,v1,...   mW returned by the k-th power reading
 *                                   (field 186 and PowerUsage counted together)
 *   lost_after <gpu> = N       the (N+1)-th energy/power reading of the GPU
 *                              and every call on it after that return
 *                              GPU_IS_LOST
 *   not_supported <gpu> = a,b  these answer NOT_SUPPORTED: energy, field (the
 *                              call succeeds, the field's nvmlReturn is 3),
 *                              power (PowerUsage), util, memory, temp, clock,
 *                              power_limit, arch, procs (the process lists)
 *   procs <gpu> = pid[:sm],... the compute processes on the GPU (default
 *                              none); with :sm on any of them,
 *                              nvmlDeviceGetProcessUtilization answers one
 *                              sample per process with that SM utilisation
 *                              (%), stamped after the caller's last seen
 *
 * Every entry point takes one mutex (NVML is documented as thread-safe).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* ---- The NVML ABI (see the NVML header; x86-64 / aarch64 Linux) ---- */

typedef enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef unsigned int nvmlDeviceArchitecture_t;
typedef enum { NVML_TEMPERATURE_GPU = 0 } nvmlTemperatureSensors_t;
typedef enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1 } nvmlClockType_t;

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef struct {
  unsigned int version; /* NVML_MEMORY_V2 */
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_v2_t;
#define NVML_MEMORY_V2 0x02000028u

typedef struct {
  unsigned int version; /* NVML_TEMPERATURE_V1 */
  nvmlTemperatureSensors_t sensorType;
  int temperature;
} nvmlTemperature_t;
#define NVML_TEMPERATURE_V1 0x0100000Cu

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
  unsigned int fieldId;
  unsigned int scopeId;
  long long timestamp;
  long long latencyUsec;
  int valueType; /* nvmlValueType_t */
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
} nvmlFieldValue_t;
#define NVML_FI_DEV_POWER_INSTANT 186

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t layout");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t layout");
_Static_assert(sizeof(nvmlTemperature_t) == 12, "nvmlTemperature_t layout");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t layout");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32,
               "nvmlProcessUtilizationSample_t layout");

/* The exported functions (prototypes for -Wmissing-prototypes). */
#define API __attribute__((visibility("default")))
API nvmlReturn_t nvmlInit_v2(void);
API nvmlReturn_t nvmlInit(void);
API nvmlReturn_t nvmlInitWithFlags(unsigned int flags);
API nvmlReturn_t nvmlShutdown(void);
API const char *nvmlErrorString(nvmlReturn_t result);
API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
API nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length);
API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount);
API nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount);
API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index,
                                               nvmlDevice_t *device);
API nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index,
                                            nvmlDevice_t *device);
API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name,
                                   unsigned int length);
API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid,
                                   unsigned int length);
API nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device,
                                           nvmlDeviceArchitecture_t *arch);
API nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device,
                                         unsigned int *power);
API nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(
    nvmlDevice_t device, unsigned long long *energy);
API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                          nvmlFieldValue_t *values);
API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                               nvmlUtilization_t *utilization);
API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device,
                                         nvmlMemory_t *memory);
API nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device,
                                            nvmlMemory_v2_t *memory);
API nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device,
                                          nvmlTemperatureSensors_t sensorType,
                                          unsigned int *temp);
API nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device,
                                           nvmlTemperature_t *temperature);
API nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device,
                                        nvmlClockType_t type,
                                        unsigned int *clock);
API nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device,
                                                 unsigned int *limit);
API nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device,
                                                   unsigned int *limit);
API nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(
    nvmlDevice_t device, unsigned int *minLimit, unsigned int *maxLimit);
API nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device,
                                                   unsigned int limit);
API nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device,
                                      unsigned int *currentMode,
                                      unsigned int *pendingMode);
API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(
    nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos);
API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(
    nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos);
API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(
    nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_v1_t *infos);
API nvmlReturn_t nvmlDeviceGetProcessUtilization(
    nvmlDevice_t device, nvmlProcessUtilizationSample_t *utilization,
    unsigned int *processSamplesCount, unsigned long long lastSeenTimeStamp);

/* ---- Fake state ---- */

#define FAKE_MAX_GPUS 16
#define FAKE_MAX_TRACE 256

/* Features that `not_supported` can switch off. */
enum {
  NS_ENERGY = 1 << 0,
  NS_FIELD = 1 << 1,
  NS_POWER = 1 << 2,
  NS_UTIL = 1 << 3,
  NS_MEMORY = 1 << 4,
  NS_TEMP = 1 << 5,
  NS_CLOCK = 1 << 6,
  NS_POWER_LIMIT = 1 << 7,
  NS_ARCH = 1 << 8,
  NS_PROCS = 1 << 9,
};

static const struct {
  const char *word;
  unsigned bit;
} ns_words[] = {
    {"energy", NS_ENERGY}, {"field", NS_FIELD},
    {"power", NS_POWER},   {"util", NS_UTIL},
    {"memory", NS_MEMORY}, {"temp", NS_TEMP},
    {"clock", NS_CLOCK},   {"power_limit", NS_POWER_LIMIT},
    {"arch", NS_ARCH},     {"procs", NS_PROCS},
};

struct trace {
  size_t n;
  unsigned long long v[FAKE_MAX_TRACE];
};

/* A GPU; handles are pointers to these. */
struct nvmlDevice_st {
  char name[96];
  char uuid[96];
  unsigned int arch;
  int field_type;
  nvmlReturn_t handle_error;
  bool temp_v;
  unsigned int power_mw;
  unsigned long long energy_mj, energy_step_mj;
  unsigned int util, mem_util, temp_c, sm_clock_mhz, power_limit_mw;
  unsigned long long vram_total, vram_used;
  unsigned not_supported; /* NS_* */
  struct trace energy_trace, power_trace;
  size_t energy_calls, power_calls;
  long lost_after;     /* -1: never */
  size_t sensor_calls; /* successful energy + power readings (lost_after) */
  bool lost;
  unsigned n_procs;
  unsigned proc_pid[64];
  int proc_sm[64]; /* -1: no utilisation sample */
  unsigned long long util_clock_us;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int refs; /* successful inits minus shutdowns */
static nvmlReturn_t init_rc;
static char driver_version[80];
static char nvml_version[80];
static struct nvmlDevice_st gpus[FAKE_MAX_GPUS];
static unsigned int gpu_count;

static void gpu_defaults(struct nvmlDevice_st *g, unsigned int idx) {
  memset(g, 0, sizeof(*g));
  snprintf(g->name, sizeof(g->name), "NVIDIA H100 80GB HBM3");
  snprintf(g->uuid, sizeof(g->uuid), "GPU-00000000-0000-0000-0000-%012u", idx);
  g->arch = 9;
  g->field_type = 1;
  g->temp_v = true;
  g->power_mw = 100000;
  g->energy_mj = 1000000;
  g->energy_step_mj = 10000;
  g->util = 50;
  g->mem_util = 20;
  g->temp_c = 60;
  g->sm_clock_mhz = 1410;
  g->power_limit_mw = 700000;
  g->vram_total = 85899345920ull;
  g->vram_used = 1073741824ull;
  g->lost_after = -1;
}

static void reset_state(void) {
  init_rc = NVML_SUCCESS;
  snprintf(driver_version, sizeof(driver_version), "550.54.15");
  snprintf(nvml_version, sizeof(nvml_version), "12.550.54.15");
  gpu_count = 0;
}

/* ---- Script parsing ---- */

static bool parse_ull(const char *s, unsigned long long *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-')
    return false;
  *out = strtoull(s, &end, 0);
  return errno == 0 && *end == '\0';
}

static bool parse_uint(const char *s, unsigned int *out) {
  unsigned long long v;
  if (!parse_ull(s, &v) || v > 0xffffffffull)
    return false;
  *out = (unsigned int)v;
  return true;
}

/* Next whitespace-separated token of *p into out; double quotes group (and
 * are removed). Returns false at the end of the line. */
static bool next_token(char **p, char *out, size_t size) {
  char *s = *p;
  size_t n = 0;
  bool quoted = false;
  while (*s == ' ' || *s == '\t')
    s++;
  if (!*s)
    return false;
  for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
    if (*s == '"')
      quoted = !quoted;
    else if (n + 1 < size)
      out[n++] = *s;
  }
  out[n] = '\0';
  *p = s;
  return true;
}

static bool set_gpu_key(struct nvmlDevice_st *g, const char *key,
                        const char *val) {
  unsigned int u;
  if (!strcmp(key, "name"))
    return snprintf(g->name, sizeof(g->name), "%s", val) >= 0;
  if (!strcmp(key, "uuid"))
    return snprintf(g->uuid, sizeof(g->uuid), "%s", val) >= 0;
  if (!strcmp(key, "energy_mj"))
    return parse_ull(val, &g->energy_mj);
  if (!strcmp(key, "energy_step_mj"))
    return parse_ull(val, &g->energy_step_mj);
  if (!strcmp(key, "vram_total"))
    return parse_ull(val, &g->vram_total);
  if (!strcmp(key, "vram_used"))
    return parse_ull(val, &g->vram_used);
  if (!parse_uint(val, &u))
    return false;
  if (!strcmp(key, "arch"))
    g->arch = u;
  else if (!strcmp(key, "power_mw"))
    g->power_mw = u;
  else if (!strcmp(key, "field_type") && u <= 6)
    g->field_type = (int)u;
  else if (!strcmp(key, "util"))
    g->util = u;
  else if (!strcmp(key, "mem_util"))
    g->mem_util = u;
  else if (!strcmp(key, "temp"))
    g->temp_c = u;
  else if (!strcmp(key, "sm_clock"))
    g->sm_clock_mhz = u;
  else if (!strcmp(key, "power_limit_mw"))
    g->power_limit_mw = u;
  else if (!strcmp(key, "handle_error"))
    g->handle_error = (nvmlReturn_t)u;
  else if (!strcmp(key, "temp_v"))
    g->temp_v = u != 0;
  else
    return false;
  return true;
}

/* `<directive> <gpu> = <list>`: the GPU and the list after '='. */
static struct nvmlDevice_st *gpu_directive(char **p, char *list, size_t size) {
  char tok[32];
  unsigned int idx;
  if (!next_token(p, tok, sizeof(tok)) || !parse_uint(tok, &idx) ||
      idx >= gpu_count)
    return NULL;
  if (!next_token(p, tok, sizeof(tok)) || strcmp(tok, "="))
    return NULL;
  if (!next_token(p, list, size))
    return NULL;
  return &gpus[idx];
}

static bool parse_trace(char *list, struct trace *t) {
  t->n = 0;
  for (char *save = NULL, *v = strtok_r(list, ",", &save); v;
       v = strtok_r(NULL, ",", &save)) {
    if (t->n == FAKE_MAX_TRACE || !parse_ull(v, &t->v[t->n]))
      return false;
    t->n++;
  }
  return t->n > 0;
}

static bool parse_not_supported(char *list, struct nvmlDevice_st *g) {
  size_t n_words = sizeof(ns_words) / sizeof(ns_words[0]);
  for (char *save = NULL, *w = strtok_r(list, ",", &save); w;
       w = strtok_r(NULL, ",", &save)) {
    size_t k = 0;
    while (k < n_words && strcmp(w, ns_words[k].word))
      k++;
    if (k == n_words)
      return false;
    g->not_supported |= ns_words[k].bit;
  }
  return true;
}

static bool parse_line(char *line) {
  char word[32], tok[1024];
  char *p = line;
  if (!next_token(&p, word, sizeof(word)) || word[0] == '#')
    return true;
  if (!strcmp(word, "init")) {
    unsigned int code;
    if (!next_token(&p, tok, sizeof(tok)) || !parse_uint(tok, &code))
      return false;
    init_rc = (nvmlReturn_t)code;
    return true;
  }
  if (!strcmp(word, "driver"))
    return next_token(&p, driver_version, sizeof(driver_version));
  if (!strcmp(word, "nvml"))
    return next_token(&p, nvml_version, sizeof(nvml_version));
  if (!strcmp(word, "gpu")) {
    if (gpu_count == FAKE_MAX_GPUS)
      return false;
    struct nvmlDevice_st *g = &gpus[gpu_count];
    gpu_defaults(g, gpu_count);
    while (next_token(&p, tok, sizeof(tok))) {
      char *eq = strchr(tok, '=');
      if (!eq)
        return false;
      *eq = '\0';
      if (!set_gpu_key(g, tok, eq + 1))
        return false;
    }
    gpu_count++;
    return true;
  }
  struct nvmlDevice_st *g = gpu_directive(&p, tok, sizeof(tok));
  if (!g)
    return false;
  if (!strcmp(word, "energy_trace"))
    return parse_trace(tok, &g->energy_trace);
  if (!strcmp(word, "power_trace"))
    return parse_trace(tok, &g->power_trace);
  if (!strcmp(word, "not_supported"))
    return parse_not_supported(tok, g);
  if (!strcmp(word, "procs")) {
    g->n_procs = 0;
    for (char *save = NULL, *v = strtok_r(tok, ",", &save); v;
         v = strtok_r(NULL, ",", &save)) {
      char *colon = strchr(v, ':');
      unsigned pid, sm = 0;
      if (colon)
        *colon = '\0';
      if (g->n_procs == 64 || !parse_uint(v, &pid) ||
          (colon && (!parse_uint(colon + 1, &sm) || sm > 100)))
        return false;
      g->proc_pid[g->n_procs] = pid;
      g->proc_sm[g->n_procs++] = colon ? (int)sm : -1;
    }
    return true;
  }
  if (!strcmp(word, "lost_after")) {
    unsigned int n;
    if (!parse_uint(tok, &n))
      return false;
    g->lost_after = (long)n;
    return true;
  }
  return false;
}

/* Loads the script (or the default machine). Called with the lock held. */
static nvmlReturn_t load_script(void) {
  reset_state();
  const char *path = getenv("GREENML_FAKE_NVML_SCRIPT");
  if (!path || !*path) {
    gpu_defaults(&gpus[0], 0);
    gpu_count = 1;
  } else {
    FILE *f = fopen(path, "r");
    if (!f) {
      fprintf(stderr, "fake_nvml: cannot open '%s'\n", path);
      return NVML_ERROR_UNKNOWN;
    }
    char line[1024];
    unsigned lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
      lineno++;
      line[strcspn(line, "\r\n")] = '\0';
      ok = parse_line(line);
      if (!ok)
        fprintf(stderr, "fake_nvml: %s:%u: cannot parse '%s'\n", path, lineno,
                line);
    }
    fclose(f);
    if (!ok)
      return NVML_ERROR_UNKNOWN;
  }
  const char *rc = getenv("GREENML_FAKE_NVML_INIT");
  unsigned int code;
  if (rc && *rc && parse_uint(rc, &code))
    init_rc = (nvmlReturn_t)code;
  return init_rc;
}

/* ---- Entry points ---- */

/* Takes the lock and checks init, the handle, loss and the feature; a
 * sensor reading (energy or power) past lost_after loses the GPU. The lock
 * is held on return whatever the result: release it with leave(). */
static nvmlReturn_t enter_call(nvmlDevice_t device, unsigned feature,
                               bool sensor, struct nvmlDevice_st **g) {
  pthread_mutex_lock(&lock);
  *g = NULL;
  if (refs == 0)
    return NVML_ERROR_UNINITIALIZED;
  uintptr_t d = (uintptr_t)device, first = (uintptr_t)gpus;
  if (d < first || d >= (uintptr_t)(gpus + gpu_count) ||
      (d - first) % sizeof(gpus[0]) != 0)
    return NVML_ERROR_INVALID_ARGUMENT;
  if (sensor && device->lost_after >= 0 &&
      device->sensor_calls >= (size_t)device->lost_after)
    device->lost = true;
  if (device->lost)
    return NVML_ERROR_GPU_IS_LOST;
  if (device->not_supported & feature)
    return NVML_ERROR_NOT_SUPPORTED;
  *g = device;
  return NVML_SUCCESS;
}

static nvmlReturn_t enter(nvmlDevice_t device, unsigned feature,
                          struct nvmlDevice_st **g) {
  return enter_call(device, feature, false, g);
}

static nvmlReturn_t enter_sensor(nvmlDevice_t device, unsigned feature,
                                 struct nvmlDevice_st **g) {
  return enter_call(device, feature, true, g);
}

static void leave(void) { pthread_mutex_unlock(&lock); }

static unsigned long long trace_value(const struct trace *t, size_t k) {
  return t->v[k < t->n ? k : t->n - 1];
}

/* The next power reading in mW; counts towards lost_after. */
static unsigned long long next_power_mw(struct nvmlDevice_st *g) {
  unsigned long long mw = g->power_trace.n
                              ? trace_value(&g->power_trace, g->power_calls)
                              : g->power_mw;
  g->power_calls++;
  g->sensor_calls++;
  return mw;
}

nvmlReturn_t nvmlInit_v2(void) {
  nvmlReturn_t r = NVML_SUCCESS;
  pthread_mutex_lock(&lock);
  if (refs == 0)
    r = load_script();
  if (r == NVML_SUCCESS)
    refs++;
  pthread_mutex_unlock(&lock);
  return r;
}

nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
  (void)flags;
  return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void) {
  nvmlReturn_t r = NVML_SUCCESS;
  pthread_mutex_lock(&lock);
  if (refs == 0)
    r = NVML_ERROR_UNINITIALIZED;
  else if (--refs == 0)
    reset_state();
  pthread_mutex_unlock(&lock);
  return r;
}

const char *nvmlErrorString(nvmlReturn_t result) {
  switch ((int)result) { /* the texts of the real library */
  case 0:
    return "Success";
  case 1:
    return "Uninitialized";
  case 2:
    return "Invalid Argument";
  case 3:
    return "Not Supported";
  case 4:
    return "Insufficient Permissions";
  case 5:
    return "Already Initialized";
  case 6:
    return "Not Found";
  case 7:
    return "Insufficient Size";
  case 8:
    return "Insufficient External Power";
  case 9:
    return "Driver Not Loaded";
  case 10:
    return "Timeout";
  case 11:
    return "Interrupt request issue";
  case 12:
    return "NVML Shared Library Not Found";
  case 13:
    return "Function Not Found";
  case 14:
    return "Corrupted infoROM";
  case 15:
    return "GPU is lost";
  case 16:
    return "GPU requires restart";
  case 17:
    return "The operating system has blocked the request.";
  case 18:
    return "RM has detected an NVML/RM version mismatch.";
  case 25:
    return "Argument version mismatch";
  default:
    return "Unknown Error";
  }
}

static nvmlReturn_t copy_string(const char *src, char *dst,
                                unsigned int length) {
  size_t n = strlen(src) + 1;
  if (!dst)
    return NVML_ERROR_INVALID_ARGUMENT;
  if (n > length)
    return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(dst, src, n);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  pthread_mutex_lock(&lock);
  nvmlReturn_t r = refs ? copy_string(driver_version, version, length)
                        : NVML_ERROR_UNINITIALIZED;
  pthread_mutex_unlock(&lock);
  return r;
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
  pthread_mutex_lock(&lock);
  nvmlReturn_t r = refs ? copy_string(nvml_version, version, length)
                        : NVML_ERROR_UNINITIALIZED;
  pthread_mutex_unlock(&lock);
  return r;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) {
  nvmlReturn_t r = NVML_SUCCESS;
  pthread_mutex_lock(&lock);
  if (refs == 0)
    r = NVML_ERROR_UNINITIALIZED;
  else if (!deviceCount)
    r = NVML_ERROR_INVALID_ARGUMENT;
  else
    *deviceCount = gpu_count;
  pthread_mutex_unlock(&lock);
  return r;
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount) {
  return nvmlDeviceGetCount_v2(deviceCount);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index,
                                           nvmlDevice_t *device) {
  nvmlReturn_t r = NVML_SUCCESS;
  pthread_mutex_lock(&lock);
  if (refs == 0)
    r = NVML_ERROR_UNINITIALIZED;
  else if (!device || index >= gpu_count)
    r = NVML_ERROR_INVALID_ARGUMENT;
  else if (gpus[index].handle_error != NVML_SUCCESS)
    r = gpus[index].handle_error;
  else if (gpus[index].lost)
    r = NVML_ERROR_GPU_IS_LOST;
  else
    *device = &gpus[index];
  pthread_mutex_unlock(&lock);
  return r;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index,
                                        nvmlDevice_t *device) {
  return nvmlDeviceGetHandleByIndex_v2(index, device);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name,
                               unsigned int length) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, 0, &g);
  if (r == NVML_SUCCESS)
    r = copy_string(g->name, name, length);
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid,
                               unsigned int length) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, 0, &g);
  if (r == NVML_SUCCESS)
    r = copy_string(g->uuid, uuid, length);
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device,
                                       nvmlDeviceArchitecture_t *arch) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_ARCH, &g);
  if (r == NVML_SUCCESS)
    *arch = g->arch;
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter_sensor(device, NS_POWER, &g);
  if (r == NVML_SUCCESS)
    *power = (unsigned int)next_power_mw(g);
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                 unsigned long long *energy) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter_sensor(device, NS_ENERGY, &g);
  if (r == NVML_SUCCESS) {
    *energy = g->energy_trace.n
                  ? trace_value(&g->energy_trace, g->energy_calls)
                  : g->energy_mj + g->energy_step_mj * g->energy_calls;
    g->energy_calls++;
    g->sensor_calls++;
  }
  leave();
  return r;
}

static void set_field(nvmlFieldValue_t *f, int type, unsigned long long v) {
  f->valueType = type;
  switch (type) {
  case 0:
    f->value.dVal = (double)v;
    break;
  case 2:
    f->value.ulVal = (unsigned long)v;
    break;
  case 3:
    f->value.ullVal = v;
    break;
  case 4:
    f->value.sllVal = (signed long long)v;
    break;
  case 5:
    f->value.siVal = (int)v;
    break;
  case 6:
    f->value.usVal = (unsigned short)v;
    break;
  default:
    f->value.uiVal = (unsigned int)v;
    break;
  }
}

static bool is_power_field(const nvmlFieldValue_t *f) {
  return f->fieldId == NVML_FI_DEV_POWER_INSTANT && f->scopeId == 0;
}

/* Only NVML_FI_DEV_POWER_INSTANT with GPU scope is known; other fields get a
 * per-field NOT_SUPPORTED while the call itself succeeds, as in NVML. */
nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                      nvmlFieldValue_t *values) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter_sensor(device, 0, &g);
  if (r == NVML_SUCCESS && (valuesCount < 0 || !values))
    r = NVML_ERROR_INVALID_ARGUMENT;
  if (r == NVML_SUCCESS) {
    /* Every power field of one request sees the same sample. */
    bool wants_power = false;
    for (int i = 0; i < valuesCount; i++)
      wants_power = wants_power || is_power_field(&values[i]);
    bool power_ok = wants_power && !(g->not_supported & NS_FIELD);
    unsigned long long mw = power_ok ? next_power_mw(g) : 0;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    for (int i = 0; i < valuesCount; i++) {
      nvmlFieldValue_t *f = &values[i];
      f->timestamp = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
      f->latencyUsec = 0;
      if (power_ok && is_power_field(f)) {
        set_field(f, g->field_type, mw);
        f->nvmlReturn = NVML_SUCCESS;
      } else {
        f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
      }
    }
  }
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                           nvmlUtilization_t *utilization) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_UTIL, &g);
  if (r == NVML_SUCCESS) {
    utilization->gpu = g->util;
    utilization->memory = g->mem_util;
  }
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device,
                                     nvmlMemory_t *memory) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_MEMORY, &g);
  if (r == NVML_SUCCESS) {
    memory->total = g->vram_total;
    memory->used = g->vram_used;
    memory->free = g->vram_total - g->vram_used;
  }
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device,
                                        nvmlMemory_v2_t *memory) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_MEMORY, &g);
  if (r == NVML_SUCCESS && memory->version != NVML_MEMORY_V2)
    r = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (r == NVML_SUCCESS) {
    memory->total = g->vram_total;
    memory->reserved = 0;
    memory->used = g->vram_used;
    memory->free = g->vram_total - g->vram_used;
  }
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device,
                                      nvmlTemperatureSensors_t sensorType,
                                      unsigned int *temp) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_TEMP, &g);
  if (r == NVML_SUCCESS && sensorType != NVML_TEMPERATURE_GPU)
    r = NVML_ERROR_INVALID_ARGUMENT;
  if (r == NVML_SUCCESS)
    *temp = g->temp_c;
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device,
                                       nvmlTemperature_t *temperature) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_TEMP, &g);
  if (r == NVML_SUCCESS &&
      (!g->temp_v || temperature->version != NVML_TEMPERATURE_V1))
    r = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (r == NVML_SUCCESS && temperature->sensorType != NVML_TEMPERATURE_GPU)
    r = NVML_ERROR_INVALID_ARGUMENT;
  if (r == NVML_SUCCESS)
    temperature->temperature = (int)g->temp_c;
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                    unsigned int *clock) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_CLOCK, &g);
  if (r == NVML_SUCCESS)
    *clock = type == NVML_CLOCK_SM || type == NVML_CLOCK_GRAPHICS
                 ? g->sm_clock_mhz
                 : g->sm_clock_mhz / 2; /* memory, video: any other value */
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device,
                                             unsigned int *limit) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_POWER_LIMIT, &g);
  if (r == NVML_SUCCESS)
    *limit = g->power_limit_mw;
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device,
                                               unsigned int *limit) {
  return nvmlDeviceGetEnforcedPowerLimit(device, limit);
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(
    nvmlDevice_t device, unsigned int *minLimit, unsigned int *maxLimit) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_POWER_LIMIT, &g);
  if (r == NVML_SUCCESS) {
    *minLimit = g->power_limit_mw / 2;
    *maxLimit = g->power_limit_mw;
  }
  leave();
  return r;
}

/* Setting a limit needs root on a real system; the fake never allows it. */
nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device,
                                               unsigned int limit) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_POWER_LIMIT, &g);
  (void)limit;
  if (r == NVML_SUCCESS)
    r = NVML_ERROR_NO_PERMISSION;
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device,
                                  unsigned int *currentMode,
                                  unsigned int *pendingMode) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, 0, &g);
  if (r == NVML_SUCCESS)
    *currentMode = *pendingMode = 0; /* MIG disabled */
  leave();
  return r;
}

/* The scripted compute processes, by the sizing protocol: a count too small
 * answers INSUFFICIENT_SIZE with the count needed. */
static nvmlReturn_t processes(nvmlDevice_t device, unsigned int *infoCount,
                              nvmlProcessInfo_t *infos,
                              nvmlProcessInfo_v1_t *infos_v1) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_PROCS, &g);
  if (r == NVML_SUCCESS && !infoCount)
    r = NVML_ERROR_INVALID_ARGUMENT;
  if (r == NVML_SUCCESS) {
    if (*infoCount < g->n_procs || (g->n_procs && !infos && !infos_v1)) {
      r = NVML_ERROR_INSUFFICIENT_SIZE;
    } else {
      for (unsigned k = 0; k < g->n_procs; k++) {
        if (infos)
          infos[k] = (nvmlProcessInfo_t){.pid = g->proc_pid[k],
                                         .usedGpuMemory = 1ull << 30,
                                         .gpuInstanceId = 0xFFFFFFFFu,
                                         .computeInstanceId = 0xFFFFFFFFu};
        else
          infos_v1[k] = (nvmlProcessInfo_v1_t){.pid = g->proc_pid[k],
                                               .usedGpuMemory = 1ull << 30};
      }
    }
    *infoCount = g->n_procs;
  }
  leave();
  return r;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                     unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
  return processes(device, infoCount, infos, NULL);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
                                                     unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
  return processes(device, infoCount, infos, NULL);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
                                                  unsigned int *infoCount,
                                                  nvmlProcessInfo_v1_t *infos) {
  return processes(device, infoCount, NULL, infos);
}

nvmlReturn_t nvmlDeviceGetProcessUtilization(
    nvmlDevice_t device, nvmlProcessUtilizationSample_t *utilization,
    unsigned int *processSamplesCount, unsigned long long lastSeenTimeStamp) {
  struct nvmlDevice_st *g;
  nvmlReturn_t r = enter(device, NS_PROCS, &g);
  if (r == NVML_SUCCESS && !processSamplesCount)
    r = NVML_ERROR_INVALID_ARGUMENT;
  if (r == NVML_SUCCESS) {
    unsigned n = 0;
    for (unsigned k = 0; k < g->n_procs; k++)
      n += g->proc_sm[k] >= 0;
    if (n == 0) {
      *processSamplesCount = 0;
      r = NVML_ERROR_NOT_FOUND; /* no samples newer than lastSeenTimeStamp */
    } else if (*processSamplesCount < n || !utilization) {
      *processSamplesCount = n;
      r = NVML_ERROR_INSUFFICIENT_SIZE;
    } else {
      if (g->util_clock_us <= lastSeenTimeStamp)
        g->util_clock_us = lastSeenTimeStamp;
      g->util_clock_us += 1000;
      unsigned j = 0;
      for (unsigned k = 0; k < g->n_procs; k++)
        if (g->proc_sm[k] >= 0)
          utilization[j++] = (nvmlProcessUtilizationSample_t){
              .pid = g->proc_pid[k],
              .timeStamp = g->util_clock_us,
              .smUtil = (unsigned)g->proc_sm[k]};
      *processSamplesCount = n;
    }
  }
  leave();
  return r;
}
