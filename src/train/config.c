/* config.c: the protocol's rules as functions: defaults, the seeds of
 * augmentation and dropout, the learning-rate schedule, the epoch's length
 * (train.h). */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "train/train_internal.h"

struct gm_train_config gm_train_config_default(void) {
  struct gm_nn_sgd sgd = gm_nn_sgd_default();
  return (struct gm_train_config){.batch_size = 128,
                                  .lr = sgd.lr,
                                  .momentum = sgd.momentum,
                                  .weight_decay = sgd.weight_decay,
                                  .schedule = GM_TRAIN_LR_CONSTANT,
                                  .epochs = 1,
                                  .seed = 1};
}

uint64_t gm_train_augment_seed(uint64_t seed, uint32_t epoch) {
  return seed * 1000003u + epoch;
}

uint64_t gm_train_dropout_seed(uint64_t seed, uint32_t epoch, long step) {
  return seed ^ ((uint64_t)epoch << 32 | (uint64_t)step);
}

double gm_train_lr(const struct gm_train_config *cfg, uint32_t epoch) {
  if (cfg->schedule == GM_TRAIN_LR_COSINE && cfg->epochs > 0)
    return cfg->lr * 0.5 *
           (1.0 + cos(M_PI * (double)epoch / (double)cfg->epochs));
  return cfg->lr;
}

long gm_train_epoch_steps(const struct gm_train_config *cfg, size_t n) {
  if (cfg->batch_size <= 0)
    return 0;
  long steps =
      (long)((n + (size_t)cfg->batch_size - 1) / (size_t)cfg->batch_size);
  if (cfg->limit_batches > 0 && cfg->limit_batches < steps)
    steps = cfg->limit_batches;
  return steps;
}

enum gm_status gm__train_config_check(const struct gm_train_config *cfg,
                                      char *err, size_t err_size) {
  const char *bad = NULL;
  if (!cfg->model || !*cfg->model)
    bad = "no model";
  else if (cfg->batch_size < 1 || cfg->batch_size > 65536)
    bad = "the batch size must be 1 to 65536";
  else if (!(cfg->lr > 0) || !isfinite(cfg->lr))
    bad = "the learning rate must be positive";
  else if (!(cfg->momentum >= 0) || !isfinite(cfg->momentum) ||
           !(cfg->weight_decay >= 0) || !isfinite(cfg->weight_decay))
    bad = "momentum and weight decay must be finite and >= 0";
  else if (cfg->epochs < 1)
    bad = "the epoch count must be at least 1";
  else if (cfg->limit_batches < 0)
    bad = "the batch limit must be >= 0";
  else if (cfg->schedule != GM_TRAIN_LR_CONSTANT &&
           cfg->schedule != GM_TRAIN_LR_COSINE)
    bad = "unknown learning-rate schedule";
  else if (gm_nn_precision_parse(gm_nn_precision_name(cfg->precision), NULL) !=
           GM_OK)
    bad = "the precision must be fp32 or bf16";
  else if (cfg->threads < 0)
    bad = "the thread count must be >= 0";
  else if (cfg->engine && strcmp(cfg->engine, "greenml") != 0 &&
           strcmp(cfg->engine, "torch") != 0)
    bad = "the engine must be greenml or torch";
  else if (cfg->engine && strcmp(cfg->engine, "torch") == 0 && cfg->backend)
    bad = "a backend is the C engine's: the torch engine takes a device";
  else if (cfg->device && strcmp(cfg->device, "auto") != 0 &&
           strcmp(cfg->device, "cpu") != 0 && strcmp(cfg->device, "cuda") != 0)
    bad = "the device must be cpu, cuda or auto";
  else if (cfg->device && !(cfg->engine && strcmp(cfg->engine, "torch") == 0))
    bad = "a device is the torch engine's: the C engine takes a backend";
  if (!bad)
    return GM_OK;
  if (err)
    gm__fmt(err, err_size, "%s", bad);
  return GM_ERR_INVALID_ARG;
}
