/* workload.c: the flags shared by train, infer and bench. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool gm_cli_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

void gm_cli_work_opts_init(struct gm_cli_work_opts *o) {
  memset(o, 0, sizeof(*o));
  o->epochs = 1;
  o->batch = 128;
  o->lr = 0.001;
  o->seed = 1;
  o->data = "data";
  o->samples = 50000;
}

int gm_cli_work_opt(struct gm_cli_work_opts *o, int opt, const char *arg,
                    const char *cmd) {
  long v;
  switch (opt) {
  case GM_OPT_EPOCHS:
    if (!gm_cli_parse_long(arg, 1, 100000, &v)) {
      gm_cli_error(cmd, "--epochs '%s' is not a number from 1", arg);
      return -1;
    }
    o->epochs = (int)v;
    return 1;
  case GM_OPT_BATCH:
    if (!gm_cli_parse_long(arg, 1, 65536, &v)) {
      gm_cli_error(cmd, "--batch-size '%s' is not a number from 1 to 65536",
                   arg);
      return -1;
    }
    o->batch = (int)v;
    return 1;
  case GM_OPT_LR: {
    char *end;
    o->lr = strtod(arg, &end);
    if (*end || end == arg || !(o->lr > 0) || o->lr > 10) {
      gm_cli_error(cmd, "--lr '%s' is not a learning rate in (0, 10]", arg);
      return -1;
    }
    return 1;
  }
  case GM_OPT_SEED:
    if (!gm_cli_parse_long(arg, 0, 0x7fffffffffffffffL, &v)) {
      gm_cli_error(cmd, "--seed '%s' is not a non-negative number", arg);
      return -1;
    }
    o->seed = (uint64_t)v;
    return 1;
  case GM_OPT_DATA:
    o->data = arg;
    o->data_given = true;
    return 1;
  case GM_OPT_THREADS:
    if (!gm_cli_parse_long(arg, 1, 4096, &v)) {
      gm_cli_error(cmd, "--threads '%s' is not a number from 1", arg);
      return -1;
    }
    o->threads = (int)v;
    return 1;
  case GM_OPT_BACKEND:
    o->backend = arg;
    return 1;
  case GM_OPT_ENGINE:
    if (strcmp(arg, "greenml") != 0 && strcmp(arg, "torch") != 0) {
      gm_cli_error(cmd,
                   "--engine '%s' must be greenml (the C engine) or torch "
                   "(PyTorch)",
                   arg);
      return -1;
    }
    o->engine = arg;
    return 1;
  case GM_OPT_DEVICE:
    if (strcmp(arg, "cpu") != 0 && strcmp(arg, "cuda") != 0 &&
        strcmp(arg, "auto") != 0) {
      gm_cli_error(cmd, "--device '%s' must be cpu, cuda or auto", arg);
      return -1;
    }
    o->device = arg;
    return 1;
  case GM_OPT_PRECISION:
    if (gm_nn_precision_parse(arg, &o->precision) != GM_OK) {
      gm_cli_error(cmd, "--precision '%s' must be one of %s", arg,
                   gm_nn_precision_names());
      return -1;
    }
    return 1;
  case GM_OPT_LIMIT:
    if (!gm_cli_parse_long(arg, 1, 1L << 40, &o->limit_batches)) {
      gm_cli_error(cmd, "--limit-batches '%s' is not a number from 1", arg);
      return -1;
    }
    return 1;
  case GM_OPT_SAMPLES:
    if (!gm_cli_parse_long(arg, 1, 1L << 40, &o->samples)) {
      gm_cli_error(cmd, "--%s '%s' is not a number from 1",
                   strcmp(cmd, "bench") == 0 ? "infer-samples" : "samples",
                   arg);
      return -1;
    }
    return 1;
  default:
    return 0;
  }
}
