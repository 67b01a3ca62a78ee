/* config.c: the study's configuration: defaults, the checks made before
 * anything is opened, and the documents stored with a bench (its
 * configuration and its host). */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "greenml/engine.h"
#include "greenml/host.h"
#include "greenml/json.h"
#include "greenml/nn.h"
#include "greenml/train.h"
#include "study/study_internal.h"

struct gm_study_config gm_study_config_default(void) {
  struct gm_nn_sgd sgd = gm_nn_sgd_default();
  return (struct gm_study_config){.epochs = 1,
                                  .infer_samples = 50000,
                                  .lr = sgd.lr,
                                  .seed = 1,
                                  .mode = GM_STUDY_METERED,
                                  .idle_ns = 10 * GM_NS_PER_S,
                                  .gap_ns = 2 * GM_NS_PER_S,
                                  .meter = gm_meter_config_default()};
}

static enum gm_status bad(enum gm_status rc, char *err, size_t size,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum gm_status bad(enum gm_status rc, char *err, size_t size,
                          const char *fmt, ...) {
  if (err && size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static bool same_text(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

static const char *mode_name(enum gm_study_mode m) {
  return m == GM_STUDY_UNMETERED  ? "--no-meter"
         : m == GM_STUDY_OVERHEAD ? "--overhead"
                                  : "metered";
}

/* NULL as the default it stands for. */
static const char * or (const char *s, const char *dflt) {
  return s ? s : dflt;
}

bool gm_study_config_same(const struct gm_study_config *a,
                          const struct gm_study_config *b, char *why,
                          size_t size) {
  if (!a || !b) {
    bad(GM_ERR_INVALID_ARG, why, size, "no configuration");
    return false;
  }
  bool models = a->n_models == b->n_models;
  for (size_t i = 0; models && i < a->n_models; i++)
    models = same_text(a->models[i], b->models[i]);
  if (!models) {
    bad(GM_OK, why, size,
        "--models: %zu model(s) starting with %s, not %zu "
        "starting with %s",
        a->n_models, a->n_models ? a->models[0] : "-", b->n_models,
        b->n_models ? b->models[0] : "-");
    return false;
  }
  bool batches = a->n_batch_sizes == b->n_batch_sizes;
  for (size_t i = 0; batches && i < a->n_batch_sizes; i++)
    batches = a->batch_sizes[i] == b->batch_sizes[i];
  if (!batches) {
    bad(GM_OK, why, size,
        "--batch-sizes: %zu size(s) starting with %d, not "
        "%zu starting with %d",
        a->n_batch_sizes, a->n_batch_sizes ? a->batch_sizes[0] : 0,
        b->n_batch_sizes, b->n_batch_sizes ? b->batch_sizes[0] : 0);
    return false;
  }
  const size_t npa = gm__study_n_precisions(a), npb = gm__study_n_precisions(b);
  bool precs = npa == npb;
  for (size_t i = 0; precs && i < npa; i++)
    precs = gm__study_precision(a, i) == gm__study_precision(b, i);
  if (!precs) {
    bad(GM_OK, why, size,
        "--precisions: %zu precision(s) starting with %s, not %zu starting "
        "with %s",
        npa, gm_nn_precision_name(gm__study_precision(a, 0)), npb,
        gm_nn_precision_name(gm__study_precision(b, 0)));
    return false;
  }
#define DIFF_NUM(cond, flag, fmt, x, y)                                        \
  do {                                                                         \
    if (cond) {                                                                \
      bad(GM_OK, why, size, "%s: " fmt ", not " fmt, flag, x, y);              \
      return false;                                                            \
    }                                                                          \
  } while (0)
#define DIFF_TEXT(flag, x, y, dflt)                                            \
  DIFF_NUM(!same_text(x, y), flag, "%s", or (x, dflt), or (y, dflt))
  DIFF_NUM(a->epochs != b->epochs, "--epochs", "%d", a->epochs, b->epochs);
  DIFF_NUM(a->infer_samples != b->infer_samples, "--infer-samples", "%ld",
           a->infer_samples, b->infer_samples);
  DIFF_NUM(a->lr != b->lr, "--lr", "%g", a->lr, b->lr);
  DIFF_NUM(a->seed != b->seed, "--seed", "%llu", (unsigned long long)a->seed,
           (unsigned long long)b->seed);
  DIFF_NUM(a->cosine != b->cosine, "--schedule", "%s",
           a->cosine ? "cosine" : "constant",
           b->cosine ? "cosine" : "constant");
  DIFF_NUM(a->limit_batches != b->limit_batches, "--limit-batches", "%ld",
           a->limit_batches, b->limit_batches);
  DIFF_TEXT("--engine", a->engine, b->engine, "greenml");
  DIFF_TEXT("--backend", a->backend, b->backend, "the fastest");
  DIFF_TEXT("--device", a->device, b->device, "auto");
  DIFF_NUM(a->threads != b->threads, "--threads", "%d", a->threads, b->threads);
  DIFF_TEXT("--data", a->data, b->data, "none");
  DIFF_NUM(a->mode != b->mode, "--no-meter/--overhead", "%s",
           mode_name(a->mode), mode_name(b->mode));
  DIFF_NUM(a->idle_ns != b->idle_ns, "--idle", "%.3f s", a->idle_ns / 1e9,
           b->idle_ns / 1e9);
  DIFF_NUM(a->gap_ns != b->gap_ns, "--gap", "%.3f s", a->gap_ns / 1e9,
           b->gap_ns / 1e9);
  DIFF_NUM(a->meter.interval_ns != b->meter.interval_ns, "--interval", "%.3f s",
           a->meter.interval_ns / 1e9, b->meter.interval_ns / 1e9);
  DIFF_NUM(a->meter.cpu_tdp_w != b->meter.cpu_tdp_w, "--cpu-tdp", "%g W",
           a->meter.cpu_tdp_w, b->meter.cpu_tdp_w);
  DIFF_NUM(a->meter.dimm_capacitance_f != b->meter.dimm_capacitance_f,
           "--dimm-capacitance", "%g F", a->meter.dimm_capacitance_f,
           b->meter.dimm_capacitance_f);
  DIFF_TEXT("--gpus", a->meter.gpus, b->meter.gpus, "all");
  DIFF_NUM(a->profile_epochs != b->profile_epochs, "--profile-epochs", "%g",
           a->profile_epochs, b->profile_epochs);
  DIFF_NUM(a->verify != b->verify, "--verify", "%s",
           a->verify ? "given" : "not given",
           b->verify ? "given" : "not given");
#undef DIFF_TEXT
#undef DIFF_NUM
  if (why && size)
    why[0] = '\0';
  return true;
}

enum gm_status gm_study_config_check(const struct gm_study_config *c, char *err,
                                     size_t size) {
  if (!c)
    return bad(GM_ERR_INVALID_ARG, err, size, "no configuration");
  if (!c->name || !*c->name || strlen(c->name) > 100 || strchr(c->name, '/'))
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--run-id '%s' must be 1 to 100 characters without '/'",
               c->name ? c->name : "");
  if (c->n_models == 0 || !c->models)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--models: empty list; give 'all' or names");
  for (size_t i = 0; i < c->n_models; i++) {
    bool found = false;
    for (size_t k = 0; c->models[i] && k < gm_nn_zoo_count(); k++)
      found = found || strcasecmp(c->models[i], gm_nn_zoo_name(k)) == 0;
    if (!found)
      return bad(GM_ERR_NOT_FOUND, err, size,
                 "--models: no model '%s' in the zoo; 'greenml models' lists "
                 "them",
                 c->models[i] ? c->models[i] : "");
    for (size_t k = 0; k < i; k++)
      if (strcasecmp(c->models[i], c->models[k]) == 0)
        return bad(GM_ERR_INVALID_ARG, err, size,
                   "--models: '%s' is listed twice", c->models[i]);
  }
  if (c->n_batch_sizes == 0 || !c->batch_sizes)
    return bad(GM_ERR_INVALID_ARG, err, size, "--batch-sizes: empty list");
  for (size_t i = 0; i < c->n_batch_sizes; i++)
    if (c->batch_sizes[i] < 1 || c->batch_sizes[i] > 65536)
      return bad(GM_ERR_INVALID_ARG, err, size,
                 "--batch-sizes: '%d' is not a batch size from 1 to 65536",
                 c->batch_sizes[i]);
  if (c->n_precisions && !c->precisions)
    return bad(GM_ERR_INVALID_ARG, err, size, "--precisions: no list");
  const size_t np = gm__study_n_precisions(c);
  for (size_t i = 0; i < np; i++) {
    enum gm_nn_precision p = gm__study_precision(c, i);
    if (gm_nn_precision_parse(gm_nn_precision_name(p), NULL) != GM_OK)
      return bad(GM_ERR_INVALID_ARG, err, size,
                 "--precisions: precision %d is not one of %s", (int)p,
                 gm_nn_precision_names());
    for (size_t k = 0; k < i; k++)
      if (gm__study_precision(c, k) == p)
        return bad(GM_ERR_INVALID_ARG, err, size,
                   "--precisions: '%s' is listed twice",
                   gm_nn_precision_name(p));
  }
  const size_t n_cells = c->n_models * c->n_batch_sizes * np;
  if (c->one_cell && c->cell >= n_cells)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--cell %zu is outside the grid of %zu cells (%zu model(s) x "
               "%zu batch size(s) x %zu precision(s)): give 0 to %zu",
               c->cell, n_cells, c->n_models, c->n_batch_sizes, np,
               n_cells - 1);
  if (c->run_tags && strlen(c->run_tags) > 1000)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "the run tags are %zu bytes: at most 1000 are stored with each "
               "row",
               strlen(c->run_tags));
  if (c->epochs < 1)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--epochs '%d' is not a number from 1", c->epochs);
  if (c->infer_samples < 1)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--infer-samples '%ld' is not a number from 1",
               c->infer_samples);
  if (!(c->lr > 0) || !isfinite(c->lr))
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--lr '%g' is not a positive learning rate", c->lr);
  if (c->limit_batches < 0 || c->threads < 0 || c->idle_ns < 0 || c->gap_ns < 0)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "negative --limit-batches, --threads, --idle or --gap");
  if (c->mode != GM_STUDY_METERED && c->mode != GM_STUDY_UNMETERED &&
      c->mode != GM_STUDY_OVERHEAD)
    return bad(GM_ERR_INVALID_ARG, err, size, "unknown mode %d", (int)c->mode);
  if (c->meter.interval_ns < 1000000)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--interval must be at least 1ms");
  if (!(c->profile_epochs >= 0) || c->profile_epochs > 1e5)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--profile-epochs '%g' is not a positive number of epochs",
               c->profile_epochs);
  if (c->verify && c->profile_epochs <= 0)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--verify needs --profile-epochs K");
  if (c->profile_epochs > 0 && c->mode != GM_STUDY_METERED)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--profile-epochs predicts energy: it needs the meter (drop "
               "--no-meter/--overhead)");
  if (c->profile_epochs > 0 && c->profile_epochs >= (double)c->epochs)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--profile-epochs %g must be below --epochs %d (the profile "
               "predicts a longer run)",
               c->profile_epochs, c->epochs);
  /* the engine must start before anything is measured */
  if (c->engine && strcmp(c->engine, "torch") == 0) {
    char name[96];
    return gm_study_engine_name(c, name, sizeof(name), err, size);
  }
  if (c->device)
    return bad(GM_ERR_INVALID_ARG, err, size,
               "--device is the torch engine's (--engine torch)");
  struct gm_nn_net *net = NULL;
  enum gm_status rc = gm_nn_zoo_build("LeNet", &net);
  if (rc != GM_OK)
    bad(rc, err, size, "cannot build LeNet: %s", gm_status_str(rc));
  /* every precision of the grid on a backend that has it */
  for (size_t i = 0; rc == GM_OK && i < np; i++) {
    struct gm_nn_engine *eng = NULL;
    struct gm_nn_engine_config ecfg = gm_nn_engine_config_default();
    ecfg.backend = c->backend;
    ecfg.max_batch = 1;
    ecfg.threads = c->threads;
    ecfg.precision = gm__study_precision(c, i);
    rc = gm_nn_engine_create(net, &ecfg, &eng, err, size);
    gm_nn_engine_destroy(eng);
  }
  gm_nn_net_destroy(net);
  return rc;
}

