/* cmd_train.c: `greenml train` and `greenml infer`: the zoo's models on
 * CIFAR-10 (or generated data in the same format) with the engine. Under
 * `greenml measure`, every epoch and every inference pass is a phase. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/mark.h"
#include "greenml/nn.h"

static const char train_usage[] =
    "usage: greenml train --model M [--epochs N] [--batch-size B] [--lr X]\n"
    "                     [--seed S] [--data DIR|synthetic] [--threads T]\n"
    "                     [--backend NAME] [--checkpoint FILE] [--resume]\n"
    "                     [--limit-batches K] [--schedule constant|cosine]\n"
    "\n"
    "Trains a model of the zoo ('greenml models' lists them) with SGD\n"
    "(momentum 0.9, weight decay 5e-4), softmax cross-entropy, random crop\n"
    "and flip augmentation; prints loss, accuracy and time per epoch and\n"
    "writes a checkpoint (weights, statistics, optimiser state) after each.\n"
    "\n"
    "  --epochs N           epochs to reach (default 1)\n"
    "  --batch-size B       default 128\n"
    "  --lr X               learning rate (default 0.001)\n"
    "  --seed S             initialisation, shuffling, augmentation (default "
    "1)\n"
    "  --data DIR|synthetic CIFAR-10 binary files in DIR (default ./data), or "
    "a\n"
    "                       generated data set in the same format\n"
    "  --threads T          compute threads (default: the backend's)\n"
    "  --backend NAME       compute backend (default: the fastest)\n"
    "  --checkpoint FILE    default ./checkpoints/MODEL.ckpt\n"
    "  --resume             continue from the checkpoint's epoch\n"
    "  --limit-batches K    at most K batches per epoch (short runs)\n"
    "  --schedule S         learning rate per epoch: constant (default) or\n"
    "                       cosine annealing from --lr to 0 over --epochs\n"
    "                       (PyTorch's CosineAnnealingLR, T_max = epochs)\n";

static const char infer_usage[] =
    "usage: greenml infer --model M [--samples N] [--batch-size B]\n"
    "                     [--weights FILE] [--data DIR|synthetic] [--seed S]\n"
    "                     [--threads T] [--backend NAME]\n"
    "\n"
    "Runs a model in evaluation mode over N samples of the test set, repeated\n"
    "as often as needed (default 50000 = the test set x5, as in the study),\n"
    "and prints accuracy, time and images/s.\n"
    "\n"
    "  --weights FILE       a checkpoint from 'greenml train' (default: "
    "weights\n"
    "                       initialised from --seed, i.e. an untrained "
    "model)\n";

struct run_opts {
  struct gm_cli_work_opts w;
  const char *model;
  const char *checkpoint;
  bool resume;
  const char *weights;
  bool cosine;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens DIR or, for "synthetic", generates a data set under the XDG cache
 * directory (once per seed). */
