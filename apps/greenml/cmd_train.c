/* cmd_train.c: `greenml train` and `greenml infer`: flags, printing and
 * exit codes around the protocol of include/greenml/train.h, which runs the
 * zoo's models on CIFAR-10 (or generated data in the same format). Under
 * `greenml measure`, every epoch and every inference pass is a phase. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/mark.h"
#include "greenml/train.h"

static const char train_usage[] =
    "usage: greenml train --model M [--epochs N] [--batch-size B] [--lr X]\n"
    "                     [--seed S] [--data DIR|synthetic] [--threads T]\n"
    "                     [--backend NAME] [--precision fp32|bf16]\n"
    "                     [--checkpoint FILE] [--resume]\n"
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
    "  --threads T          compute threads (default: the idle CPUs)\n"
    "  --backend NAME       compute backend (default: the fastest)\n"
    "  --engine E           greenml (default: the C engine) or torch\n"
    "                       (PyTorch in a worker process, same protocol)\n"
    "  --device D           torch: cpu, cuda or auto (default: cuda when\n"
    "                       PyTorch sees one)\n"
    "  --precision P        fp32 (default) or bf16: convolutions and linear\n"
    "                       layers on bfloat16-rounded operands, float32\n"
    "                       master weights, batch norm and loss (a backend\n"
    "                       that computes in P is picked)\n"
    "  --checkpoint FILE    default ./checkpoints/MODEL.ckpt\n"
    "  --resume             continue from the checkpoint's epoch (made with\n"
    "                       the same flags and data: a checkpoint of another\n"
    "                       seed, lr, batch size, schedule, limit or data\n"
    "                       set or precision is refused, as is one failing\n"
    "                       its checksum)\n"
    "  --limit-batches K    at most K batches per epoch (short runs)\n"
    "  --schedule S         learning rate per epoch: constant (default) or\n"
    "                       cosine annealing from --lr to 0 over --epochs\n"
    "                       (PyTorch's CosineAnnealingLR, T_max = epochs)\n";

static const char infer_usage[] =
    "usage: greenml infer --model M [--samples N] [--batch-size B]\n"
    "                     [--weights FILE] [--data DIR|synthetic] [--seed S]\n"
    "                     [--threads T] [--backend NAME]\n"
    "                     [--precision fp32|bf16]\n"
    "\n"
    "Runs a model in evaluation mode over N samples of the test set, repeated\n"
    "as often as needed (default 50000 = the test set x5, as in the study),\n"
    "and prints accuracy, time and images/s.\n"
    "\n"
    "  --model M            a model of the zoo ('greenml models' lists them)\n"
    "  --samples N          samples to run (default 50000)\n"
    "  --batch-size B       default 128\n"
    "  --weights FILE       a checkpoint from 'greenml train' (default: "
    "weights\n"
    "                       initialised from --seed, i.e. an untrained "
    "model)\n"
    "  --data DIR|synthetic CIFAR-10 binary files in DIR (default ./data), or "
    "a\n"
    "                       generated data set in the same format\n"
    "  --seed S             the initial weights without --weights, and the\n"
    "                       generated data set (default 1)\n"
    "  --threads T          compute threads (default: the idle CPUs)\n"
    "  --backend NAME       compute backend (default: the fastest)\n"
    "  --engine E           greenml (default: the C engine) or torch\n"
    "                       (PyTorch in a worker process, same protocol)\n"
    "  --device D           torch: cpu, cuda or auto (default: cuda when\n"
    "                       PyTorch sees one)\n"
    "  --precision P        fp32 (default) or bf16: convolutions and linear\n"
    "                       layers on bfloat16-rounded operands, float32\n"
    "                       master weights, batch norm and loss (a backend\n"
    "                       that computes in P is picked)\n";

struct run_opts {
  struct gm_cli_work_opts w;
  const char *model;
  const char *checkpoint;
  bool resume;
  const char *weights;
  bool cosine;
};

/* Checks that base, the directory the cache goes in, cannot be rearranged
 * by another user: owned by this user or root, and writable by others only
 * when sticky (as /tmp is: then nobody else can rename what we make). */