char *gm__study_config_json(const struct gm_study_config *c) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "models");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < c->n_models; i++)
    gm_json_string(&j, c->models[i]);
  gm_json_end_array(&j);
  gm_json_key(&j, "batch_sizes");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < c->n_batch_sizes; i++)
    gm_json_int(&j, c->batch_sizes[i]);
  gm_json_end_array(&j);
  gm_json_key(&j, "precisions");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm__study_n_precisions(c); i++)
    gm_json_string(&j, gm_nn_precision_name(gm__study_precision(c, i)));
  gm_json_end_array(&j);
  struct gm_nn_sgd sgd = gm_nn_sgd_default();
  gm_json_key(&j, "epochs");
  gm_json_int(&j, c->epochs);
  gm_json_key(&j, "infer_samples");
  gm_json_int(&j, c->infer_samples);
  gm_json_key(&j, "lr");
  gm_json_number(&j, c->lr);
  gm_json_key(&j, "momentum");
  gm_json_number(&j, sgd.momentum);
  gm_json_key(&j, "weight_decay");
  gm_json_number(&j, sgd.weight_decay);
  gm_json_key(&j, "optimizer");
  gm_json_string(&j, "SGD");
  gm_json_key(&j, "seed");
  gm_json_int(&j, (int64_t)c->seed);
  gm_json_key(&j, "data");
  if (c->data)
    gm_json_string(&j, c->data);
  else
    gm_json_null(&j);
  gm_json_key(&j, "limit_batches");
  gm_json_int(&j, c->limit_batches);
  gm_json_key(&j, "threads");
  if (c->threads)
    gm_json_int(&j, c->threads);
  else
    gm_json_null(&j);
  gm_json_key(&j, "backend");
  if (c->backend)
    gm_json_string(&j, c->backend);
  else
    gm_json_null(&j);
  gm_json_key(&j, "schedule");
  gm_json_string(&j, c->cosine ? "cosine" : "constant");
  gm_json_key(&j, "engine");
  gm_json_string(&j, c->engine ? c->engine : "greenml");
  gm_json_key(&j, "device");
  if (c->device)
    gm_json_string(&j, c->device);
  else
    gm_json_null(&j);
  gm_json_key(&j, "interval_s");
  gm_json_number(&j, (double)c->meter.interval_ns / 1e9);
  gm_json_key(&j, "idle_s");
  gm_json_number(&j, (double)c->idle_ns / 1e9);
  gm_json_key(&j, "gap_s");
  gm_json_number(&j, (double)c->gap_ns / 1e9);
  gm_json_key(&j, "mode");
  gm_json_string(&j, c->mode == GM_STUDY_OVERHEAD    ? "overhead"
                     : c->mode == GM_STUDY_UNMETERED ? "unmetered"
                                                     : "metered");
  gm_json_key(&j, "profile_epochs");
  gm_json_number(&j, c->profile_epochs > 0 ? c->profile_epochs : NAN);
  gm_json_key(&j, "verify");
  gm_json_bool(&j, c->verify);
  /* the front end's flags, so that it can rebuild the same grid */
  gm_json_key(&j, "argv");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < c->n_flags; i++)
    gm_json_string(&j, c->flags[i]);
  gm_json_end_array(&j);
  gm_json_end_object(&j);
  if (j.oom) {
    gm_json_release(&j);
    return NULL;
  }
  return j.buf;
}

