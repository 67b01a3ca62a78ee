/* session.c: the training handle: the model, its engine and the buffers of
 * one batch (train.h). The passes are in epoch.c and infer.c. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "train/train_internal.h"

enum gm_status gm_train_create(const struct gm_train_config *cfg,
                               struct gm_train **out, char *err,
                               size_t err_size) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  if (!cfg) {
    if (err)
      gm__fmt(err, err_size, "no configuration");
    return GM_ERR_INVALID_ARG;
  }
  enum gm_status rc = gm__train_config_check(cfg, err, err_size);
  if (rc != GM_OK)
    return rc;
  const char *canon = NULL;
  for (size_t i = 0; i < gm_nn_zoo_count(); i++)
    if (strcasecmp(cfg->model, gm_nn_zoo_name(i)) == 0)
      canon = gm_nn_zoo_name(i);
  if (!canon) {
    if (err)
      gm__fmt(err, err_size,
              "no model '%s' in the zoo; 'greenml models' lists them",
              cfg->model);
    return GM_ERR_NOT_FOUND;
  }
  struct gm_train *t = calloc(1, sizeof(*t));
  if (!t)
    return GM_ERR_NO_MEMORY;
  t->cfg = *cfg;
  gm__strlcpy(t->model, canon, sizeof(t->model));
  t->cfg.model = t->model;
  if (cfg->backend) {
    gm__strlcpy(t->backend, cfg->backend, sizeof(t->backend));
    t->cfg.backend = t->backend;
  }
  bool torch = cfg->engine && strcmp(cfg->engine, "torch") == 0;
  gm__strlcpy(t->engine, torch ? "torch" : "greenml", sizeof(t->engine));
  t->cfg.engine = t->engine;
  if (cfg->device) {
    gm__strlcpy(t->device, cfg->device, sizeof(t->device));
    t->cfg.device = t->device;
  }
  rc = gm_nn_zoo_build(canon, &t->net);
  if (rc == GM_OK)
    rc = gm_nn_net_status(t->net);
  if (rc != GM_OK) {
    if (err)
      gm__fmt(err, err_size, "cannot build %s: %s", canon,
              t->net ? gm_nn_net_error(t->net) : gm_status_str(rc));
    goto fail;
  }
  t->classes = gm_nn_node_shape(t->net, gm_nn_output(t->net)).c;
  size_t b = (size_t)cfg->batch_size, k = (size_t)t->classes;
  if (torch) {
    /* PyTorch's threads are chosen as the C engine's are (engine.h) */
    if (cfg->threads > 0) {
      t->threads = (struct gm_nn_threads){.threads = cfg->threads, .busy = -1};
      gm__fmt(t->threads.detail, sizeof(t->threads.detail), "configured");
    } else {
      (void)gm_nn_threads_choose(NULL, &t->threads);
    }
    /* the batch lives in memory the worker maps (torch.c) */
    rc = gm__torch_open(t, err, err_size);
    if (rc != GM_OK)
      goto fail;
  } else {
    struct gm_nn_engine_config ecfg = gm_nn_engine_config_default();
    ecfg.backend = cfg->backend;
    ecfg.max_batch = cfg->batch_size;
    ecfg.threads = cfg->threads;
    ecfg.precision = cfg->precision;
    rc = gm_nn_engine_create(t->net, &ecfg, &t->eng, err, err_size);
    if (rc != GM_OK)
      goto fail;
    gm__fmt(t->engine_name, sizeof(t->engine_name), "greenml %s %s",
            gm_nn_engine_backend(t->eng), gm_nn_precision_name(cfg->precision));
    t->threads = *gm_nn_engine_threads(t->eng);
    t->x = malloc(b * GM_CIFAR10_PIXELS * sizeof(float));
    t->labels = malloc(b * sizeof(int32_t));
  }
  t->logits = malloc(b * k * sizeof(float));
  t->dlogits = malloc(b * k * sizeof(float));
  t->idx = malloc(b * sizeof(uint32_t));
  if (!t->x || !t->logits || !t->dlogits || !t->labels || !t->idx) {
    rc = GM_ERR_NO_MEMORY;
    if (err)
      gm__fmt(err, err_size, "out of memory for a batch of %d",
              cfg->batch_size);
    goto fail;
  }
  *out = t;
  return GM_OK;
fail:
  gm_train_destroy(t);
  return rc;
}

void gm_train_destroy(struct gm_train *t) {
  if (!t)
    return;
  if (t->torch) {
    gm__torch_close(t); /* t->x and t->labels were its memory */
  } else {
    free(t->x);
    free(t->labels);
  }
  gm_nn_engine_destroy(t->eng);
  gm_nn_net_destroy(t->net);
  free(t->logits);
  free(t->dlogits);
  free(t->idx);
  free(t->order);
  free(t);
}

const char *gm_train_last_error(const struct gm_train *t) {
  return t ? t->err : "no training handle";
}

const struct gm_train_config *gm_train_config_of(const struct gm_train *t) {
  return &t->cfg;
}

const struct gm_nn_net *gm_train_net(const struct gm_train *t) {
  return t->net;
}

struct gm_nn_engine *gm_train_engine(struct gm_train *t) {
  return t->eng;
}

const char *gm_train_engine_name(const struct gm_train *t) {
  return t ? t->engine_name : "";
}

const char *gm_train_kernels(const struct gm_train *t) {
  if (!t)
    return "";
  return t->eng ? gm_nn_engine_kernels(t->eng) : t->kernels;
}

const struct gm_nn_threads *gm_train_threads(const struct gm_train *t) {
  return &t->threads;
}

enum gm_status gm_train_init(struct gm_train *t) {
  if (!t)
    return GM_ERR_INVALID_ARG;
  if (t->torch)
    return gm__torch_init(t);
  enum gm_status rc = gm_nn_engine_init(t->eng, t->cfg.seed);
  if (rc != GM_OK)
    gm__fmt(t->err, sizeof(t->err), "cannot initialise %s: %s", t->model,
            gm_nn_engine_error(t->eng));
  return rc;
}