static int check_cache_base(const char *cmd, const char *base,
                            const char *var) {
  struct stat st;
  if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) {
    gm_cli_error(cmd, "the cache directory %s '%s' is not a directory", var,
                 base);
    return GM_EXIT_CANTCREAT;
  }
  if ((st.st_uid != geteuid() && st.st_uid != 0) ||
      ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
    gm_cli_error(cmd,
                 "the cache directory %s '%s' can be changed by another user "
                 "(owner uid %u, mode %03o): set %s to a directory of yours",
                 var, base, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                 var[0] == '$' ? var + 1 : var);
    return GM_EXIT_CANTCREAT;
  }
  return 0;
}

/* Makes dir (mode 0700) when missing and checks that it is greenml's own: a
 * directory, not a symlink, owned by this user and writable by nobody else.
 * Anything else may have been planted by another user: refused. */
static int private_dir(const char *cmd, const char *dir) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    gm_cli_error(cmd, "cannot create '%s': %s", dir, strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  struct stat st;
  if (lstat(dir, &st) != 0) {
    gm_cli_error(cmd, "cannot create '%s': %s", dir, strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  const char *bad = NULL;
  char why[160];
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, sizeof(why), "is %s, not a directory",
             gm_cli_file_kind(st.st_mode));
    bad = why;
  } else if (st.st_uid != geteuid()) {
    snprintf(why, sizeof(why), "belongs to uid %u, not to you (uid %u)",
             (unsigned)st.st_uid, (unsigned)geteuid());
    bad = why;
  } else if (st.st_mode & 022) {
    snprintf(why, sizeof(why), "is writable by others (mode %03o)",
             (unsigned)(st.st_mode & 07777));
    bad = why;
  }
  if (bad) {
    gm_cli_error(cmd,
                 "refusing the cache directory '%s': it %s; another user may "
                 "control it. Remove it, or set XDG_CACHE_HOME to a private "
                 "directory",
                 dir, bad);
    return GM_EXIT_CANTCREAT;
  }
  return 0;
}

/* The directory of the generated data set of seed: $XDG_CACHE_HOME/greenml/
 * synthetic-SEED, else $HOME/.cache/greenml/synthetic-SEED (absolute paths
 * only); greenml/ and synthetic-SEED/ are private (private_dir). Never a
 * shared directory such as /tmp by default. Returns 0 or an exit code after
 * printing. */