static void json_component(struct gm_json *j,
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
}

char *gm__study_host_json(const struct gm_meter *m,
                          const struct gm_nn_threads *threads) {
  struct gm_host h;
  gm_host_detect(m, &h);
  char note[256];
  gm__fmt(note, sizeof(note), "%d (%s)", threads->threads, threads->detail);
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "hostname");
  gm_json_string(&j, h.hostname);
  gm_json_key(&j, "cpu_model");
  gm_json_string(&j, h.cpu_model);
  gm_json_key(&j, "logical_cpus");
  gm_json_int(&j, h.logical_cpus);
  gm_json_key(&j, "sockets");
  gm_json_int(&j, h.sockets);
  gm_json_key(&j, "mem_total_bytes");
  gm_json_number(&j, h.mem_total_bytes);
  gm_json_key(&j, "kernel");
  gm_json_string(&j, h.kernel);
  gm_json_key(&j, "virtualised");
  gm_json_bool(&j, h.virtualised);
  gm_json_key(&j, "virt_detail");
  gm_json_string(&j, h.virt_detail);
  gm_json_key(&j, "dimms");
  gm_json_raw(&j, h.dimms_json);
  gm_json_key(&j, "gpus");
  gm_json_raw(&j, h.gpus_json);
  gm_json_key(&j, "threads");
  gm_json_string(&j, note);
  /* the components say how each is measured: the CPU model's TDP, the GPU
   * and its driver, the DRAM model's DIMMs */
  gm_json_key(&j, "components");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    gm_json_begin_object(&j);
    json_component(&j, gm_meter_component(m, i));
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_end_object(&j);
  if (j.oom) {
    gm_json_release(&j);
    return NULL;
  }
  return j.buf;
}

