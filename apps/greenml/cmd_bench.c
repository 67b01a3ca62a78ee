/* cmd_bench.c: `greenml bench`, the study runner. For every model and batch
 * size of the grid it records the model's characteristics, trains for N
 * epochs and runs inference over the replicated test set after each epoch,
 * every one a measured phase written to the database as it ends. The meter
 * runs for the whole of a (model, batch size) cell, so the time series holds
 * the gaps between phases too.
 *
 * Crash safety: a phase's row is committed when the phase ends and a
 * checkpoint is written after every epoch before its row, so `--resume`
 * continues at the first phase without a row, from the checkpoint of the
 * epoch before it. SIGINT and SIGTERM abandon the phase in progress, close
 * the meter's run and mark the bench interrupted; SIGKILL loses at most the
 * phase in progress. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "greenml/json.h"
#include "cli.h"
#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/host.h"
#include "greenml/nn.h"
#include "greenml/stats.h"
#include "greenml/version.h"
#include "store/sqlite/sqlite.h" /* transitional: gm__store_sqlite_db */

static const char usage_text[] =
    "usage: greenml bench [--models all|LIST] [--epochs N]\n"
    "                     [--batch-sizes LIST|paper] [--infer-samples N]\n"
    "                     [--lr X] [--seed S] [--data DIR|synthetic]\n"
    "                     [--idle DUR|none] [--gap DUR] [--db PATH]\n"
    "                     [--run-id ID] [--resume] [--threads T]\n"
    "                     [--no-meter | --overhead]\n"
    "                     [--profile-epochs K [--verify]] [options]\n"
    "\n"
    "Runs the study's grid: for every model and batch size, records the\n"
    "model's characteristics, trains N epochs and, after each, runs\n"
    "inference over the test set repeated to --infer-samples; every epoch\n"
    "and every inference pass is a measured phase (energy per component,\n"
    "power, utilisation, loss, accuracy) committed to the database as it\n"
    "ends. Defaults follow the paper: batch 128, lr 0.001, 50000 inference\n"
    "samples, 2 s between phases, an idle baseline first.\n"
    "\n"
    "  --models all|LIST    comma-separated zoo names (default all)\n"
    "  --epochs N           training epochs per cell (default 1)\n"
    "  --batch-sizes LIST   comma-separated, or 'paper' for the sweep\n"
    "                       256,224,192,160,128,96,64,32,16,8,4 (default "
    "128)\n"
    "  --infer-samples N    samples per inference pass (default 50000)\n"
    "  --lr X               learning rate (default 0.001)\n"
    "  --seed S             initialisation, order, augmentation (default 1)\n"
    "  --data DIR|synthetic CIFAR-10 binary files (default ./data) or a\n"
    "                       generated set in the same format\n"
    "  --limit-batches K    at most K training batches per epoch\n"
    "  --idle DUR|none      idle baseline measured first (default 10s)\n"
    "  --gap DUR            pause between phases (default 2s)\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --run-id ID          the bench's name (default bench-DATE-TIME)\n"
    "  --resume             continue the bench --run-id (default: the newest\n"
    "                       unfinished one) where it stopped; its grid comes\n"
    "                       from the database, so no grid flags are allowed\n"
    "  --threads T          compute threads (default: the backend's)\n"
    "  --backend NAME       compute backend (default: the fastest)\n"
    "  --checkpoint-dir DIR where epoch checkpoints go (default beside the\n"
    "                       database, in bench-ID/)\n"
    "  --no-meter           run the same work unmeasured (time only)\n"
    "  --overhead           run every cell unmeasured and measured (after an\n"
    "                       unrecorded warm-up; the order alternates from\n"
    "                       cell to cell), and report the meter's cost in "
    "time\n"
    "  --profile-epochs K   measure only the first K epochs (K may be a\n"
    "                       fraction, e.g. 0.1) and predict the full run's\n"
    "                       energy and time with a 95 % interval\n"
    "  --verify             with --profile-epochs: run the full grid too and\n"
    "                       store the prediction's error\n"
    "  --quick              a short benchmark: LeNet, MobileNet, "
    "EfficientNetB0,\n"
    "                       ShuffleNetV2, 2 epochs of 8 batches, 2000 "
    "inference\n"
    "                       samples, predicted from half an epoch; on\n"
    "                       CIFAR-10 in ./data, else generated data (flags "
    "after\n"
    "                       it override it)\n" GM_CLI_METER_HELP;

#define MAX_MODELS 32
#define MAX_BATCHES 32
#define MAX_WINDOWS 4096
#define MIN_WINDOWS 2

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- options ------------------------------------------------------------- */

struct bench_opts {
  struct gm_cli_work_opts w; /* w.batch is unused: the grid has batches[] */
  char models[MAX_MODELS][64];
  int n_models;
  int batches[MAX_BATCHES];
  int n_batches;
  int64_t idle_ns; /* 0: none */
  int64_t gap_ns;
  const char *db;
  const char *run_id;
  bool resume;
  const char *ckpt_dir;
  bool no_meter, overhead, verify;
  double profile_epochs;
  struct gm_cli_meter_opts mo;
  bool grid_flags; /* a flag that defines the grid was given */
  bool quick;
};

static const int paper_batches[] = {256, 224, 192, 160, 128, 96,
                                    64,  32,  16,  8,   4};

static int parse_models(struct bench_opts *o, const char *arg) {
  o->n_models = 0;
  if (strcasecmp(arg, "all") == 0) {
    for (size_t i = 0; i < gm_nn_zoo_count() && i < MAX_MODELS; i++)
      snprintf(o->models[o->n_models++], 64, "%s", gm_nn_zoo_name(i));
    return 0;
  }
  char buf[2048];
  snprintf(buf, sizeof(buf), "%s", arg);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    const char *canon = NULL;
    for (size_t i = 0; i < gm_nn_zoo_count(); i++)
      if (strcasecmp(t, gm_nn_zoo_name(i)) == 0)
        canon = gm_nn_zoo_name(i);
    if (!canon) {
      gm_cli_error("bench",
                   "--models: no model '%s' in the zoo; 'greenml models' "
                   "lists them",
                   t);
      return GM_EXIT_USAGE;
    }
    for (int k = 0; k < o->n_models; k++)
      if (strcmp(o->models[k], canon) == 0) {
        gm_cli_error("bench", "--models: '%s' is listed twice", canon);
        return GM_EXIT_USAGE;
      }
    if (o->n_models == MAX_MODELS) {
      gm_cli_error("bench", "--models: at most %d models", MAX_MODELS);
      return GM_EXIT_USAGE;
    }
    snprintf(o->models[o->n_models++], 64, "%s", canon);
  }
  if (o->n_models == 0) {
    gm_cli_error("bench", "--models: empty list; give 'all' or names");
    return GM_EXIT_USAGE;
  }
  return 0;
}

static int parse_batches(struct bench_opts *o, const char *arg) {
  o->n_batches = 0;
  if (strcasecmp(arg, "paper") == 0) {
    for (size_t i = 0; i < sizeof(paper_batches) / sizeof(*paper_batches); i++)
      o->batches[o->n_batches++] = paper_batches[i];
    return 0;
  }
  char buf[1024];
  snprintf(buf, sizeof(buf), "%s", arg);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    long v;
    if (!gm_cli_parse_long(t, 1, 65536, &v)) {
      gm_cli_error("bench",
                   "--batch-sizes: '%s' is not a batch size from 1 to 65536 "
                   "(give e.g. 128,64 or 'paper')",
                   t);
      return GM_EXIT_USAGE;
    }
    if (o->n_batches == MAX_BATCHES) {
      gm_cli_error("bench", "--batch-sizes: at most %d sizes", MAX_BATCHES);
      return GM_EXIT_USAGE;
    }
    o->batches[o->n_batches++] = (int)v;
  }
  if (o->n_batches == 0) {
    gm_cli_error("bench", "--batch-sizes: empty list");
    return GM_EXIT_USAGE;
  }
  return 0;
}

static void default_opts(struct bench_opts *o) {
  memset(o, 0, sizeof(*o));
  gm_cli_work_opts_init(&o->w);
  parse_models(o, "all");
  o->batches[0] = 128;
  o->n_batches = 1;
  o->idle_ns = 10 * INT64_C(1000000000);
  o->gap_ns = 2 * INT64_C(1000000000);
  gm_cli_meter_opts_init(&o->mo);
}

enum {
  O_MODELS = GM_OPT_FIRST_FREE,
  O_BATCHES,
  O_IDLE,
  O_GAP,
  O_DB,
  O_RUN_ID,
  O_RESUME,
  O_CKPT_DIR,
  O_NO_METER,
  O_OVERHEAD,
  O_PROFILE,
  O_VERIFY,
  O_QUICK
};