static int synthetic_dir(const char *cmd, uint64_t seed, char *dir,
                         size_t size) {
  const char *cache = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char base[1024];
  const char *var;
  if (cache && cache[0] == '/') {
    snprintf(base, sizeof(base), "%s", cache);
    var = "$XDG_CACHE_HOME";
  } else if (home && home[0] == '/') {
    snprintf(base, sizeof(base), "%s/.cache", home);
    var = "$HOME/.cache";
  } else {
    gm_cli_error(cmd,
                 "--data synthetic needs a cache directory and neither "
                 "XDG_CACHE_HOME nor HOME is set to an absolute path: set "
                 "XDG_CACHE_HOME (or HOME) to a directory of yours, or write "
                 "the data with 'greenml data synth --dir DIR --seed %llu' "
                 "and pass --data DIR",
                 (unsigned long long)seed);
    return GM_EXIT_CANTCREAT;
  }
  if (!gm_cli_mkdirs(base)) {
    gm_cli_error(cmd, "cannot create '%s': %s", base, strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  int ec = check_cache_base(cmd, base, var);
  if (ec)
    return ec;
  char mid[1100];
  int n = snprintf(mid, sizeof(mid), "%s/greenml", base);
  if (n < 0 || (size_t)n >= sizeof(mid) ||
      (size_t)snprintf(dir, size, "%s/synthetic-%llu", mid,
                       (unsigned long long)seed) >= size) {
    gm_cli_error(cmd, "the cache path under '%s' is too long", base);
    return GM_EXIT_CANTCREAT;
  }
  if ((ec = private_dir(cmd, mid)) || (ec = private_dir(cmd, dir)))
    return ec;
  return 0;
}

/* Opens DIR or, for "synthetic", generates a data set under the cache
 * directory (once per seed). */
int gm_cli_open_cifar(const char *cmd, const char *data, uint64_t seed,
                      enum gm_cifar10_split split, struct gm_cifar10 **out) {
  char dir[1200];
  const char *path = data;
  if (strcmp(data, "synthetic") == 0) {
    int ec = synthetic_dir(cmd, seed, dir, sizeof(dir));
    if (ec)
      return ec;
    path = dir;
    char probe[1300];
    snprintf(probe, sizeof(probe), "%s/%s", dir, GM_CIFAR10_MANIFEST);
    if (access(probe, R_OK) != 0) {
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
  char err[2048];
  enum gm_status rc = gm_cifar10_open(path, split, out, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  gm_cli_error(cmd, "%s", err);
  return rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_DATAERR;
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
      {"engine", 1, 0, GM_OPT_ENGINE},
      {"device", 1, 0, GM_OPT_DEVICE},
      {"precision", 1, 0, GM_OPT_PRECISION},
      {"checkpoint", 1, 0, O_CKPT},
      {"resume", 0, 0, O_RESUME},
      {"limit-batches", 1, 0, GM_OPT_LIMIT},
      {"schedule", 1, 0, O_SCHEDULE},
      {"help", 0, 0, 'h'},
      {0}};
  static const struct option infer_opts[] = {
      {"model", 1, 0, O_MODEL},
      {"samples", 1, 0, GM_OPT_SAMPLES},
      {"batch-size", 1, 0, GM_OPT_BATCH},
      {"weights", 1, 0, O_WEIGHTS},
      {"data", 1, 0, GM_OPT_DATA},
      {"seed", 1, 0, GM_OPT_SEED},
      {"threads", 1, 0, GM_OPT_THREADS},
      {"backend", 1, 0, GM_OPT_BACKEND},
      {"engine", 1, 0, GM_OPT_ENGINE},
      {"device", 1, 0, GM_OPT_DEVICE},
      {"precision", 1, 0, GM_OPT_PRECISION},
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

/* The protocol's configuration for the flags. */
static struct gm_train_config train_config(const struct run_opts *o) {
  struct gm_train_config c = gm_train_config_default();
  c.model = o->model;
  c.batch_size = o->w.batch;
  c.lr = o->w.lr;
  c.schedule = o->cosine ? GM_TRAIN_LR_COSINE : GM_TRAIN_LR_CONSTANT;
  c.epochs = o->w.epochs;
  c.seed = o->w.seed;
  c.limit_batches = o->w.limit_batches;
  c.backend = o->w.backend;
  c.engine = o->w.engine;
  c.device = o->w.device;
  c.threads = o->w.threads;
  c.precision = o->w.precision;
  return c;
}

static int make_trainer(const char *cmd, const struct run_opts *o,
                        struct gm_train **t) {
  struct gm_train_config c = train_config(o);
  char err[512] = "";
  enum gm_status rc = gm_train_create(&c, t, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  gm_cli_error(cmd, "%s", err);
  /* an unknown name, a bad value, or a backend that lacks the precision
   * or an operator: the flags ask for what cannot be */
  return rc == GM_ERR_NOT_FOUND || rc == GM_ERR_INVALID_ARG ||
                 rc == GM_ERR_NOT_SUPPORTED
             ? GM_EXIT_USAGE
             : GM_EXIT_SOFTWARE;
}

/* The display of a pass: a progress bar on a terminal, phase marks under
 * `greenml measure`. */
struct display {
  bool tty, marks;
  long samples; /* of an inference pass */
};

/* "threads 1 (1 of 2 CPUs idle (1 kept busy by other processes))" */
static void print_threads(const struct gm_train *t) {
  const struct gm_nn_threads *th = gm_train_threads(t);
  printf("threads %d (%s)\n", th->threads, th->detail);
  printf("kernels %s\n", gm_train_kernels(t));
}

static void on_pass_begin(void *ctx, enum gm_train_pass pass, uint32_t epoch,
                          long batches) {
  struct display *d = ctx;
  (void)batches;
  if (!d->marks)
    return;
  char name[64];
  if (pass == GM_TRAIN_PASS_TRAIN)
    snprintf(name, sizeof(name), "train epoch %ld", (long)epoch + 1);
  else
    snprintf(name, sizeof(name), "infer samples %ld", d->samples);
  gm_phase_begin(name);
}

static bool on_batch(void *ctx, const struct gm_train_batch *b) {
  struct display *d = ctx;
  if (!d->tty)
    return true;
  bool train = b->pass == GM_TRAIN_PASS_TRAIN;
  int width = 30,
      filled = b->batches ? (int)(width * b->batch / b->batches) : 0;
  fprintf(stderr, "\r%s [", train ? "train" : "infer");
  for (int i = 0; i < width; i++)
    fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
  fprintf(stderr, "] %ld/%ld", b->batch, b->batches);
  if (train)
    fprintf(stderr, " loss %.4f acc %.2f %%", b->loss, 100 * b->accuracy);
  fprintf(stderr, " %.1f img/s  ", (double)b->pass_samples / b->pass_s);
  fflush(stderr);
  return true;
}

/* The exit code of a failed checkpoint load. */
static int load_exit(enum gm_status rc) {
  return rc == GM_ERR_NOT_FOUND     ? GM_EXIT_NOINPUT
         : rc == GM_ERR_INVALID_ARG ? GM_EXIT_USAGE
                                    : GM_EXIT_DATAERR;
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
  /* Where the checkpoints go is checked before any work, not after the
   * first epoch. */
  char cerr[1400];
  if (gm_train_check_checkpoint_path(ckpt, cerr, sizeof(cerr)) != GM_OK) {
    gm_cli_error("train", "%s", cerr);
    return GM_EXIT_CANTCREAT;
  }
  if (o.resume && access(ckpt, F_OK) != 0) {
    gm_cli_error("train", "--resume: cannot open checkpoint '%s': %s", ckpt,
                 strerror(errno));
    return GM_EXIT_NOINPUT;
  }
  struct gm_cifar10 *ds = NULL;
  struct gm_train *t = NULL;
  ec = gm_cli_open_cifar("train", o.w.data, o.w.seed, GM_CIFAR10_TRAIN, &ds);
  if (ec || (ec = make_trainer("train", &o, &t)))
    goto out;
  gm_train_use_data(t, ds);
  uint32_t start_epoch = 0;
  if (o.resume) {
    enum gm_status rc = gm_train_resume(t, ckpt, &start_epoch);
    if (rc != GM_OK) {
      gm_cli_error("train", "--resume: %s", gm_train_last_error(t));
      ec = load_exit(rc);
      goto out;
    }
    fprintf(stderr, "greenml train: resuming %s from '%s' after epoch %u\n",
            o.model, ckpt, start_epoch);
  } else if (gm_train_init(t) != GM_OK) {
    gm_cli_error("train", "%s", gm_train_last_error(t));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  size_t n = gm_cifar10_count(ds);
  printf("model %s, engine %s, %zu training images%s, batch %d, lr %g, "
         "seed %llu\n",
         o.model, gm_train_engine_name(t), n,
         gm_cifar10_is_synthetic(ds) ? " (generated)" : "", o.w.batch, o.w.lr,
         (unsigned long long)o.w.seed);
  print_threads(t);
  struct display d = {.tty = isatty(STDERR_FILENO),
                      .marks = getenv(GM_MARK_ENV) != NULL};
  struct gm_train_observer obs = {
      .ctx = &d, .pass_begin = on_pass_begin, .batch_done = on_batch};
  for (uint32_t epoch = start_epoch; epoch < (uint32_t)o.w.epochs; epoch++) {
    struct gm_train_result r;
    if (gm_train_epoch(t, ds, epoch, 0, &obs, &r) != GM_OK) {
      if (d.tty)
        fputc('\n', stderr);
      gm_cli_error("train", "%s", gm_train_last_error(t));
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    if (d.tty)
      fputc('\n', stderr);
    printf("epoch %u/%d: loss %.4f, train accuracy %.2f %%, %.3f s, "
           "%.1f images/s, %.3f s/step, lr %g\n",
           epoch + 1, o.w.epochs, r.loss, 100.0 * r.accuracy, r.duration_s,
           (double)r.samples / r.duration_s, r.duration_s / (double)r.steps,
           r.lr);
    fflush(stdout);
    if (gm_train_save(t, ckpt, epoch + 1) != GM_OK) {
      gm_cli_error("train", "%s", gm_train_last_error(t));
      ec = GM_EXIT_IOERR;
      goto out;
    }
  }
  if (d.marks)
    gm_phase_end();
  printf("checkpoint: %s\n", ckpt);
out:
  gm_train_destroy(t);
  gm_cifar10_close(ds);
  return ec;
}

int cmd_infer(int argc, char **argv) {
  struct run_opts o;
  default_opts(&o);
  int ec = parse(argc, argv, false, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  struct gm_cifar10 *ds = NULL;
  struct gm_train *t = NULL;
  ec = gm_cli_open_cifar("infer", o.w.data, o.w.seed, GM_CIFAR10_TEST, &ds);
  if (ec || (ec = make_trainer("infer", &o, &t)))
    goto out;
  if (o.weights) {
    enum gm_status rc = gm_train_load_weights(t, o.weights);
    if (rc != GM_OK) {
      gm_cli_error("infer", "--weights: %s", gm_train_last_error(t));
      ec = load_exit(rc);
      goto out;
    }
  } else {
    gm_train_init(t);
    fprintf(stderr,
            "greenml infer: no --weights: an untrained %s (seed %llu)\n",
            o.model, (unsigned long long)o.w.seed);
  }
  size_t count = gm_cifar10_count(ds);
  printf("model %s, engine %s, %ld samples (%zu test images%s, repeated), "
         "batch %d\n",
         o.model, gm_train_engine_name(t), o.w.samples, count,
         gm_cifar10_is_synthetic(ds) ? ", generated" : "", o.w.batch);
  print_threads(t);
  struct display d = {.tty = isatty(STDERR_FILENO),
                      .marks = getenv(GM_MARK_ENV) != NULL,
                      .samples = o.w.samples};
  struct gm_train_observer obs = {
      .ctx = &d, .pass_begin = on_pass_begin, .batch_done = on_batch};
  struct gm_train_result r;
  if (gm_train_infer(t, ds, 0, o.w.samples, &obs, &r) != GM_OK) {
    if (d.tty)
      fputc('\n', stderr);
    gm_cli_error("infer", "%s", gm_train_last_error(t));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  if (d.marks)
    gm_phase_end();
  if (d.tty)
    fputc('\n', stderr);
  double dt = r.duration_s;
  printf("accuracy %.2f %%, %.3f s, %.1f images/s, %.3f ms/sample\n",
         100.0 * r.accuracy, dt, (double)o.w.samples / dt,
         1000.0 * dt / (double)o.w.samples);
out:
  gm_train_destroy(t);
  gm_cifar10_close(ds);
  return ec;
}