int gm_cli_open_cifar(const char *cmd, const char *data, uint64_t seed,
                      enum gm_cifar10_split split, struct gm_cifar10 **out) {
  char dir[1024];
  const char *path = data;
  if (strcmp(data, "synthetic") == 0) {
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (cache && *cache)
      snprintf(dir, sizeof(dir), "%s/greenml/synthetic-%llu", cache,
               (unsigned long long)seed);
    else
      snprintf(dir, sizeof(dir), "%s/.cache/greenml/synthetic-%llu",
               home && *home ? home : "/tmp", (unsigned long long)seed);
    path = dir;
    char probe[1100];
    snprintf(probe, sizeof(probe), "%s/%s", dir, GM_CIFAR10_MANIFEST);
    if (access(probe, R_OK) != 0) {
      if (!gm_cli_mkdirs(dir)) {
        gm_cli_error(cmd, "cannot create '%s': %s", dir, strerror(errno));
        return GM_EXIT_CANTCREAT;
      }
      char err[512];
      if (gm_cifar10_synth(dir, seed, 1000, 1000, err, sizeof(err)) != GM_OK) {
        gm_cli_error(cmd, "cannot generate synthetic data: %s", err);
        return GM_EXIT_CANTCREAT;
      }
    }
    static bool said; /* once per process, for both splits */
    if (!said)
      fprintf(stderr,
              "greenml %s: using generated data (not CIFAR-10) in '%s'\n", cmd,
              dir);
    said = true;
  }
  char err[512];
  enum gm_status rc = gm_cifar10_open(path, split, out, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  gm_cli_error(cmd, "%s", err);
  return rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_DATAERR;
}

static int make_engine(const char *cmd, const struct run_opts *o,
                       struct gm_nn_net **net, struct gm_nn_engine **eng) {
  if (gm_nn_zoo_build(o->model, net) != GM_OK) {
    gm_cli_error(cmd, "no model '%s' in the zoo; 'greenml models' lists them",
                 o->model);
    return GM_EXIT_USAGE;
  }
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.backend = o->w.backend;
  cfg.max_batch = o->w.batch;
  cfg.threads = o->w.threads;
  char err[512] = "";
  enum gm_status rc = gm_nn_engine_create(*net, &cfg, eng, err, sizeof(err));
  if (rc != GM_OK) {
    gm_cli_error(cmd, "%s", err);
    return rc == GM_ERR_NOT_FOUND ? GM_EXIT_USAGE : GM_EXIT_SOFTWARE;
  }
  return 0;
}

/* A phase "<what> <n>" under `greenml measure`; silent elsewhere. */
static void phase(const char *what, long n) {
  if (!getenv(GM_MARK_ENV))
    return;
  char name[64];
  snprintf(name, sizeof(name), "%s %ld", what, n);
  gm_phase_begin(name);
}

static void progress(const char *what, long done, long total, double loss,
                     double acc, double ips) {
  if (!isatty(STDERR_FILENO))
    return;
  int width = 30, filled = total ? (int)(width * done / total) : 0;
  fprintf(stderr, "\r%s [", what);
  for (int i = 0; i < width; i++)
    fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
  fprintf(stderr, "] %ld/%ld", done, total);
  if (!isnan(loss))
    fprintf(stderr, " loss %.4f acc %.2f %%", loss, 100 * acc);
  fprintf(stderr, " %.1f img/s  ", ips);
  fflush(stderr);
}

static int parse(int argc, char **argv, bool train, struct run_opts *o) {
  enum { O_MODEL = GM_OPT_FIRST_FREE, O_CKPT, O_RESUME, O_WEIGHTS, O_SCHEDULE };
  static const struct option train_opts[] = {
      {"model", 1, 0, O_MODEL},
      {"epochs", 1, 0, GM_OPT_EPOCHS},
      {"batch-size", 1, 0, GM_OPT_BATCH},
      {"lr", 1, 0, GM_OPT_LR},
      {"seed", 1, 0, GM_OPT_SEED},
      {"data", 1, 0, GM_OPT_DATA},
      {"threads", 1, 0, GM_OPT_THREADS},
      {"backend", 1, 0, GM_OPT_BACKEND},
      {"checkpoint", 1, 0, O_CKPT},
      {"resume", 0, 0, O_RESUME},
      {"limit-batches", 1, 0, GM_OPT_LIMIT},
      {"schedule", 1, 0, O_SCHEDULE},
      {"help", 0, 0, 'h'},
      {0}};
  static const struct option infer_opts[] = {{"model", 1, 0, O_MODEL},
                                             {"samples", 1, 0, GM_OPT_SAMPLES},
                                             {"batch-size", 1, 0, GM_OPT_BATCH},
                                             {"weights", 1, 0, O_WEIGHTS},
                                             {"data", 1, 0, GM_OPT_DATA},
                                             {"seed", 1, 0, GM_OPT_SEED},
                                             {"threads", 1, 0, GM_OPT_THREADS},
                                             {"backend", 1, 0, GM_OPT_BACKEND},
                                             {"help", 0, 0, 'h'},
                                             {0}};
  const char *cmd = train ? "train" : "infer";
  const char *usage = train ? train_usage : infer_usage;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", train ? train_opts : infer_opts,
                            NULL)) != -1) {
    int r = gm_cli_work_opt(&o->w, opt, optarg, cmd);
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_MODEL:
      o->model = optarg;
      break;
    case O_CKPT:
      o->checkpoint = optarg;
      break;
    case O_RESUME:
      o->resume = true;
      break;
    case O_WEIGHTS:
      o->weights = optarg;
      break;
    case O_SCHEDULE:
      if (strcmp(optarg, "cosine") == 0) {
        o->cosine = true;
      } else if (strcmp(optarg, "constant") != 0) {
        gm_cli_error(cmd, "--schedule '%s' must be constant or cosine", optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case 'h':
      fputs(usage, stdout);
      return -1;
    default:
      fputs(usage, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error(cmd, "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (!o->model) {
    gm_cli_error(cmd, "--model is required ('greenml models' lists them)");
    return GM_EXIT_USAGE;
  }
  return 0;
}

static void default_opts(struct run_opts *o) {
  memset(o, 0, sizeof(*o));
  gm_cli_work_opts_init(&o->w);
}

int cmd_train(int argc, char **argv) {
  struct run_opts o;
  default_opts(&o);
  int ec = parse(argc, argv, true, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  char ckpt[1024];
  if (o.checkpoint) {
    snprintf(ckpt, sizeof(ckpt), "%s", o.checkpoint);
  } else {
    mkdir("checkpoints", 0755);
    snprintf(ckpt, sizeof(ckpt), "checkpoints/%s.ckpt", o.model);
  }
  struct gm_cifar10 *ds = NULL;
  struct gm_nn_net *net = NULL;
  struct gm_nn_engine *eng = NULL;
  float *x = NULL, *logits = NULL, *dlogits = NULL;
  int32_t *labels = NULL;
  uint32_t *order = NULL;
  ec = gm_cli_open_cifar("train", o.w.data, o.w.seed, GM_CIFAR10_TRAIN, &ds);
  if (ec)
    goto out;
  ec = make_engine("train", &o, &net, &eng);
  if (ec)
    goto out;
  int classes = gm_nn_node_shape(net, gm_nn_output(net)).c;
  uint32_t start_epoch = 0;
  char err[512] = "";
  if (o.resume) {
    struct gm_nn_checkpoint_info info;
    enum gm_status rc =
        gm_nn_checkpoint_load(eng, ckpt, &info, err, sizeof(err));
    if (rc != GM_OK) {
      gm_cli_error("train", "--resume: %s", err);
      ec = rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_DATAERR;
      goto out;
    }
    start_epoch = info.epoch;
    o.w.seed = info.seed;
    fprintf(stderr, "greenml train: resuming %s from '%s' after epoch %u\n",
            o.model, ckpt, start_epoch);
  } else if (gm_nn_engine_init(eng, o.w.seed) != GM_OK) {
    gm_cli_error("train", "cannot initialise: %s", gm_nn_engine_error(eng));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  size_t n = gm_cifar10_count(ds);
  x = malloc((size_t)o.w.batch * GM_CIFAR10_PIXELS * sizeof(float));
  logits = malloc((size_t)o.w.batch * (size_t)classes * sizeof(float));
  dlogits = malloc((size_t)o.w.batch * (size_t)classes * sizeof(float));
  labels = malloc((size_t)o.w.batch * sizeof(int32_t));
  order = malloc(n * sizeof(uint32_t));
  if (!x || !logits || !dlogits || !labels || !order) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  struct gm_nn_sgd sgd = gm_nn_sgd_default();
  sgd.lr = o.w.lr;
  printf("model %s, backend %s, %zu training images%s, batch %d, lr %g, "
         "seed %llu\n",
         o.model, gm_nn_engine_backend(eng), n,
         gm_cifar10_is_synthetic(ds) ? " (generated)" : "", o.w.batch, o.w.lr,
         (unsigned long long)o.w.seed);
  for (uint32_t epoch = start_epoch; epoch < (uint32_t)o.w.epochs; epoch++) {
    phase("train epoch", (long)epoch + 1);
    /* CosineAnnealingLR(T_max = epochs, eta_min = 0), stepped per epoch */
    if (o.cosine)
      sgd.lr =
          o.w.lr * 0.5 * (1.0 + cos(M_PI * (double)epoch / (double)o.w.epochs));
    gm_cifar10_epoch_order(order, n, o.w.seed, epoch);
    uint64_t aug = o.w.seed * 1000003u + epoch;
    long batches = (long)((n + (size_t)o.w.batch - 1) / (size_t)o.w.batch);
    if (o.w.limit_batches && o.w.limit_batches < batches)
      batches = o.w.limit_batches;
    double t0 = now_s(), loss_sum = 0;
    long seen = 0, right = 0;
    for (long b = 0; b < batches; b++) {
      size_t first = (size_t)b * (size_t)o.w.batch;
      int m = (int)((n - first) < (size_t)o.w.batch ? n - first
                                                    : (size_t)o.w.batch);
      gm_cifar10_batch(ds, order + first, (size_t)m, true, &aug, x, labels);
      double loss;
      int correct;
      if (gm_nn_engine_forward(eng, x, m, true,
                               o.w.seed ^ ((uint64_t)epoch << 32 | (uint64_t)b),
                               logits) != GM_OK ||
          gm_nn_softmax_xent(logits, labels, m, classes, dlogits, &loss,
                             &correct) != GM_OK ||
          gm_nn_engine_backward(eng, dlogits) != GM_OK ||
          gm_nn_engine_sgd_step(eng, &sgd) != GM_OK) {
        gm_cli_error("train", "step %ld of epoch %u failed: %s", b, epoch + 1,
                     gm_nn_engine_error(eng));
        ec = GM_EXIT_SOFTWARE;
        goto out;
      }
      if (!isfinite(loss)) {
        gm_cli_error("train",
                     "the loss diverged (%g) at step %ld of epoch %u; lower "
                     "--lr",
                     loss, b, epoch + 1);
        ec = GM_EXIT_SOFTWARE;
        goto out;
      }
      loss_sum += loss * m;
      seen += m;
      right += correct;
      progress("train", b + 1, batches, loss_sum / (double)seen,
               (double)right / (double)seen, (double)seen / (now_s() - t0));
    }
    gm_nn_engine_sync(eng);
    double dt = now_s() - t0;
    if (isatty(STDERR_FILENO))
      fputc('\n', stderr);
    printf("epoch %u/%d: loss %.4f, train accuracy %.2f %%, %.3f s, "
           "%.1f images/s, %.3f s/step, lr %g\n",
           epoch + 1, o.w.epochs, loss_sum / (double)seen,
           100.0 * (double)right / (double)seen, dt, (double)seen / dt,
           dt / (double)batches, sgd.lr);
    fflush(stdout);
    struct gm_nn_checkpoint_info info = {.epoch = epoch + 1, .seed = o.w.seed};
    snprintf(info.model, sizeof(info.model), "%s", o.model);
    if (gm_nn_checkpoint_save(eng, ckpt, &info, err, sizeof(err)) != GM_OK) {
      gm_cli_error("train", "%s", err);
      ec = GM_EXIT_IOERR;
      goto out;
    }
  }
  if (getenv(GM_MARK_ENV))
    gm_phase_end();
  printf("checkpoint: %s\n", ckpt);
out:
  gm_nn_engine_destroy(eng);
  gm_nn_net_destroy(net);
  gm_cifar10_close(ds);
  free(x);
  free(logits);
  free(dlogits);
  free(labels);
  free(order);
  return ec;
}

int cmd_infer(int argc, char **argv) {
  struct run_opts o;
  default_opts(&o);
  int ec = parse(argc, argv, false, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  struct gm_cifar10 *ds = NULL;
  struct gm_nn_net *net = NULL;
  struct gm_nn_engine *eng = NULL;
  float *x = NULL, *logits = NULL;
  int32_t *labels = NULL;
  uint32_t *idx = NULL;
  ec = gm_cli_open_cifar("infer", o.w.data, o.w.seed, GM_CIFAR10_TEST, &ds);
  if (ec)
    goto out;
  ec = make_engine("infer", &o, &net, &eng);
  if (ec)
    goto out;
  char err[512] = "";
  if (o.weights) {
    struct gm_nn_checkpoint_info info;
    enum gm_status rc =
        gm_nn_checkpoint_load(eng, o.weights, &info, err, sizeof(err));
    if (rc != GM_OK) {
      gm_cli_error("infer", "--weights: %s", err);
      ec = rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_DATAERR;
      goto out;
    }
  } else {
    gm_nn_engine_init(eng, o.w.seed);
    fprintf(stderr,
            "greenml infer: no --weights: an untrained %s (seed %llu)\n",
            o.model, (unsigned long long)o.w.seed);
  }
  int classes = gm_nn_node_shape(net, gm_nn_output(net)).c;
  x = malloc((size_t)o.w.batch * GM_CIFAR10_PIXELS * sizeof(float));
  logits = malloc((size_t)o.w.batch * (size_t)classes * sizeof(float));
  labels = malloc((size_t)o.w.batch * sizeof(int32_t));
  idx = malloc((size_t)o.w.batch * sizeof(uint32_t));
  if (!x || !logits || !labels || !idx) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  size_t count = gm_cifar10_count(ds);
  printf("model %s, backend %s, %ld samples (%zu test images%s, repeated), "
         "batch %d\n",
         o.model, gm_nn_engine_backend(eng), o.w.samples, count,
         gm_cifar10_is_synthetic(ds) ? ", generated" : "", o.w.batch);
  phase("infer samples", o.w.samples);
  double t0 = now_s();
  long right = 0;
  long batches = (o.w.samples + o.w.batch - 1) / o.w.batch;
  for (long b = 0; b < batches; b++) {
    long first = b * o.w.batch;
    int m = (int)(o.w.samples - first < o.w.batch ? o.w.samples - first
                                                  : o.w.batch);
    for (int k = 0; k < m; k++)
      idx[k] = gm_cifar10_replicated_index(ds, (size_t)(first + k));
    gm_cifar10_batch(ds, idx, (size_t)m, false, NULL, x, labels);
    int correct = 0;
    if (gm_nn_engine_forward(eng, x, m, false, 0, logits) != GM_OK ||
        gm_nn_softmax_xent(logits, labels, m, classes, NULL, NULL, &correct) !=
            GM_OK) {
      gm_cli_error("infer", "batch %ld failed: %s", b, gm_nn_engine_error(eng));
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    right += correct;
    progress("infer", b + 1, batches, NAN, 0,
             (double)(first + m) / (now_s() - t0));
  }
  gm_nn_engine_sync(eng);
  double dt = now_s() - t0;
  if (getenv(GM_MARK_ENV))
    gm_phase_end();
  if (isatty(STDERR_FILENO))
    fputc('\n', stderr);
  printf("accuracy %.2f %%, %.3f s, %.1f images/s, %.3f ms/sample\n",
         100.0 * (double)right / (double)o.w.samples, dt,
         (double)o.w.samples / dt, 1000.0 * dt / (double)o.w.samples);
out:
  gm_nn_engine_destroy(eng);
  gm_nn_net_destroy(net);
  gm_cifar10_close(ds);
  free(x);
  free(logits);
  free(labels);
  free(idx);
  return ec;
}