/* Parses argv into o. Returns 0, -1 after --help, or an exit code. */
static int parse(int argc, char **argv, struct bench_opts *o) {
  static const struct option opts[] = {{"models", 1, 0, O_MODELS},
                                       {"epochs", 1, 0, GM_OPT_EPOCHS},
                                       {"batch-sizes", 1, 0, O_BATCHES},
                                       {"infer-samples", 1, 0, GM_OPT_SAMPLES},
                                       {"lr", 1, 0, GM_OPT_LR},
                                       {"seed", 1, 0, GM_OPT_SEED},
                                       {"data", 1, 0, GM_OPT_DATA},
                                       {"idle", 1, 0, O_IDLE},
                                       {"gap", 1, 0, O_GAP},
                                       {"db", 1, 0, O_DB},
                                       {"run-id", 1, 0, O_RUN_ID},
                                       {"resume", 0, 0, O_RESUME},
                                       {"threads", 1, 0, GM_OPT_THREADS},
                                       {"backend", 1, 0, GM_OPT_BACKEND},
                                       {"checkpoint-dir", 1, 0, O_CKPT_DIR},
                                       {"limit-batches", 1, 0, GM_OPT_LIMIT},
                                       {"no-meter", 0, 0, O_NO_METER},
                                       {"overhead", 0, 0, O_OVERHEAD},
                                       {"profile-epochs", 1, 0, O_PROFILE},
                                       {"verify", 0, 0, O_VERIFY},
                                       {"quick", 0, 0, O_QUICK},
                                       {"help", 0, 0, 'h'},
                                       GM_CLI_METER_LONGOPTS,
                                       {0}};
  int opt, ec;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (opt != O_DB && opt != O_RUN_ID && opt != O_RESUME && opt != 'h' &&
        opt != '?')
      o->grid_flags = true;
    int r = gm_cli_meter_opt(&o->mo, opt, optarg, "bench");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r == 0 && (r = gm_cli_work_opt(&o->w, opt, optarg, "bench")) < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_MODELS:
      if ((ec = parse_models(o, optarg)))
        return ec;
      break;
    case O_BATCHES:
      if ((ec = parse_batches(o, optarg)))
        return ec;
      break;
    case O_IDLE:
      if (strcmp(optarg, "none") == 0) {
        o->idle_ns = 0;
      } else if (!gm_cli_parse_duration(optarg, &o->idle_ns) ||
                 o->idle_ns < 100 * INT64_C(1000000)) {
        gm_cli_error("bench",
                     "--idle '%s' must be none or a duration of at least "
                     "100ms (e.g. 30s)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_GAP:
      if (!gm_cli_parse_duration(optarg, &o->gap_ns) ||
          o->gap_ns > 3600 * INT64_C(1000000000)) {
        gm_cli_error("bench",
                     "--gap '%s' is not a duration up to 1h (e.g. 2s, 0)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_DB:
      o->db = optarg;
      break;
    case O_RUN_ID:
      if (!*optarg || strlen(optarg) > 100 || strchr(optarg, '/')) {
        gm_cli_error("bench",
                     "--run-id '%s' must be 1 to 100 characters without '/'",
                     optarg);
        return GM_EXIT_USAGE;
      }
      o->run_id = optarg;
      break;
    case O_RESUME:
      o->resume = true;
      break;
    case O_CKPT_DIR:
      o->ckpt_dir = optarg;
      break;
    case O_NO_METER:
      o->no_meter = true;
      break;
    case O_OVERHEAD:
      o->overhead = true;
      break;
    case O_PROFILE: {
      char *end;
      o->profile_epochs = strtod(optarg, &end);
      if (*end || end == optarg || !(o->profile_epochs > 0) ||
          o->profile_epochs > 1e5) {
        gm_cli_error("bench",
                     "--profile-epochs '%s' is not a positive number of "
                     "epochs (e.g. 0.1 or 1)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    }
    case O_VERIFY:
      o->verify = true;
      break;
    case O_QUICK:
      /* the main job's grid: four small models, two short epochs */
      parse_models(o, "LeNet,MobileNet,EfficientNetB0,ShuffleNetV2");
      o->w.epochs = 2;
      o->w.limit_batches = 8;
      o->w.samples = 2000;
      o->profile_epochs = 0.5;
      o->verify = true;
      o->quick = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return -1;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("bench", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  return 0;
}

/* Cross-flag rules, checked on the final options. */
static int check_opts(const struct bench_opts *o) {
  if (o->no_meter && o->overhead) {
    gm_cli_error("bench", "--no-meter and --overhead exclude each other "
                          "(--overhead runs both)");
    return GM_EXIT_USAGE;
  }
  if (o->verify && o->profile_epochs <= 0) {
    gm_cli_error("bench", "--verify needs --profile-epochs K");
    return GM_EXIT_USAGE;
  }
  if (o->profile_epochs > 0 && (o->no_meter || o->overhead)) {
    gm_cli_error("bench", "--profile-epochs predicts energy: it needs the "
                          "meter (drop --no-meter/--overhead)");
    return GM_EXIT_USAGE;
  }
  if (o->profile_epochs > 0 && o->profile_epochs >= (double)o->w.epochs) {
    gm_cli_error("bench",
                 "--profile-epochs %g must be below --epochs %d (the profile "
                 "predicts a longer run)",
                 o->profile_epochs, o->w.epochs);
    return GM_EXIT_USAGE;
  }
  return 0;
}

/* ---- state --------------------------------------------------------------- */

/* Step-window statistics of a short profile: per-sample time and energy. */
struct profile {
  bool on;        /* collecting */
  long want;      /* samples to profile */
  long seen;      /* samples profiled so far */
  double first_s; /* the first step (warm-up), timed alone */
  long first_n;   /* its samples */
  double first_w; /* power over the first window, for the first step */
  int64_t w_t0;   /* window start (clock) */
  double w_e0;    /* live energy at the window start */
  double w_live0; /* live elapsed at the window start */
  long w_samples; /* samples in the open window */
  double sum_dt;  /* seconds of all profiled steps */
  int n;          /* closed windows */
  double t_per[MAX_WINDOWS], e_per[MAX_WINDOWS]; /* per sample */
  double w_n[MAX_WINDOWS];                       /* samples per window */
  bool done;
};

struct cell {
  const char *model;
  int batch;
  bool metered;
  struct gm_nn_net *net;
  struct gm_nn_engine *eng;
  struct gm_nn_stats stats;
  int classes;
  float *x, *logits, *dlogits;
  int32_t *labels;
  uint32_t *order, *idx;
  struct gm_nn_sgd sgd;
  long steps_per_epoch;
  long epoch_samples;
  long infer_batches;
  /* the meter of this cell */
  struct gm_meter *m;
  int64_t run_id;
  size_t nc, nm, n_meter_phases;
  double *idle_w; /* per component, NAN: none */
  double *live_e, *live_p;
  size_t i_cpu, i_mem; /* metric indices, SIZE_MAX: none */
  size_t gpu_util[16], gpu_vram[16];
  size_t n_gpu_util, n_gpu_vram;
  /* the phase in progress */
  double ph_e0;
  /* profile and its targets */
  struct profile ptrain, pinfer;
  double sum_train_s, sum_train_j, sum_infer_s, sum_infer_j;
  int train_phases, infer_phases;
  bool resumed;
};

struct bench {
  struct bench_opts o;
  char name[128];
  char db_path[1024];
  char ckpt_dir[1200];
  struct gm_store *st;
  pthread_mutex_t st_mu;
  bool db_failed;
  char db_err[512];
  int64_t host_id, bench_id;
  struct gm_idle_baseline *idle;
  struct gm_cifar10 *train, *test;
  bool tty;
  int64_t last_draw;
  /* ETA: seconds per (sample x MAC) for training and inference */
  double rate_train, rate_infer;
  double left_train, left_infer; /* sample x MACs still to run */
  int cells_total, cell_no;
};

/* ---- the meter's writer thread ------------------------------------------- */

struct sink {
  struct bench *b;
  int64_t run_id;
};

static void on_sample(void *arg, const struct gm_sample *s) {
  struct sink *k = arg;
  struct bench *b = k->b;
  pthread_mutex_lock(&b->st_mu);
  if (!b->db_failed && gm_store_add_sample(b->st, k->run_id, s) != GM_OK) {
    b->db_failed = true;
    snprintf(b->db_err, sizeof(b->db_err), "%s", gm_store_last_error(b->st));
  }
  pthread_mutex_unlock(&b->st_mu);
}

static void on_flush(void *arg) {
  struct sink *k = arg;
  struct bench *b = k->b;
  pthread_mutex_lock(&b->st_mu);
  if (!b->db_failed && gm_store_commit(b->st) != GM_OK) {
    b->db_failed = true;
    snprintf(b->db_err, sizeof(b->db_err), "%s", gm_store_last_error(b->st));
  }
  pthread_mutex_unlock(&b->st_mu);
}

/* ---- display ------------------------------------------------------------- */

static void fmt_duration(char *buf, size_t size, double s) {
  if (!isfinite(s) || s < 0)
    snprintf(buf, size, "--");
  else if (s < 60)
    snprintf(buf, size, "%.0f s", s);
  else if (s < 3600)
    snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static double eta_s(const struct bench *b) {
  double rt = b->rate_train, ri = b->rate_infer;
  if (!(rt > 0) && !(ri > 0))
    return NAN;
  /* before the first of a kind is seen: training costs about 3x inference
   * per sample */
  if (!(rt > 0))
    rt = 3 * ri;
  if (!(ri > 0))
    ri = rt / 3;
  return b->left_train * rt + b->left_infer * ri;
}

/* Sum of the in-total components of a per-component array. */
static double total_of(const struct cell *c, const double *v) {
  double t = 0;
  for (size_t i = 0; i < c->nc; i++)
    if (gm_meter_component(c->m, i)->in_total)
      t += v[i];
  return t;
}

static const char *cell_provenance(const struct cell *c) {
  bool meas = false, mod = false;
  for (size_t i = 0; i < c->nc; i++) {
    const struct gm_component_info *ci = gm_meter_component(c->m, i);
    if (!ci->in_total)
      continue;
    if (ci->provenance == GM_PROV_MODELLED)
      mod = true;
    else
      meas = true;
  }
  return meas && mod ? "mixed" : mod ? "modelled" : "measured";
}

static void draw(struct bench *b, struct cell *c, const char *what, int epoch,
                 long done, long total, double loss, double acc) {
  if (!b->tty)
    return;
  int64_t t = now_ns();
  if (done < total && t - b->last_draw < 200 * INT64_C(1000000))
    return;
  b->last_draw = t;
  char line[512], eta[32], e[32];
  int n = snprintf(line, sizeof(line), "[%d/%d] %s b%d %s", b->cell_no,
                   b->cells_total, c->model, c->batch, what);
  if (epoch > 0)
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %d/%d", epoch,
                  b->o.w.epochs);
  n += snprintf(line + n, sizeof(line) - (size_t)n, " batch %ld/%ld", done,
                total);
  if (!isnan(loss))
    n += snprintf(line + n, sizeof(line) - (size_t)n, " loss %.3f acc %.1f %%",
                  loss, 100 * acc);
  if (c->m) {
    double el;
    gm_meter_live(c->m, c->live_e, c->live_p, &el);
    gm_cli_fmt_energy(e, sizeof(e), total_of(c, c->live_e) - c->ph_e0);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " | %.1f W %s (%s)",
                  total_of(c, c->live_p), e, cell_provenance(c));
  }
  fmt_duration(eta, sizeof(eta), eta_s(b));
  snprintf(line + n, sizeof(line) - (size_t)n, " | ETA %s", eta);
  fprintf(stderr, "\r\033[K%s", line);
  fflush(stderr);
}

static void end_draw(struct bench *b) {
  if (b->tty) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
}

/* Sleeps dur_ns unless a stop is requested. */
static void gap(int64_t dur_ns) {
  int64_t end = now_ns() + dur_ns;
  while (!stop_requested) {
    int64_t left = end - now_ns();
    if (left <= 0)
      break;
    if (left > 100 * INT64_C(1000000))
      left = 100 * INT64_C(1000000);
    struct timespec ts = {left / 1000000000, left % 1000000000};
    nanosleep(&ts, NULL);
  }
}

/* ---- profiles ------------------------------------------------------------ */

static void profile_start(struct profile *p, long want) {
  memset(p, 0, sizeof(*p));
  p->on = want > 0;
  p->want = want;
}

/* Called after each step of m samples that took dt seconds. Windows span at
 * least 10 sampling intervals so that each holds 10 meter readings; the
 * first step is kept apart (primitive creation, caches). */
static void profile_step(struct profile *p, struct cell *c, long m, double dt,
                         int64_t interval_ns) {
  if (!p->on || p->done)
    return;
  p->sum_dt += dt;
  double el;
  gm_meter_live(c->m, c->live_e, NULL, &el);
  double e = total_of(c, c->live_e);
  if (p->first_n == 0) {
    p->first_n = m;
    p->first_s = dt;
    p->seen = m;
    p->w_t0 = now_ns();
    p->w_e0 = e;
    p->w_live0 = el;
    return;
  }
  p->seen += m;
  p->w_samples += m;
  int64_t t = now_ns();
  double span = (double)(t - p->w_t0) / 1e9;
  double min_span = 10.0 * (double)interval_ns / 1e9;
  if (span >= min_span && el - p->w_live0 > 0 && p->n < MAX_WINDOWS) {
    double power = (e - p->w_e0) / (el - p->w_live0);
    if (p->n == 0)
      p->first_w = power;
    p->t_per[p->n] = span / (double)p->w_samples;
    p->e_per[p->n] = power * span / (double)p->w_samples;
    p->w_n[p->n] = (double)p->w_samples;
    p->n++;
    p->w_t0 = t;
    p->w_e0 = e;
    p->w_live0 = el;
    p->w_samples = 0;
  }
  /* at least the asked share, and two windows for power and an interval */
  if (p->seen >= p->want && p->n >= MIN_WINDOWS)
    p->done = true;
}

/* A window cut short by the end of a phase is dropped; the next phase opens
 * a fresh one. */
static void profile_phase_break(struct profile *p, struct cell *c) {
  if (!p->on || p->done || p->first_n == 0)
    return;
  double el;
  gm_meter_live(c->m, c->live_e, NULL, &el);
  p->w_t0 = now_ns();
  p->w_e0 = total_of(c, c->live_e);
  p->w_live0 = el;
  p->w_samples = 0;
}

/* Extrapolates a profile to target samples. */
static void profile_predict(const struct profile *p, struct cell *c,
                            const struct bench *b, const char *kind,
                            long target, struct gm_bench_prediction *out) {
  memset(out, 0, sizeof(*out));
  out->model = c->model;
  out->batch_size = c->batch;
  out->kind = kind;
  out->profile_epochs = b->o.profile_epochs;
  out->profile_steps = (p->seen + c->batch - 1) / c->batch;
  out->target_samples = target;
  out->target_steps = (target + c->batch - 1) / c->batch;
  out->level = 0.95;
  out->provenance = cell_provenance(c);
  out->actual_duration_s = out->actual_energy_j = NAN;
  double sum_n = 0, sum_t = 0, sum_e = 0;
  for (int i = 0; i < p->n; i++) {
    sum_n += p->w_n[i];
    sum_t += p->t_per[i] * p->w_n[i];
    sum_e += p->e_per[i] * p->w_n[i];
  }
  double rest = (double)(target - p->first_n);
  out->duration_lo_s = out->duration_hi_s = NAN;
  out->energy_lo_j = out->energy_hi_j = NAN;
  if (!p->done || sum_n <= 0) {
    out->duration_s = out->energy_j = out->net_energy_j = NAN;
    return;
  } else {
    double t_rate = sum_t / sum_n, e_rate = sum_e / sum_n;
    double e_first = p->first_w * p->first_s;
    out->duration_s = p->first_s + rest * t_rate;
    out->energy_j = e_first + rest * e_rate;
  }
  double idle = 0;
  bool have_idle = false;
  for (size_t i = 0; i < c->nc; i++)
    if (gm_meter_component(c->m, i)->in_total && !isnan(c->idle_w[i])) {
      idle += c->idle_w[i];
      have_idle = true;
    }
  out->net_energy_j = have_idle ? out->energy_j - idle * out->duration_s : NAN;
  struct gm_stats_mean mt, me;
  if (p->n >= 2 &&
      gm_stats_mean_ci(p->t_per, (size_t)p->n, 0.05, &mt) == GM_OK &&
      gm_stats_mean_ci(p->e_per, (size_t)p->n, 0.05, &me) == GM_OK) {
    double ht = (mt.hi - mt.lo) / 2, he = (me.hi - me.lo) / 2;
    /* neither time nor energy can fall below what the profile's first step
     * already took */
    out->duration_lo_s = fmax(p->first_s, out->duration_s - rest * ht);
    out->duration_hi_s = out->duration_s + rest * ht;
    out->energy_lo_j = fmax(p->first_w * p->first_s, out->energy_j - rest * he);
    out->energy_hi_j = out->energy_j + rest * he;
  }
}

/* ---- phases -------------------------------------------------------------- */

struct phase_out {
  int64_t t0, t1;
  long steps, samples;
  double loss, acc, lr;
};

static void phase_begin(struct cell *c, const char *name, int64_t t) {
  if (!c->m)
    return;
  gm_meter_phase_begin(c->m, name, t);
  c->n_meter_phases++;
  double el;
  gm_meter_live(c->m, c->live_e, NULL, &el);
  c->ph_e0 = total_of(c, c->live_e);
}

/* Writes the row of a finished phase. Returns 0 or an exit code. */
static int record_phase(struct bench *b, struct cell *c, const char *kind,
                        int epoch, const struct phase_out *po,
                        double *energy_out) {
  struct gm_bench_phase row = {.model = c->model,
                               .batch_size = c->batch,
                               .kind = kind,
                               .epoch = epoch,
                               .metered = c->m != NULL,
                               .start_s = NAN,
                               .duration_s = (double)(po->t1 - po->t0) / 1e9,
                               .steps = po->steps,
                               .samples = po->samples,
                               .loss = po->loss,
                               .accuracy = po->acc,
                               .lr = po->lr,
                               .energy_j = NAN,
                               .net_energy_j = NAN,
                               .avg_power_w = NAN,
                               .peak_power_w = NAN,
                               .cpu_util_pct = NAN,
                               .dram_used_bytes = NAN,
                               .gpu_util_pct = NAN,
                               .vram_used_bytes = NAN};
  struct gm_bench_component *comps = NULL;
  double *e = NULL, *peak = NULL, *mmean = NULL, *mmax = NULL;
  int ec = 0;
  if (c->m) {
    gm_meter_phase_end(c->m, po->t1);
    size_t nc = c->nc ? c->nc : 1, nm = c->nm ? c->nm : 1;
    e = calloc(nc, sizeof(double));
    peak = calloc(nc, sizeof(double));
    mmean = calloc(nm, sizeof(double));
    mmax = calloc(nm, sizeof(double));
    comps = calloc(nc, sizeof(*comps));
    if (!e || !peak || !mmean || !mmax || !comps) {
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    struct gm_phase_snapshot ps = {.energy_j = e,
                                   .peak_power_w = peak,
                                   .metric_mean = mmean,
                                   .metric_max = mmax};
    /* the sampler applies the end at its next tick */
    int64_t deadline =
        now_ns() + 2 * b->o.mo.interval_ns + 5 * INT64_C(1000000000);
    enum gm_status rc;
    while ((rc = gm_meter_phase_snapshot(c->m, c->n_meter_phases - 1, &ps)) !=
               GM_OK &&
           now_ns() < deadline) {
      struct timespec ts = {0, 2000000};
      nanosleep(&ts, NULL);
    }
    if (rc != GM_OK) {
      gm_cli_error("bench", "the meter did not close phase %zu: %s",
                   c->n_meter_phases, gm_status_str(rc));
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    row.run_id = c->run_id;
    row.phase_idx = (int)(c->n_meter_phases - 1);
    row.start_s = ps.start_s;
    row.duration_s = ps.duration_s;
    double tot = 0, net = 0, pk = 0;
    bool all_idle = true;
    for (size_t i = 0; i < c->nc; i++) {
      const struct gm_component_info *ci = gm_meter_component(c->m, i);
      struct gm_bench_component *bc = &comps[i];
      bc->name = ci->name;
      bc->kind = gm_kind_name(ci->kind);
      bc->provenance = gm_provenance_name(ci->provenance);
      bc->in_total = ci->in_total;
      bc->energy_j = e[i];
      bc->net_energy_j =
          isnan(c->idle_w[i]) ? NAN : e[i] - c->idle_w[i] * ps.duration_s;
      bc->avg_power_w = ps.duration_s > 0 ? e[i] / ps.duration_s : NAN;
      bc->peak_power_w = isnan(peak[i]) ? bc->avg_power_w : peak[i];
      if (ci->in_total) {
        tot += e[i];
        if (isnan(bc->net_energy_j))
          all_idle = false;
        else
          net += bc->net_energy_j;
        pk += isnan(bc->peak_power_w) ? 0 : bc->peak_power_w;
      }
    }
    row.energy_j = tot;
    row.net_energy_j = all_idle ? net : NAN;
    row.avg_power_w = ps.duration_s > 0 ? tot / ps.duration_s : NAN;
    /* the sum of per-component peaks: an upper bound of the total's peak */
    row.peak_power_w = pk;
    row.provenance = cell_provenance(c);
    if (c->i_cpu != SIZE_MAX)
      row.cpu_util_pct = mmean[c->i_cpu];
    if (c->i_mem != SIZE_MAX)
      row.dram_used_bytes = mmean[c->i_mem];
    if (c->n_gpu_util) {
      double s = 0;
      for (size_t k = 0; k < c->n_gpu_util; k++)
        s += mmean[c->gpu_util[k]];
      row.gpu_util_pct = s / (double)c->n_gpu_util;
    }
    if (c->n_gpu_vram) {
      double s = 0;
      for (size_t k = 0; k < c->n_gpu_vram; k++)
        s += mmean[c->gpu_vram[k]];
      row.vram_used_bytes = s;
    }
    row.n_components = c->nc;
    row.components = comps;
  }
  pthread_mutex_lock(&b->st_mu);
  enum gm_status rc = gm_store_bench_add_phase(b->st, b->bench_id, &row);
  if (rc != GM_OK)
    snprintf(b->db_err, sizeof(b->db_err), "%s", gm_store_last_error(b->st));
  pthread_mutex_unlock(&b->st_mu);
  if (rc != GM_OK) {
    gm_cli_error("bench", "cannot record the phase: %s", b->db_err);
    ec = GM_EXIT_IOERR;
    goto out;
  }
  if (energy_out)
    *energy_out = row.energy_j;
  /* the log line */
  char en[32] = "", net[32] = "";
  printf("%-16s b%-4d %-5s", c->model, c->batch, kind);
  if (epoch > 0)
    printf(" %s %d/%d", strcmp(kind, "infer") == 0 ? "after epoch" : "epoch",
           epoch, b->o.w.epochs);
  printf(": %.2f s, %.1f samples/s", row.duration_s,
         (double)row.samples / row.duration_s);
  if (!isnan(row.loss))
    printf(", loss %.4f, accuracy %.2f %%", row.loss, 100 * row.accuracy);
  if (c->m) {
    gm_cli_fmt_energy(en, sizeof(en), row.energy_j);
    printf(", %s gross", en);
    if (!isnan(row.net_energy_j)) {
      gm_cli_fmt_energy(net, sizeof(net), row.net_energy_j);
      printf(", %s net", net);
    }
    printf(", %.1f W avg, %.4f J/sample [%s]", row.avg_power_w,
           row.energy_j / (double)row.samples, row.provenance);
  } else {
    printf(" [unmetered]");
  }
  putchar('\n');
  fflush(stdout);
out:
  free(e);
  free(peak);
  free(mmean);
  free(mmax);
  free(comps);
  return ec;
}

/* One training pass of up to max_steps steps (0: the whole epoch) of the
 * given epoch (0-based for the data order). */
static int train_steps(struct bench *b, struct cell *c, uint32_t epoch,
                       long max_steps, int shown_epoch, bool until_profiled,
                       struct phase_out *po) {
  size_t n = gm_cifar10_count(b->train);
  gm_cifar10_epoch_order(c->order, n, b->o.w.seed, epoch);
  uint64_t aug = b->o.w.seed * 1000003u + epoch;
  long steps = c->steps_per_epoch;
  if (max_steps > 0 && max_steps < steps)
    steps = max_steps;
  double loss_sum = 0;
  long right = 0;
  for (long s = 0; s < steps; s++) {
    if (stop_requested)
      return 130;
    if (until_profiled && c->ptrain.done)
      break;
    int64_t t0 = now_ns();
    size_t first = (size_t)s * (size_t)c->batch;
    int m =
        (int)((n - first) < (size_t)c->batch ? n - first : (size_t)c->batch);
    gm_cifar10_batch(b->train, c->order + first, (size_t)m, true, &aug, c->x,
                     c->labels);
    double loss;
    int correct;
    if (gm_nn_engine_forward(c->eng, c->x, m, true,
                             b->o.w.seed ^
                                 ((uint64_t)epoch << 32 | (uint64_t)s),
                             c->logits) != GM_OK ||
        gm_nn_softmax_xent(c->logits, c->labels, m, c->classes, c->dlogits,
                           &loss, &correct) != GM_OK ||
        gm_nn_engine_backward(c->eng, c->dlogits) != GM_OK ||
        gm_nn_engine_sgd_step(c->eng, &c->sgd) != GM_OK) {
      end_draw(b);
      gm_cli_error("bench", "%s: step %ld of epoch %u failed: %s", c->model,
                   s + 1, epoch + 1, gm_nn_engine_error(c->eng));
      return GM_EXIT_SOFTWARE;
    }
    if (!isfinite(loss)) {
      end_draw(b);
      gm_cli_error("bench",
                   "%s: the loss diverged (%g) at step %ld of epoch %u; "
                   "lower --lr",
                   c->model, loss, s + 1, epoch + 1);
      return GM_EXIT_SOFTWARE;
    }
    gm_nn_engine_sync(c->eng);
    double dt = (double)(now_ns() - t0) / 1e9;
    loss_sum += loss * m;
    right += correct;
    po->samples += m;
    po->steps++;
    double units = (double)m * (double)c->stats.macs;
    b->left_train = fmax(0, b->left_train - units);
    b->rate_train =
        b->rate_train > 0 ? 0.9 * b->rate_train + 0.1 * dt / units : dt / units;
    if (c->m)
      profile_step(&c->ptrain, c, m, dt, b->o.mo.interval_ns);
    draw(b, c, "train", shown_epoch, s + 1, steps,
         loss_sum / (double)po->samples, (double)right / (double)po->samples);
  }
  po->loss = po->samples ? loss_sum / (double)po->samples : NAN;
  po->acc = po->samples ? (double)right / (double)po->samples : NAN;
  return 0;
}

static int train_phase(struct bench *b, struct cell *c, int epoch,
                       struct phase_out *po) {
  char name[64];
  snprintf(name, sizeof(name), "%s b%d train epoch %d", c->model, c->batch,
           epoch);
  memset(po, 0, sizeof(*po));
  po->lr = c->sgd.lr;
  po->t0 = now_ns();
  phase_begin(c, name, po->t0);
  if (c->m)
    profile_phase_break(&c->ptrain, c);
  int ec = train_steps(b, c, (uint32_t)(epoch - 1), b->o.w.limit_batches, epoch,
                       false, po);
  po->t1 = now_ns();
  end_draw(b);
  return ec;
}

/* Inference over `samples` samples of the replicated test set (the first
 * `samples` of it; a profile runs a prefix). */
static int infer_phase(struct bench *b, struct cell *c, const char *name,
                       long samples, long cap, struct profile *prof,
                       int shown_epoch, struct phase_out *po) {
  memset(po, 0, sizeof(*po));
  po->lr = NAN;
  po->t0 = now_ns();
  phase_begin(c, name, po->t0);
  if (c->m && prof)
    profile_phase_break(prof, c);
  long batches = (samples + c->batch - 1) / c->batch;
  long right = 0;
  double loss_sum = 0;
  /* a profile that is not done yet goes on, up to cap samples */
  long end = samples;
  for (long k = 0;; k++) {
    long first = k * c->batch;
    if (first >= end) {
      if (prof && cap > end && !prof->done)
        end = first + c->batch < cap ? first + c->batch : cap;
      else
        break;
    }
    if (stop_requested) {
      end_draw(b);
      return 130;
    }
    int64_t t0 = now_ns();
    int m = (int)(end - first < c->batch ? end - first : c->batch);
    for (int i = 0; i < m; i++)
      c->idx[i] = gm_cifar10_replicated_index(b->test, (size_t)(first + i));
    gm_cifar10_batch(b->test, c->idx, (size_t)m, false, NULL, c->x, c->labels);
    int correct = 0;
    double loss = 0;
    if (gm_nn_engine_forward(c->eng, c->x, m, false, 0, c->logits) != GM_OK ||
        gm_nn_softmax_xent(c->logits, c->labels, m, c->classes, NULL, &loss,
                           &correct) != GM_OK) {
      end_draw(b);
      gm_cli_error("bench", "%s: inference batch %ld failed: %s", c->model,
                   k + 1, gm_nn_engine_error(c->eng));
      return GM_EXIT_SOFTWARE;
    }
    gm_nn_engine_sync(c->eng);
    double dt = (double)(now_ns() - t0) / 1e9;
    right += correct;
    loss_sum += loss * m;
    po->samples += m;
    po->steps++;
    double units = (double)m * (double)c->stats.macs;
    b->left_infer = fmax(0, b->left_infer - units);
    b->rate_infer =
        b->rate_infer > 0 ? 0.9 * b->rate_infer + 0.1 * dt / units : dt / units;
    if (c->m && prof)
      profile_step(prof, c, m, dt, b->o.mo.interval_ns);
    draw(b, c, "infer", shown_epoch, k + 1, batches, NAN, 0);
  }
  po->t1 = now_ns();
  po->loss = po->samples ? loss_sum / (double)po->samples : NAN;
  po->acc = po->samples ? (double)right / (double)po->samples : NAN;
  end_draw(b);
  return 0;
}

/* ---- cells --------------------------------------------------------------- */

static void ckpt_path(const struct bench *b, const struct cell *c, int epoch,
                      char *buf, size_t size) {
  snprintf(buf, size, "%s/%s-b%d-%s-e%d.ckpt", b->ckpt_dir, c->model, c->batch,
           c->metered ? "m" : "u", epoch);
}

static int save_ckpt(struct bench *b, struct cell *c, int epoch) {
  char path[1400], err[512];
  ckpt_path(b, c, epoch, path, sizeof(path));
  struct gm_nn_checkpoint_info info = {.epoch = (uint32_t)epoch,
                                       .seed = b->o.w.seed};
  snprintf(info.model, sizeof(info.model), "%s", c->model);
  if (gm_nn_checkpoint_save(c->eng, path, &info, err, sizeof(err)) != GM_OK) {
    gm_cli_error("bench", "%s", err);
    return GM_EXIT_IOERR;
  }
  /* keep this epoch's and the one before (its row may not be committed) */
  if (epoch > 2) {
    ckpt_path(b, c, epoch - 2, path, sizeof(path));
    unlink(path);
  }
  return 0;
}

static void cell_free(struct cell *c) {
  gm_nn_engine_destroy(c->eng);
  gm_nn_net_destroy(c->net);
  gm_meter_destroy(c->m);
  free(c->x);
  free(c->logits);
  free(c->dlogits);
  free(c->labels);
  free(c->order);
  free(c->idx);
  free(c->idle_w);
  free(c->live_e);
  free(c->live_p);
  memset(c, 0, sizeof(*c));
}

static int cell_setup(struct bench *b, struct cell *c, const char *model,
                      int batch, bool metered) {
  memset(c, 0, sizeof(*c));
  c->model = model;
  c->batch = batch;
  c->metered = metered;
  c->i_cpu = c->i_mem = SIZE_MAX;
  if (gm_nn_zoo_build(model, &c->net) != GM_OK ||
      gm_nn_net_stats(c->net, &c->stats) != GM_OK) {
    gm_cli_error("bench", "cannot build %s", model);
    return GM_EXIT_SOFTWARE;
  }
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.backend = b->o.w.backend;
  cfg.max_batch = batch;
  cfg.threads = b->o.w.threads;
  char err[512] = "";
  enum gm_status rc =
      gm_nn_engine_create(c->net, &cfg, &c->eng, err, sizeof(err));
  if (rc != GM_OK) {
    gm_cli_error("bench", "%s", err);
    return rc == GM_ERR_NOT_FOUND ? GM_EXIT_USAGE : GM_EXIT_SOFTWARE;
  }
  c->classes = gm_nn_node_shape(c->net, gm_nn_output(c->net)).c;
  size_t n = gm_cifar10_count(b->train);
  c->x = malloc((size_t)batch * GM_CIFAR10_PIXELS * sizeof(float));
  c->logits = malloc((size_t)batch * (size_t)c->classes * sizeof(float));
  c->dlogits = malloc((size_t)batch * (size_t)c->classes * sizeof(float));
  c->labels = malloc((size_t)batch * sizeof(int32_t));
  c->order = malloc(n * sizeof(uint32_t));
  c->idx = malloc((size_t)batch * sizeof(uint32_t));
  if (!c->x || !c->logits || !c->dlogits || !c->labels || !c->order || !c->idx)
    return GM_EXIT_SOFTWARE;
  c->sgd = gm_nn_sgd_default();
  c->sgd.lr = b->o.w.lr;
  c->steps_per_epoch = (long)((n + (size_t)batch - 1) / (size_t)batch);
  if (b->o.w.limit_batches && b->o.w.limit_batches < c->steps_per_epoch)
    c->steps_per_epoch = b->o.w.limit_batches;
  c->epoch_samples = c->steps_per_epoch * batch;
  if ((size_t)c->epoch_samples > n)
    c->epoch_samples = (long)n;
  c->infer_batches = (b->o.w.samples + batch - 1) / batch;
  return 0;
}

/* Creates and starts this cell's meter and its run row. */
static int cell_meter(struct bench *b, struct cell *c) {
  struct gm_meter_config cfg = gm_cli_meter_config(&b->o.mo);
  static struct sink sink; /* one cell at a time */
  sink.b = b;
  cfg.on_sample = on_sample;
  cfg.on_flush = on_flush;
  cfg.callback_ctx = &sink;
  if (gm_meter_create(&cfg, &c->m) != GM_OK) {
    gm_cli_error("bench", "cannot create the meter");
    return GM_EXIT_SOFTWARE;
  }
  c->nc = gm_meter_component_count(c->m);
  c->nm = gm_meter_metric_count(c->m);
  c->idle_w = malloc((c->nc ? c->nc : 1) * sizeof(double));
  c->live_e = calloc(c->nc ? c->nc : 1, sizeof(double));
  c->live_p = calloc(c->nc ? c->nc : 1, sizeof(double));
  if (!c->idle_w || !c->live_e || !c->live_p)
    return GM_EXIT_SOFTWARE;
  for (size_t i = 0; i < c->nc; i++) {
    const struct gm_component_info *ci = gm_meter_component(c->m, i);
    c->idle_w[i] = NAN;
    for (size_t k = 0; b->idle && k < b->idle->n; k++)
      if (strcmp(b->idle->entries[k].name, ci->name) == 0 &&
          strcmp(b->idle->entries[k].source, ci->source) == 0)
        c->idle_w[i] = b->idle->entries[k].mean_power_w;
  }
  for (size_t k = 0; k < c->nm; k++) {
    const char *nm = gm_meter_metric(c->m, k)->name;
    size_t len = strlen(nm);
    if (strcmp(nm, "cpu.util") == 0)
      c->i_cpu = k;
    else if (strcmp(nm, "mem.used") == 0)
      c->i_mem = k;
    else if (strncmp(nm, "gpu", 3) == 0 && len > 5 &&
             strcmp(nm + len - 5, ".util") == 0 && c->n_gpu_util < 16)
      c->gpu_util[c->n_gpu_util++] = k;
    else if (strncmp(nm, "gpu", 3) == 0 && len > 10 &&
             strcmp(nm + len - 10, ".vram_used") == 0 && c->n_gpu_vram < 16)
      c->gpu_vram[c->n_gpu_vram++] = k;
  }
  char cmd[256], tags[512], nm_json[160], model_json[96];
  snprintf(cmd, sizeof(cmd), "greenml bench %s: %s batch %d", b->name, c->model,
           c->batch);
  gm_json_escape_into(nm_json, sizeof(nm_json), b->name);
  gm_json_escape_into(model_json, sizeof(model_json), c->model);
  snprintf(tags, sizeof(tags), "{\"bench\":%s,\"model\":%s,\"batch_size\":%d}",
           nm_json, model_json, c->batch);
  struct gm_run_meta meta = {.kind = "bench",
                             .interval_s = (double)b->o.mo.interval_ns / 1e9,
                             .command = cmd,
                             .tags_json = tags,
                             .carbon_g_per_kwh = NAN,
                             .pue = NAN,
                             .idle_baseline_id = b->idle ? b->idle->id : 0};
  pthread_mutex_lock(&b->st_mu);
  enum gm_status rc = gm_store_begin_run(b->st, b->host_id, &meta, c->nc,
                                         gm_meter_components(c->m), c->nm,
                                         gm_meter_metrics(c->m), &c->run_id);
  pthread_mutex_unlock(&b->st_mu);
  if (rc != GM_OK) {
    gm_cli_error("bench", "%s", gm_store_last_error(b->st));
    return GM_EXIT_IOERR;
  }
  sink.run_id = c->run_id;
  if (gm_meter_start(c->m) != GM_OK) {
    gm_cli_error("bench", "cannot start the meter: %s",
                 gm_meter_last_error(c->m));
    return GM_EXIT_SOFTWARE;
  }
  return 0;
}

/* Stops the cell's meter and closes its run row. */
static int cell_meter_finish(struct bench *b, struct cell *c, int exit_code) {
  if (!c->m)
    return 0;
  gm_meter_stop(c->m);
  struct gm_run_record *rec = NULL;
  if (gm_run_record_from_meter(c->m, b->idle, &rec) != GM_OK)
    return GM_EXIT_SOFTWARE;
  struct gm_run_result res = {.exit_code = exit_code, .carbon_g = NAN};
  pthread_mutex_lock(&b->st_mu);
  enum gm_status rc = gm_store_finish_run(b->st, c->run_id, &res, rec);
  pthread_mutex_unlock(&b->st_mu);
  gm_run_record_free(rec);
  if (rc != GM_OK) {
    gm_cli_error("bench", "%s", gm_store_last_error(b->st));
    return GM_EXIT_IOERR;
  }
  if (b->db_failed) {
    gm_cli_error("bench", "samples were lost: %s", b->db_err);
    return GM_EXIT_IOERR;
  }
  return 0;
}

static bool has_phase(struct bench *b, const struct cell *c, const char *kind,
                      int epoch) {
  bool have = false;
  pthread_mutex_lock(&b->st_mu);
  gm_store_bench_has_phase(b->st, b->bench_id, c->model, c->batch, kind, epoch,
                           c->metered, &have);
  pthread_mutex_unlock(&b->st_mu);
  return have;
}

static void print_prediction(const struct gm_bench_prediction *p) {
  char e[32], lo[32], hi[32], a[32];
  gm_cli_fmt_energy(e, sizeof(e), p->energy_j);
  printf("%-16s b%-4d %-5s predicted from %g epoch(s): %s", p->model,
         p->batch_size, p->kind, p->profile_epochs, e);
  if (!isnan(p->energy_lo_j)) {
    gm_cli_fmt_energy(lo, sizeof(lo), p->energy_lo_j);
    gm_cli_fmt_energy(hi, sizeof(hi), p->energy_hi_j);
    printf(" [%s, %s]", lo, hi);
  }
  printf(", %.1f s", p->duration_s);
  if (!isnan(p->duration_lo_s))
    printf(" [%.1f, %.1f]", p->duration_lo_s, p->duration_hi_s);

  if (!isnan(p->actual_energy_j) && !isnan(p->energy_j)) {
    gm_cli_fmt_energy(a, sizeof(a), p->actual_energy_j);
    printf("; measured %s, %.1f s: energy error %+.1f %%, time error %+.1f %%",
           a, p->actual_duration_s,
           100 * (p->energy_j - p->actual_energy_j) / p->actual_energy_j,
           100 * (p->duration_s - p->actual_duration_s) / p->actual_duration_s);
  }
  printf(" [%s]\n", p->provenance);
  fflush(stdout);
}

/* Whether a profile can predict target samples; says why not when it
 * cannot: too short a run to hold two power windows of 10 meter readings
 * before its end. */
static bool profile_usable(const struct bench *b, const struct cell *c,
                           const struct profile *p, const char *kind,
                           long target) {
  if (p->done && p->seen < target)
    return true;
  printf("%-16s b%-4d %-5s no prediction: the profile needs two windows of "
         "10 meter intervals (%.1f s each) before the run ends; it had %d "
         "after %ld of %ld samples. Use a longer run, a shorter --interval "
         "or a larger --profile-epochs\n",
         c->model, c->batch, kind, 10.0 * (double)b->o.mo.interval_ns / 1e9,
         p->n, p->seen, target);
  fflush(stdout);
  return false;
}

static int put_prediction(struct bench *b,
                          const struct gm_bench_prediction *p) {
  pthread_mutex_lock(&b->st_mu);
  enum gm_status rc = gm_store_bench_put_prediction(b->st, b->bench_id, p);
  pthread_mutex_unlock(&b->st_mu);
  if (rc != GM_OK) {
    gm_cli_error("bench", "%s", gm_store_last_error(b->st));
    return GM_EXIT_IOERR;
  }
  print_prediction(p);
  return 0;
}

/* Profile only: the first K epochs of training and the same share of one
 * inference pass, then the predictions. */
static int run_profile_cell(struct bench *b, struct cell *c) {
  bool have_t = has_phase(b, c, "profile-train", 0);
  bool have_i = has_phase(b, c, "profile-infer", 0);
  if (have_t && have_i)
    return 0;
  long train_target = (long)b->o.w.epochs * c->epoch_samples;
  long want = (long)ceil(b->o.profile_epochs * (double)c->epoch_samples);
  if (want < 5L * c->batch)
    want = 5L * c->batch;
  if (want > train_target)
    want = train_target;
  profile_start(&c->ptrain, want);
  int ec =
      gm_nn_engine_init(c->eng, b->o.w.seed) == GM_OK ? 0 : GM_EXIT_SOFTWARE;
  if (ec)
    return ec;
  char name[64];
  snprintf(name, sizeof(name), "%s b%d profile train", c->model, c->batch);
  struct phase_out po = {0};
  po.lr = c->sgd.lr;
  po.t0 = now_ns();
  phase_begin(c, name, po.t0);
  profile_phase_break(&c->ptrain, c);
  double loss_sum = 0, acc_sum = 0;
  for (uint32_t ep = 0; !c->ptrain.done && po.samples < train_target && !ec;
       ep++) {
    long left_steps = (train_target - po.samples + c->batch - 1) / c->batch;
    struct phase_out part = {0};
    ec = train_steps(b, c, ep, left_steps, 0, true, &part);
    po.steps += part.steps;
    po.samples += part.samples;
    loss_sum += part.loss * (double)part.samples;
    acc_sum += part.acc * (double)part.samples;
  }
  po.t1 = now_ns();
  end_draw(b);
  if (ec)
    return ec;
  po.loss = loss_sum / (double)po.samples;
  po.acc = acc_sum / (double)po.samples;
  if (!have_t && (ec = record_phase(b, c, "profile-train", 0, &po, NULL)))
    return ec;
  gap(b->o.gap_ns);
  long iwant =
      (long)ceil(fmin(1.0, b->o.profile_epochs) * (double)b->o.w.samples);
  if (iwant < 6L * c->batch)
    iwant = 6L * c->batch;
  if (iwant > b->o.w.samples)
    iwant = b->o.w.samples;
  profile_start(&c->pinfer, iwant);
  snprintf(name, sizeof(name), "%s b%d profile infer", c->model, c->batch);
  if ((ec = infer_phase(b, c, name, iwant, (long)b->o.w.epochs * b->o.w.samples,
                        &c->pinfer, 0, &po)))
    return ec;
  if (!have_i && (ec = record_phase(b, c, "profile-infer", 0, &po, NULL)))
    return ec;
  gap(b->o.gap_ns);
  struct gm_bench_prediction pt, pi;
  if (profile_usable(b, c, &c->ptrain, "train", train_target)) {
    profile_predict(&c->ptrain, c, b, "train", train_target, &pt);
    if ((ec = put_prediction(b, &pt)))
      return ec;
  }
  long infer_target = (long)b->o.w.epochs * b->o.w.samples;
  if (profile_usable(b, c, &c->pinfer, "infer", infer_target)) {
    profile_predict(&c->pinfer, c, b, "infer", infer_target, &pi);
    if ((ec = put_prediction(b, &pi)))
      return ec;
  }
  return 0;
}

/* The full cell: N epochs, inference after each; resumes at the first phase
 * without a row. */
static int run_full_cell(struct bench *b, struct cell *c) {
  int start = 0; /* epochs whose train and infer rows both exist */
  bool infer_missing = false;
  for (int e = 1; e <= b->o.w.epochs; e++) {
    if (!has_phase(b, c, "train", e))
      break;
    if (!has_phase(b, c, "infer", e)) {
      start = e;
      infer_missing = true;
      break;
    }
    start = e;
  }
  if (start == b->o.w.epochs && !infer_missing)
    return 0;
  int ec;
  char err[512];
  if (start > 0) {
    char path[1400];
    ckpt_path(b, c, start, path, sizeof(path));
    struct gm_nn_checkpoint_info info;
    enum gm_status rc =
        gm_nn_checkpoint_load(c->eng, path, &info, err, sizeof(err));
    if (rc != GM_OK) {
      gm_cli_error("bench",
                   "--resume: %s; the rows of %s batch %d up to epoch %d "
                   "exist but their checkpoint cannot be read. Restore it, "
                   "or start a new bench with another --run-id",
                   err, c->model, c->batch, start);
      return rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_DATAERR;
    }
    c->resumed = true;
    fprintf(stderr, "greenml bench: %s batch %d resumes after epoch %d%s\n",
            c->model, c->batch, start,
            infer_missing ? " (its inference pass first)" : "");
  } else if (gm_nn_engine_init(c->eng, b->o.w.seed) != GM_OK) {
    gm_cli_error("bench", "cannot initialise %s: %s", c->model,
                 gm_nn_engine_error(c->eng));
    return GM_EXIT_SOFTWARE;
  }
  /* --verify: the prediction is made from the start of this very run */
  bool predict = b->o.profile_epochs > 0 && start == 0 && c->m;
  long train_target = (long)b->o.w.epochs * c->epoch_samples;
  long infer_target = (long)b->o.w.epochs * b->o.w.samples;
  if (predict) {
    long want = (long)ceil(b->o.profile_epochs * (double)c->epoch_samples);
    if (want < 5L * c->batch)
      want = 5L * c->batch;
    profile_start(&c->ptrain, want < train_target ? want : train_target);
    long iwant =
        (long)ceil(fmin(1.0, b->o.profile_epochs) * (double)b->o.w.samples);
    if (iwant < 6L * c->batch)
      iwant = 6L * c->batch;
    profile_start(&c->pinfer, iwant < b->o.w.samples ? iwant : b->o.w.samples);
  } else if (b->o.profile_epochs > 0) {
    fprintf(stderr,
            "greenml bench: %s batch %d resumed mid-run: no prediction is "
            "made for it\n",
            c->model, c->batch);
  }
  struct gm_bench_prediction pt = {0}, pi = {0};
  bool made_t = false, made_i = false;
  for (int e = infer_missing ? start : start + 1; e <= b->o.w.epochs; e++) {
    struct phase_out po;
    char name[64];
    if (!(infer_missing && e == start)) {
      if ((ec = train_phase(b, c, e, &po)))
        return ec;
      if ((ec = save_ckpt(b, c, e)))
        return ec;
      double ej = NAN;
      if ((ec = record_phase(b, c, "train", e, &po, &ej)))
        return ec;
      c->sum_train_s += (double)(po.t1 - po.t0) / 1e9;
      c->sum_train_j += ej;
      c->train_phases++;
      if (predict && c->ptrain.done && !made_t &&
          c->ptrain.seen < train_target) {
        profile_predict(&c->ptrain, c, b, "train", train_target, &pt);
        made_t = true;
      }
      gap(b->o.gap_ns);
      if (stop_requested)
        return 130;
    }
    snprintf(name, sizeof(name), "%s b%d infer after epoch %d", c->model,
             c->batch, e);
    if ((ec = infer_phase(b, c, name, b->o.w.samples, 0,
                          predict ? &c->pinfer : NULL, e, &po)))
      return ec;
    double ej = NAN;
    if ((ec = record_phase(b, c, "infer", e, &po, &ej)))
      return ec;
    c->sum_infer_s += (double)(po.t1 - po.t0) / 1e9;
    c->sum_infer_j += ej;
    c->infer_phases++;
    if (predict && c->pinfer.done && !made_i && c->pinfer.seen < infer_target) {
      profile_predict(&c->pinfer, c, b, "infer", infer_target, &pi);
      made_i = true;
    }
    gap(b->o.gap_ns);
    if (stop_requested)
      return 130;
  }
  if (predict && !made_t)
    profile_usable(b, c, &c->ptrain, "train", train_target);
  if (predict && !made_i)
    profile_usable(b, c, &c->pinfer, "infer", infer_target);
  if (made_t) {
    pt.actual_duration_s = c->sum_train_s;
    pt.actual_energy_j = c->sum_train_j;
    if ((ec = put_prediction(b, &pt)))
      return ec;
  }
  if (made_i) {
    pi.actual_duration_s = c->sum_infer_s;
    pi.actual_energy_j = c->sum_infer_j;
    if ((ec = put_prediction(b, &pi)))
      return ec;
  }
  return 0;
}

static int run_cell(struct bench *b, const char *model, int batch,
                    bool metered) {
  struct cell c;
  int ec = cell_setup(b, &c, model, batch, metered);
  if (!ec && metered)
    ec = cell_meter(b, &c);
  if (!ec) {
    bool profile_only = b->o.profile_epochs > 0 && !b->o.verify;
    ec = profile_only ? run_profile_cell(b, &c) : run_full_cell(b, &c);
    int ec2 = cell_meter_finish(b, &c, ec);
    if (!ec)
      ec = ec2;
  }
  cell_free(&c);
  return ec;
}

/* Before an overhead pair: two training steps and one inference batch,
 * unrecorded, so that one-off costs (oneDNN's kernel generation, whose
 * results the process caches, cold data pages) fall on neither run. */
static int warm_up(struct bench *b, const char *model, int batch) {
  struct cell c;
  int ec = cell_setup(b, &c, model, batch, false);
  if (!ec && gm_nn_engine_init(c.eng, b->o.w.seed) != GM_OK)
    ec = GM_EXIT_SOFTWARE;
  struct phase_out po = {0};
  double left_t = b->left_train, left_i = b->left_infer;
  if (!ec)
    ec = train_steps(b, &c, 0, 2, 0, false, &po);
  if (!ec) {
    char name[64];
    snprintf(name, sizeof(name), "%s b%d warm-up", model, batch);
    ec = infer_phase(b, &c, name, batch, 0, NULL, 0, &po);
  }
  b->left_train = left_t; /* the ETA counts measured work only */
  b->left_infer = left_i;
  end_draw(b);
  cell_free(&c);
  return ec;
}

/* ---- the bench ----------------------------------------------------------- */

static char *config_json(const struct bench_opts *o, int argc, char **argv) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "models");
  gm_json_begin_array(&j);
  for (int i = 0; i < o->n_models; i++)
    gm_json_string(&j, o->models[i]);
  gm_json_end_array(&j);
  gm_json_key(&j, "batch_sizes");
  gm_json_begin_array(&j);
  for (int i = 0; i < o->n_batches; i++)
    gm_json_int(&j, o->batches[i]);
  gm_json_end_array(&j);
  gm_json_key(&j, "epochs");
  gm_json_int(&j, o->w.epochs);
  gm_json_key(&j, "infer_samples");
  gm_json_int(&j, o->w.samples);
  gm_json_key(&j, "lr");
  gm_json_number(&j, o->w.lr);
  gm_json_key(&j, "momentum");
  gm_json_number(&j, 0.9);
  gm_json_key(&j, "weight_decay");
  gm_json_number(&j, 5e-4);
  gm_json_key(&j, "optimizer");
  gm_json_string(&j, "SGD");
  gm_json_key(&j, "seed");
  gm_json_int(&j, (int64_t)o->w.seed);
  gm_json_key(&j, "data");
  gm_json_string(&j, o->w.data);
  gm_json_key(&j, "limit_batches");
  gm_json_int(&j, o->w.limit_batches);
  gm_json_key(&j, "threads");
  if (o->w.threads)
    gm_json_int(&j, o->w.threads);
  else
    gm_json_null(&j);
  gm_json_key(&j, "backend");
  if (o->w.backend)
    gm_json_string(&j, o->w.backend);
  else
    gm_json_null(&j);
  gm_json_key(&j, "interval_s");
  gm_json_number(&j, (double)o->mo.interval_ns / 1e9);
  gm_json_key(&j, "idle_s");
  gm_json_number(&j, (double)o->idle_ns / 1e9);
  gm_json_key(&j, "gap_s");
  gm_json_number(&j, (double)o->gap_ns / 1e9);
  gm_json_key(&j, "mode");
  gm_json_string(&j, o->overhead   ? "overhead"
                     : o->no_meter ? "unmetered"
                                   : "metered");
  gm_json_key(&j, "profile_epochs");
  gm_json_number(&j, o->profile_epochs > 0 ? o->profile_epochs : NAN);
  gm_json_key(&j, "verify");
  gm_json_bool(&j, o->verify);
  /* the flags themselves, so that --resume rebuilds the same grid */
  gm_json_key(&j, "argv");
  gm_json_begin_array(&j);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--resume") == 0)
      continue;
    if ((strcmp(a, "--db") == 0 || strcmp(a, "--run-id") == 0) &&
        i + 1 < argc) {
      i++;
      continue;
    }
    if (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--run-id=", 9) == 0)
      continue;
    gm_json_string(&j, a);
  }
  if (!o->w.data_given) { /* the data chosen for the user stays chosen */
    gm_json_string(&j, "--data");
    gm_json_string(&j, o->w.data);
  }
  gm_json_end_array(&j);
  gm_json_end_object(&j);
  if (j.oom) {
    gm_json_release(&j);
    return NULL;
  }
  return j.buf;
}

static char *host_json(const struct gm_meter *m, const char *threads_note) {
  struct gm_host h;
  gm_host_detect(m, &h);
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
  gm_json_string(&j, threads_note);
  /* the components say how each is measured: the CPU model's TDP, the GPU
   * and its driver, the DRAM model's DIMMs */
  gm_json_key(&j, "components");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    gm_json_begin_object(&j);
    gm_cli_json_component(&j, gm_meter_component(m, i));
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

/* Loads the stored argv of a bench into o (grid flags only). */
static int load_stored_opts(struct bench *b, const struct gm_bench_info *bi) {
  sqlite3 *db = gm__store_sqlite_db(b->st);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT value FROM json_each(?, '$.argv') ORDER BY "
                         "key",
                         -1, &s, NULL) != SQLITE_OK) {
    gm_cli_error("bench", "--resume: cannot read the stored flags: %s",
                 sqlite3_errmsg(db));
    return GM_EXIT_DATAERR;
  }
  sqlite3_bind_text(s, 1, bi->config_json, -1, SQLITE_STATIC);
  static char *args[256];
  static char store[256][512];
  int n = 0;
  snprintf(store[0], sizeof(store[0]), "bench");
  args[n] = store[n];
  n++;
  while (sqlite3_step(s) == SQLITE_ROW && n < 255) {
    const char *v = (const char *)sqlite3_column_text(s, 0);
    snprintf(store[n], sizeof(store[n]), "%s", v ? v : "");
    args[n] = store[n];
    n++;
  }
  sqlite3_finalize(s);
  args[n] = NULL;
  const char *db_path = b->o.db;
  struct bench_opts o;
  default_opts(&o);
  int ec = parse(n, args, &o);
  if (ec) {
    gm_cli_error("bench", "--resume: the stored flags of '%s' do not parse",
                 bi->name);
    return GM_EXIT_DATAERR;
  }
  o.db = db_path;
  o.resume = true;
  b->o = o;
  return 0;
}

/* On resume: the work already recorded is not left to do. */
static void discount_done(struct bench *b) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__store_sqlite_db(b->st),
                         "SELECT p.kind, sum(p.samples * m.macs) FROM "
                         "bench_phases p JOIN bench_models m ON "
                         "m.bench_id = p.bench_id AND m.model = p.model "
                         "WHERE p.bench_id=? GROUP BY p.kind",
                         -1, &s, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_int64(s, 1, b->bench_id);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *kind = (const char *)sqlite3_column_text(s, 0);
    double done = sqlite3_column_double(s, 1);
    if (kind && strstr(kind, "train"))
      b->left_train = fmax(0, b->left_train - done);
    else if (kind)
      b->left_infer = fmax(0, b->left_infer - done);
  }
  sqlite3_finalize(s);
}

static void print_summary(struct bench *b) {
  sqlite3 *db = gm__store_sqlite_db(b->st);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          db,
          "SELECT model, batch_size, kind, count(*), avg(duration_s), "
          "avg(energy_j), avg(net_energy_j), avg(j_per_sample), "
          "avg(samples_per_s), max(provenance) FROM bench_phases WHERE "
          "bench_id=? AND metered=1 GROUP BY model, batch_size, kind "
          "ORDER BY min(rowid)",
          -1, &s, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_int64(s, 1, b->bench_id);
  bool header = false;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (!header) {
      printf("\nsummary of bench '%s' (means per phase; energy of the "
             "components in the total)\n",
             b->name);
      printf("%-16s %6s %-13s %3s %10s %12s %12s %12s %11s  %s\n", "model",
             "batch", "phase", "n", "time", "energy", "net energy", "J/sample",
             "samples/s", "provenance");
      header = true;
    }
    const char *kind = (const char *)sqlite3_column_text(s, 2);
    char en[32] = "n/a", net[32] = "n/a";
    if (sqlite3_column_type(s, 5) != SQLITE_NULL)
      gm_cli_fmt_energy(en, sizeof(en), sqlite3_column_double(s, 5));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL)
      gm_cli_fmt_energy(net, sizeof(net), sqlite3_column_double(s, 6));
    char label[32];
    snprintf(label, sizeof(label), "%s",
             strcmp(kind, "train") == 0   ? "train epoch"
             : strcmp(kind, "infer") == 0 ? "infer pass"
                                          : kind);
    printf("%-16s %6d %-13s %3d %8.2f s %12s %12s %12.4f %11.1f  %s\n",
           (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 1),
           label, sqlite3_column_int(s, 3), sqlite3_column_double(s, 4), en,
           net, sqlite3_column_double(s, 7), sqlite3_column_double(s, 8),
           (const char *)sqlite3_column_text(s, 9));
  }
  sqlite3_finalize(s);
  if (b->o.overhead &&
      sqlite3_prepare_v2(
          db,
          "SELECT u.kind, sum(u.duration_s), sum(m.duration_s), count(*) "
          "FROM bench_phases u JOIN bench_phases m ON u.bench_id=m.bench_id "
          "AND u.model=m.model AND u.batch_size=m.batch_size AND "
          "u.kind=m.kind AND u.epoch=m.epoch AND u.metered=0 AND m.metered=1 "
          "WHERE u.bench_id=? GROUP BY u.kind ORDER BY u.kind DESC",
          -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, b->bench_id);
    printf("\nmeter overhead (the same work unmeasured and measured, in "
           "alternating order):\n");
    while (sqlite3_step(s) == SQLITE_ROW) {
      double u = sqlite3_column_double(s, 1), m = sqlite3_column_double(s, 2);
      printf("  %-6s %3d phases: %.3f s unmeasured, %.3f s measured: %+.2f "
             "%%\n",
             (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 3),
             u, m, 100 * (m - u) / u);
    }
    sqlite3_finalize(s);
  }
}

int cmd_bench(int argc, char **argv) {
  struct bench b;
  memset(&b, 0, sizeof(b));
  pthread_mutex_init(&b.st_mu, NULL);
  default_opts(&b.o);
  int ec = parse(argc, argv, &b.o);
  if (ec)
    return ec < 0 ? 0 : ec;
  if (b.o.resume && b.o.grid_flags) {
    gm_cli_error("bench",
                 "--resume takes the grid and its flags from the database; "
                 "give only --db and --run-id with it");
    return GM_EXIT_USAGE;
  }
  if ((ec = check_opts(&b.o)))
    return ec;
  if (b.o.quick && !b.o.w.data_given &&
      access("data/data_batch_1.bin", R_OK) != 0) {
    fprintf(stderr, "greenml bench: no CIFAR-10 in ./data ('greenml data "
                    "fetch cifar10' downloads it): using generated data\n");
    b.o.w.data = "synthetic";
  }
  b.tty = isatty(STDERR_FILENO);
  if (b.o.db)
    snprintf(b.db_path, sizeof(b.db_path), "%s", b.o.db);
  else if (!gm_cli_default_db(b.db_path, sizeof(b.db_path))) {
    gm_cli_error("bench", "cannot build the database path; pass --db PATH");
    return GM_EXIT_USAGE;
  }
  if ((ec = gm_cli_open_store("bench", b.db_path, &b.st)))
    return ec;
  struct gm_meter *probe = NULL;
  struct gm_meter_config pcfg = gm_cli_meter_config(&b.o.mo);
  char *cfg_json = NULL, *hjson = NULL;
  bool fresh = !b.o.resume;
  if (b.o.resume) {
    struct gm_bench_info bi;
    enum gm_status rc = gm_store_bench_find(b.st, b.o.run_id, &bi);
    if (rc != GM_OK) {
      if (b.o.run_id)
        gm_cli_error("bench",
                     "--resume: no bench '%s' in '%s'; 'greenml runs' lists "
                     "the database's content",
                     b.o.run_id, b.db_path);
      else
        gm_cli_error("bench", "--resume: no unfinished bench in '%s'",
                     b.db_path);
      ec = GM_EXIT_NOINPUT;
      goto out;
    }
    if (strcmp(bi.status, "complete") == 0) {
      gm_cli_error("bench", "--resume: bench '%s' is complete; nothing to do",
                   bi.name);
      gm_bench_info_clear(&bi);
      ec = GM_EXIT_USAGE;
      goto out;
    }
    snprintf(b.name, sizeof(b.name), "%s", bi.name);
    b.bench_id = bi.id;
    b.host_id = bi.host_id;
    ec = load_stored_opts(&b, &bi);
    int64_t idle_id = bi.idle_baseline_id;
    gm_bench_info_clear(&bi);
    if (ec)
      goto out;
    pcfg = gm_cli_meter_config(&b.o.mo);
    /* the bench's own baseline, not a newer one of the host */
    if (idle_id > 0 && gm_store_load_idle_id(b.st, idle_id, &b.idle) != GM_OK)
      b.idle = NULL;
    printf("resuming bench '%s' from '%s'\n", b.name, b.db_path);
  } else {
    if (b.o.run_id) {
      snprintf(b.name, sizeof(b.name), "%s", b.o.run_id);
    } else {
      time_t t = time(NULL);
      struct tm tm;
      localtime_r(&t, &tm);
      strftime(b.name, sizeof(b.name), "bench-%Y%m%d-%H%M%S", &tm);
    }
    struct gm_bench_info bi;
    if (gm_store_bench_find(b.st, b.name, &bi) == GM_OK) {
      gm_cli_error("bench",
                   "a bench named '%s' exists (%s) in '%s': add --resume to "
                   "continue it, or choose another --run-id",
                   b.name, bi.status, b.db_path);
      gm_bench_info_clear(&bi);
      ec = GM_EXIT_USAGE;
      goto out;
    }
  }
  /* data before anything is measured: a bad directory fails fast */
  if ((ec = gm_cli_open_cifar("bench", b.o.w.data, b.o.w.seed, GM_CIFAR10_TRAIN,
                              &b.train)) ||
      (ec = gm_cli_open_cifar("bench", b.o.w.data, b.o.w.seed, GM_CIFAR10_TEST,
                              &b.test)))
    goto out;
  {
    /* the backend must exist before the idle baseline is spent */
    struct gm_nn_net *net = NULL;
    struct gm_nn_engine *eng = NULL;
    struct gm_nn_engine_config ecfg = gm_nn_engine_config_default();
    ecfg.backend = b.o.w.backend;
    ecfg.max_batch = 1;
    ecfg.threads = b.o.w.threads;
    char err[512] = "";
    gm_nn_zoo_build("LeNet", &net);
    enum gm_status rc = gm_nn_engine_create(net, &ecfg, &eng, err, sizeof(err));
    gm_nn_engine_destroy(eng);
    gm_nn_net_destroy(net);
    if (rc != GM_OK) {
      gm_cli_error("bench", "%s", err);
      ec = rc == GM_ERR_NOT_FOUND ? GM_EXIT_USAGE : GM_EXIT_SOFTWARE;
      goto out;
    }
  }
  if (gm_meter_create(&pcfg, &probe) != GM_OK) {
    gm_cli_error("bench", "cannot create the meter");
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  if (fresh) {
    if ((ec = gm_cli_host("bench", b.st, probe, &b.host_id)))
      goto out;
    char threads[64], versions[1024];
    if (b.o.w.threads)
      snprintf(threads, sizeof(threads), "%d", b.o.w.threads);
    else
      snprintf(threads, sizeof(threads), "backend default");
    cfg_json = config_json(&b.o, argc, argv);
    hjson = host_json(probe, threads);
    if (!cfg_json || !hjson ||
        gm_versions_json(versions, sizeof(versions)) != GM_OK) {
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    struct gm_bench_meta meta = {.name = b.name,
                                 .config_json = cfg_json,
                                 .versions_json = versions,
                                 .host_json = hjson};
    if (gm_store_bench_create(b.st, b.host_id, &meta, &b.bench_id) != GM_OK) {
      gm_cli_error("bench", "%s", gm_store_last_error(b.st));
      ec = GM_EXIT_IOERR;
      goto out;
    }
  }
  snprintf(b.ckpt_dir, sizeof(b.ckpt_dir), "%s",
           b.o.ckpt_dir ? b.o.ckpt_dir : "");
  if (!b.o.ckpt_dir) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", b.db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = '\0';
    else
      snprintf(dir, sizeof(dir), ".");
    snprintf(b.ckpt_dir, sizeof(b.ckpt_dir), "%s/bench-%s", dir, b.name);
  }
  if (!gm_cli_mkdirs(b.ckpt_dir)) {
    gm_cli_error("bench",
                 "cannot create the checkpoint directory '%s': %s; pass "
                 "--checkpoint-dir DIR",
                 b.ckpt_dir, strerror(errno));
    ec = GM_EXIT_CANTCREAT;
    goto out;
  }
  struct sigaction sa = {0}, old_int, old_term;
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  stop_requested = 0;

  bool any_metered = !b.o.no_meter;
  if (fresh && any_metered && b.o.idle_ns > 0) {
    ec = gm_cli_measure_idle("bench", &b.o.mo, b.o.idle_ns, b.st, b.host_id,
                             &b.idle);
    if (ec)
      goto restore;
    gm_cli_print_idle(stdout, b.idle);
    if (gm_store_bench_set_idle(b.st, b.bench_id, b.idle->id) != GM_OK) {
      gm_cli_error("bench", "%s", gm_store_last_error(b.st));
      ec = GM_EXIT_IOERR;
      goto restore;
    }
  } else if (fresh && any_metered) {
    printf("no idle baseline (--idle none): net energy is not computed\n");
  }
  printf("bench '%s': %d model(s) x %d batch size(s), %d epoch(s), %ld "
         "inference samples per pass, %s data%s; database '%s'\n",
         b.name, b.o.n_models, b.o.n_batches, b.o.w.epochs, b.o.w.samples,
         gm_cifar10_is_synthetic(b.train) ? "generated (not CIFAR-10)"
                                          : "CIFAR-10",
         b.o.no_meter ? ", unmetered" : "", b.db_path);
  fflush(stdout);
  /* records the models, and the work left for the ETA */
  {
    size_t n = gm_cifar10_count(b.train);
    int variants = b.o.overhead ? 2 : 1;
    b.cells_total = b.o.n_models * b.o.n_batches * variants;
    for (int i = 0; i < b.o.n_models; i++) {
      struct gm_nn_net *net = NULL;
      struct gm_nn_stats ns;
      if (gm_nn_zoo_build(b.o.models[i], &net) != GM_OK ||
          gm_nn_net_stats(net, &ns) != GM_OK) {
        gm_nn_net_destroy(net);
        ec = GM_EXIT_SOFTWARE;
        goto restore;
      }
      gm_nn_net_destroy(net);
      struct gm_bench_model bm = {.model = b.o.models[i],
                                  .params = (int64_t)ns.params,
                                  .trainable_params =
                                      (int64_t)ns.trainable_params,
                                  .param_bytes = (int64_t)ns.param_bytes,
                                  .buffer_bytes = (int64_t)ns.buffer_bytes,
                                  .size_bytes = (int64_t)ns.size_bytes,
                                  .macs = (int64_t)ns.macs,
                                  .macs_per_param = ns.macs_per_param};
      if (gm_store_bench_put_model(b.st, b.bench_id, &bm) != GM_OK) {
        gm_cli_error("bench", "%s", gm_store_last_error(b.st));
        ec = GM_EXIT_IOERR;
        goto restore;
      }
      for (int k = 0; k < b.o.n_batches; k++) {
        long spe =
            (long)((n + (size_t)b.o.batches[k] - 1) / (size_t)b.o.batches[k]);
        if (b.o.w.limit_batches && b.o.w.limit_batches < spe)
          spe = b.o.w.limit_batches;
        double es = fmin((double)n, (double)spe * b.o.batches[k]);
        double mac = (double)ns.macs * variants;
        if (b.o.profile_epochs > 0 && !b.o.verify) {
          b.left_train += es * b.o.profile_epochs * mac;
          b.left_infer +=
              fmin(1.0, b.o.profile_epochs) * (double)b.o.w.samples * mac;
        } else {
          b.left_train += es * b.o.w.epochs * mac;
          b.left_infer += (double)b.o.w.samples * b.o.w.epochs * mac;
        }
      }
    }
  }
  if (!fresh)
    discount_done(&b);
  for (int i = 0; i < b.o.n_models && !ec; i++)
    for (int k = 0; k < b.o.n_batches && !ec; k++) {
      if (b.o.overhead && (ec = warm_up(&b, b.o.models[i], b.o.batches[k])))
        break;
      /* an overhead pair alternates its order from cell to cell, so that
       * whatever favours the first or the second run cancels out */
      bool metered_first = b.o.overhead && (i * b.o.n_batches + k) % 2 == 1;
      for (int v = 0; v < 2 && !ec; v++) {
        bool metered = (v == 0) == metered_first;
        if (metered ? b.o.no_meter : !(b.o.overhead || b.o.no_meter))
          continue;
        b.cell_no++;
        ec = run_cell(&b, b.o.models[i], b.o.batches[k], metered);
      }
    }
  if (ec == 130 || stop_requested) {
    ec = 130;
    gm_store_bench_set_status(b.st, b.bench_id, "interrupted");
    fprintf(stderr,
            "greenml bench: interrupted; finished phases are saved in '%s'. "
            "Continue with: greenml bench --resume --run-id %s --db %s\n",
            b.db_path, b.name, b.db_path);
  } else if (ec) {
    gm_store_bench_set_status(b.st, b.bench_id, "failed");
    fprintf(stderr,
            "greenml bench: stopped by the error above; finished phases are "
            "saved. Fix it and continue with: greenml bench --resume "
            "--run-id %s --db %s\n",
            b.name, b.db_path);
  } else {
    gm_store_bench_set_status(b.st, b.bench_id, "complete");
    print_summary(&b);
    printf("\ndatabase: %s (bench '%s', id %lld)\n", b.db_path, b.name,
           (long long)b.bench_id);
  }
restore:
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
out:
  free(cfg_json);
  free(hjson);
  gm_meter_destroy(probe);
  gm_idle_baseline_free(b.idle);
  gm_cifar10_close(b.train);
  gm_cifar10_close(b.test);
  gm_store_close(b.st);
  pthread_mutex_destroy(&b.st_mu);
  return ec;
}