enum gm_status gm_study_engine_name(const struct gm_study_config *c, char *buf,
                                    size_t size, char *err, size_t err_size) {
  if (!c || !buf || !size)
    return GM_ERR_INVALID_ARG;
  buf[0] = '\0';
  struct gm_train_config tc = gm_train_config_default();
  tc.model = "LeNet";
  tc.batch_size = 1;
  tc.engine = c->engine;
  tc.device = c->device;
  tc.threads = c->threads;
  tc.backend = c->backend;
  const bool torch = c->engine && strcmp(c->engine, "torch") == 0;
  enum gm_status rc = GM_OK;
  size_t used = 0;
  for (size_t i = 0; rc == GM_OK && i < gm__study_n_precisions(c); i++) {
    tc.precision = gm__study_precision(c, i);
    char name[128];
    if (torch && i > 0) {
      /* the worker is the same: its name with this precision */
      gm__strlcpy(name, buf, sizeof(name));
      char *first = strchr(name, ',');
      if (first)
        *first = '\0';
      char *sp = strrchr(name, ' ');
      if (sp)
        gm__strlcpy(sp + 1, gm_nn_precision_name(tc.precision),
                    sizeof(name) - (size_t)(sp + 1 - name));
    } else {
      struct gm_train *t = NULL;
      rc = gm_train_create(&tc, &t, err, err_size);
      if (rc == GM_OK)
        gm__strlcpy(name, gm_train_engine_name(t), sizeof(name));
      gm_train_destroy(t);
    }
    if (rc == GM_OK && used < size) {
      gm__fmt(buf + used, size - used, "%s%s", i ? ", " : "", name);
      used = strlen(buf);
    }
  }
  return rc;
}
