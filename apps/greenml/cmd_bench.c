/* cmd_bench.c: `greenml bench`, the study runner's front end: its flags,
 * the checks made before the database is opened, the live display, the log
 * lines, the summary and the exit codes. The study itself (cells, phases,
 * checkpoints, resume, idle baseline, predictions) is gm_study_run
 * (include/greenml/study.h, src/study/).
 *
 * SIGINT and SIGTERM set a flag that the observer's stop callback returns:
 * the runner abandons the phase in progress, closes the meter's run and
 * marks the bench interrupted; `--resume` continues it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/json.h"
#include "greenml/data.h"
#include "greenml/nn.h"
#include "greenml/study.h"
#include "greenml/version.h"

static const char usage_text[] =
    "usage: greenml bench [--models all|LIST] [--epochs N]\n"
    "                     [--batch-sizes LIST|paper] [--precisions LIST]\n"
    "                     [--infer-samples N]\n"
    "                     [--lr X] [--seed S] [--data DIR|synthetic]\n"
    "                     [--idle DUR|none] [--gap DUR] [--db PATH]\n"
    "                     [--run-id ID] [--resume] [--threads T]\n"
    "                     [--no-meter | --overhead]\n"
    "                     [--profile-epochs K [--verify]]\n"
    "                     [--cell K | --slurm [--submit] ...] [options]\n"
    "\n"
    "Runs the study's grid: for every model, batch size and precision,\n"
    "records the\n"
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
    "  --precisions LIST    comma-separated fp32, bf16 (default fp32): each\n"
    "                       a cell of its own; bf16 rounds the operands of\n"
    "                       convolutions and linear layers to bfloat16\n"
    "                       (float32 master weights, batch norm and loss),\n"
    "                       on a backend that computes in it\n"
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
    "  --threads T          compute threads (default: the idle CPUs)\n"
    "  --backend NAME       compute backend (default: the fastest)\n"
    "  --schedule S         learning rate per epoch: constant (default) or\n"
    "                       cosine (PyTorch's CosineAnnealingLR, T_max =\n"
    "                       --epochs)\n"
    "  --engine E           greenml (default: the C engine) or torch\n"
    "                       (PyTorch in a worker process, same protocol)\n"
    "  --device D           torch: cpu, cuda or auto (default: cuda when\n"
    "                       PyTorch sees one)\n"
    "  --checkpoint-dir DIR where epoch checkpoints go (default beside the\n"
    "                       database file, in bench-ID/; for a database\n"
    "                       server, ./bench-ID/)\n"
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
    "                       it override it)\n";
/* the Slurm options, apart: one string literal would be too long */
static const char usage_slurm[] =
    "\nOne cell, and the grid on a Slurm cluster:\n"
    "  --cell K             run only the K-th cell (0-based, models outer,\n"
    "                       then batch sizes, precisions inner) into the\n"
    "                       bench --run-id,\n"
    "                       created or joined; a complete cell exits 0 at\n"
    "                       once, a partial one resumes. The idle baseline\n"
    "                       is measured by the node's first task only\n"
    "  --slurm              write an sbatch job array, one task per cell\n"
    "                       (each --cell K with these flags), and an\n"
    "                       analysis job that runs after it; print how to\n"
    "                       submit them\n"
    "  --slurm-dir DIR      where the scripts go (default\n"
    "                       ./greenml-slurm-RUNID)\n"
    "  --partition P        #SBATCH --partition\n"
    "  --time HH:MM:SS      #SBATCH --time, per task\n"
    "  --slurm-opt OPT      another #SBATCH line, e.g. "
    "--slurm-opt=--exclusive\n"
    "                       (repeatable)\n"
    "  --submit             submit both with sbatch and print the job ids\n";
/* the meter's options, apart: one string literal would be too long */
static const char usage_meter[] = GM_CLI_METER_HELP;

#define MAX_MODELS 32
#define MAX_BATCHES 32

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
  enum gm_nn_precision precisions[GM_NN_PRECISION_COUNT];
  int n_precisions;
  int64_t idle_ns; /* 0: none */
  int64_t gap_ns;
  const char *db;
  const char *run_id;
  bool resume;
  const char *ckpt_dir;
  bool no_meter, overhead, verify;
  bool cosine; /* --schedule cosine */
  double profile_epochs;
  struct gm_cli_meter_opts mo;
  bool grid_flags; /* a flag that defines the grid was given */
  bool quick;
  long cell; /* --cell K; -1: the whole grid */
  bool slurm;
  struct gm_cli_slurm sl;
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

static int parse_precisions(struct bench_opts *o, const char *arg) {
  o->n_precisions = 0;
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", arg);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    enum gm_nn_precision p;
    if (gm_nn_precision_parse(t, &p) != GM_OK) {
      gm_cli_error("bench", "--precisions: '%s' is not one of %s", t,
                   gm_nn_precision_names());
      return GM_EXIT_USAGE;
    }
    for (int k = 0; k < o->n_precisions; k++)
      if (o->precisions[k] == p) {
        gm_cli_error("bench", "--precisions: '%s' is listed twice",
                     gm_nn_precision_name(p));
        return GM_EXIT_USAGE;
      }
    o->precisions[o->n_precisions++] = p;
  }
  if (o->n_precisions == 0) {
    gm_cli_error("bench", "--precisions: empty list; give fp32, bf16 or both");
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
  o->precisions[0] = GM_NN_FP32;
  o->n_precisions = 1;
  o->idle_ns = 10 * INT64_C(1000000000);
  o->gap_ns = 2 * INT64_C(1000000000);
  gm_cli_meter_opts_init(&o->mo);
  o->cell = -1;
}

enum {
  O_MODELS = GM_OPT_FIRST_FREE,
  O_BATCHES,
  O_PRECISIONS,
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
  O_QUICK,
  O_SCHEDULE,
  O_CELL,
  O_SLURM,
  O_PARTITION,
  O_TIME,
  O_SLURM_OPT,
  O_SUBMIT,
  O_SLURM_DIR
};

/* The flags of one run of the bench that are not the bench's own: they are
 * neither stored with it nor passed to the tasks of a Slurm array. */
static bool run_flag(int opt) {
  return opt == O_DB || opt == O_RUN_ID || opt == O_RESUME || opt == O_CELL ||
         opt == O_SLURM || opt == O_PARTITION || opt == O_TIME ||
         opt == O_SLURM_OPT || opt == O_SUBMIT || opt == O_SLURM_DIR;
}

/* Parses argv into o. Returns 0, -1 after --help, or an exit code. */
static int parse(int argc, char **argv, struct bench_opts *o) {
  static const struct option opts[] = {{"models", 1, 0, O_MODELS},
                                       {"epochs", 1, 0, GM_OPT_EPOCHS},
                                       {"batch-sizes", 1, 0, O_BATCHES},
                                       {"precisions", 1, 0, O_PRECISIONS},
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
                                       {"engine", 1, 0, GM_OPT_ENGINE},
                                       {"device", 1, 0, GM_OPT_DEVICE},
                                       {"checkpoint-dir", 1, 0, O_CKPT_DIR},
                                       {"limit-batches", 1, 0, GM_OPT_LIMIT},
                                       {"no-meter", 0, 0, O_NO_METER},
                                       {"overhead", 0, 0, O_OVERHEAD},
                                       {"profile-epochs", 1, 0, O_PROFILE},
                                       {"schedule", 1, 0, O_SCHEDULE},
                                       {"verify", 0, 0, O_VERIFY},
                                       {"quick", 0, 0, O_QUICK},
                                       {"cell", 1, 0, O_CELL},
                                       {"slurm", 0, 0, O_SLURM},
                                       {"partition", 1, 0, O_PARTITION},
                                       {"time", 1, 0, O_TIME},
                                       {"slurm-opt", 1, 0, O_SLURM_OPT},
                                       {"submit", 0, 0, O_SUBMIT},
                                       {"slurm-dir", 1, 0, O_SLURM_DIR},
                                       {"help", 0, 0, 'h'},
                                       GM_CLI_METER_LONGOPTS,
                                       {0}};
  int opt, ec;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (!run_flag(opt) && opt != 'h' && opt != '?')
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
    case O_PRECISIONS:
      if ((ec = parse_precisions(o, optarg)))
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
      if (!gm_cli_db_given("bench", optarg))
        return GM_EXIT_USAGE;
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
    case O_CELL:
      if (!gm_cli_parse_long(optarg, 0, 1L << 30, &o->cell)) {
        gm_cli_error("bench",
                     "--cell '%s' is not a cell number (0 for the first)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_SLURM:
      o->slurm = true;
      break;
    case O_PARTITION:
    case O_TIME:
      if (!*optarg || strpbrk(optarg, " \t\n'\"")) {
        gm_cli_error("bench", "--%s '%s' must be one word",
                     opt == O_TIME ? "time" : "partition", optarg);
        return GM_EXIT_USAGE;
      }
      *(opt == O_TIME ? &o->sl.time_limit : &o->sl.partition) = optarg;
      break;
    case O_SLURM_OPT:
      if (strncmp(optarg, "-", 1) != 0 || strchr(optarg, '\n')) {
        gm_cli_error("bench",
                     "--slurm-opt '%s' must be one sbatch option on one line "
                     "(e.g. --slurm-opt=--exclusive)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      if (o->sl.n_opts == 32) {
        gm_cli_error("bench", "--slurm-opt: at most 32");
        return GM_EXIT_USAGE;
      }
      o->sl.opts[o->sl.n_opts++] = optarg;
      break;
    case O_SUBMIT:
      o->sl.submit = true;
      break;
    case O_SLURM_DIR:
      o->sl.dir = optarg;
      break;
    case O_SCHEDULE:
      if (strcmp(optarg, "constant") != 0 && strcmp(optarg, "cosine") != 0) {
        gm_cli_error("bench", "--schedule '%s' must be constant or cosine",
                     optarg);
        return GM_EXIT_USAGE;
      }
      o->cosine = strcmp(optarg, "cosine") == 0;
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
      fputs(usage_slurm, stdout);
      fputs(usage_meter, stdout);
      return -1;
    default:
      fputs(usage_text, stderr);
      fputs(usage_slurm, stderr);
      fputs(usage_meter, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("bench", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  return 0;
}

/* The flag that gm_study_config_check cannot see: the mode. */
static int check_opts(const struct bench_opts *o) {
  if (o->no_meter && o->overhead) {
    gm_cli_error("bench", "--no-meter and --overhead exclude each other "
                          "(--overhead runs both)");
    return GM_EXIT_USAGE;
  }
  bool slurm_only = o->sl.partition || o->sl.time_limit || o->sl.n_opts ||
                    o->sl.submit || o->sl.dir;
  if (slurm_only && !o->slurm) {
    gm_cli_error("bench", "--partition, --time, --slurm-opt, --submit and "
                          "--slurm-dir go with --slurm");
    return GM_EXIT_USAGE;
  }
  if ((o->slurm || o->cell >= 0) && o->resume) {
    gm_cli_error("bench",
                 "--%s does not go with --resume: a task joins the "
                 "bench --run-id and resumes its cell by itself",
                 o->slurm ? "slurm" : "cell");
    return GM_EXIT_USAGE;
  }
  if (o->slurm && o->cell >= 0) {
    gm_cli_error("bench", "--slurm writes the tasks that take --cell; give "
                          "one or the other");
    return GM_EXIT_USAGE;
  }
  return 0;
}

/* How many words of argv from i are a flag of one run (run_flag): 0 for a
 * flag of the bench. */
static int run_flag_words(int argc, char **argv, int i) {
  static const char *const with_arg[] = {
      "--db",   "--run-id",    "--cell",     "--partition",
      "--time", "--slurm-opt", "--slurm-dir"};
  static const char *const alone[] = {"--resume", "--slurm", "--submit"};
  const char *a = argv[i];
  for (size_t k = 0; k < sizeof(alone) / sizeof(*alone); k++)
    if (strcmp(a, alone[k]) == 0)
      return 1;
  for (size_t k = 0; k < sizeof(with_arg) / sizeof(*with_arg); k++) {
    size_t len = strlen(with_arg[k]);
    if (strncmp(a, with_arg[k], len) == 0 && a[len] == '=')
      return 1;
    if (strcmp(a, with_arg[k]) == 0)
      return i + 1 < argc ? 2 : 1;
  }
  return 0;
}

/* The flags stored with a new bench, so that --resume rebuilds the same
 * grid: argv without the flags of one run (--resume, --db, --run-id,
 * --cell, the Slurm ones), plus the data chosen for the user. Returns the
 * count; flags has room for argc + 2. */
static size_t stored_flags(const struct bench_opts *o, int argc, char **argv,
                           const char **flags) {
  size_t n = 0;
  for (int i = 1; i < argc; i++) {
    int skip = run_flag_words(argc, argv, i);
    if (skip) {
      i += skip - 1;
      continue;
    }
    flags[n++] = argv[i];
  }
  if (!o->w.data_given) { /* the data chosen for the user stays chosen */
    flags[n++] = "--data";
    flags[n++] = o->w.data;
  }
  return n;
}

/* ---- the display ----------------------------------------------------------
 */

struct view {
  const struct bench_opts *o;
  const char *db_path;
  bool synthetic;
  bool tty;
  int64_t last_draw;
};

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

static void on_begin(void *ctx, const struct gm_study_begin *b) {
  struct view *v = ctx;
  const struct bench_opts *o = v->o;
  if (b->idle_measured)
    gm_cli_print_idle(stdout, b->idle);
  else if (!b->resumed && !o->no_meter)
    printf("no idle baseline (--idle none): net energy is not computed\n");
  printf("bench '%s': %d model(s) x %d batch size(s) x %d precision(s), %d "
         "epoch(s), %ld inference samples per pass, %s data%s; database "
         "'%s'\n",
         b->name, o->n_models, o->n_batches, o->n_precisions, o->w.epochs,
         o->w.samples, v->synthetic ? "generated (not CIFAR-10)" : "CIFAR-10",
         o->no_meter ? ", unmetered" : "", v->db_path);
  fflush(stdout);
}

/* The live line on a terminal, at most five times a second. */
static void on_progress(void *ctx, const struct gm_study_progress *p) {
  struct view *v = ctx;
  if (!v->tty)
    return;
  int64_t t = now_ns();
  if (p->batch < p->batches && t - v->last_draw < 200 * INT64_C(1000000))
    return;
  v->last_draw = t;
  char line[512], eta[32], e[32];
  int n = snprintf(line, sizeof(line), "[%zu/%zu] %s b%d %s %s", p->cell,
                   p->n_cells, p->model, p->batch_size, p->precision, p->kind);
  if (p->epoch > 0)
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %d/%d", p->epoch,
                  p->epochs);
  n += snprintf(line + n, sizeof(line) - (size_t)n, " batch %ld/%ld", p->batch,
                p->batches);
  if (!isnan(p->loss))
    n += snprintf(line + n, sizeof(line) - (size_t)n, " loss %.3f acc %.1f %%",
                  p->loss, 100 * p->accuracy);
  if (p->metered) {
    gm_cli_fmt_energy(e, sizeof(e), p->energy_j);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " | %.1f W %s (%s)",
                  p->power_w, e, p->provenance);
  }
  fmt_duration(eta, sizeof(eta), p->eta_s);
  snprintf(line + n, sizeof(line) - (size_t)n, " | ETA %s", eta);
  fprintf(stderr, "\r\033[K%s", line);
  fflush(stderr);
}

static void on_pass_end(void *ctx) {
  struct view *v = ctx;
  if (v->tty) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
}

/* One log line per phase. */
static void on_phase(void *ctx, const struct gm_bench_phase *row) {
  struct view *v = ctx;
  char en[32] = "", net[32] = "";
  printf("%-16s b%-4d %-4s %-5s", row->model, row->batch_size,
         row->precision ? row->precision : "fp32", row->kind);
  if (row->epoch > 0)
    printf(" %s %d/%d",
           strcmp(row->kind, "infer") == 0 ? "after epoch" : "epoch",
           row->epoch, v->o->w.epochs);
  printf(": %.2f s, %.1f samples/s", row->duration_s,
         (double)row->samples / row->duration_s);
  if (!isnan(row->loss))
    printf(", loss %.4f, accuracy %.2f %%", row->loss, 100 * row->accuracy);
  if (row->metered) {
    gm_cli_fmt_energy(en, sizeof(en), row->energy_j);
    printf(", %s gross", en);
    if (!isnan(row->net_energy_j)) {
      gm_cli_fmt_energy(net, sizeof(net), row->net_energy_j);
      printf(", %s net", net);
    }
    printf(", %.1f W avg, %.4f J/sample [%s]", row->avg_power_w,
           row->energy_j / (double)row->samples, row->provenance);
  } else {
    printf(" [unmetered]");
  }
  putchar('\n');
  fflush(stdout);
}

static void on_prediction(void *ctx, const struct gm_study_prediction *sp) {
  (void)ctx;
  const struct gm_bench_prediction *p = &sp->p;
  if (!sp->made) {
    printf("%-16s b%-4d %-4s %-5s no prediction: the profile needs two "
           "windows of "
           "10 meter intervals (%.1f s each) before the run ends; it had %zu "
           "after %ld of %ld samples. Use a longer run, a shorter --interval "
           "or a larger --profile-epochs\n",
           p->model, p->batch_size, p->precision ? p->precision : "fp32",
           p->kind, sp->window_s, sp->windows, sp->profiled, sp->target);
    fflush(stdout);
    return;
  }
  char e[32], lo[32], hi[32], a[32];
  gm_cli_fmt_energy(e, sizeof(e), p->energy_j);
  printf("%-16s b%-4d %-4s %-5s predicted from %g epoch(s): %s", p->model,
         p->batch_size, p->precision ? p->precision : "fp32", p->kind,
         p->profile_epochs, e);
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

static void on_message(void *ctx, enum gm_study_message_kind kind,
                       const char *text) {
  (void)ctx;
  (void)kind;
  fprintf(stderr, "greenml bench: %s\n", text);
}

static bool on_stop(void *ctx) {
  (void)ctx;
  return stop_requested != 0;
}

/* The means per phase of the finished bench, and the meter's overhead. */
static void print_summary(struct gm_store *st, int64_t bench_id,
                          const char *name, bool overhead) {
  struct gm_bench_summary_row *rows = NULL;
  size_t n = 0;
  if (gm_store_bench_summary(st, bench_id, &rows, &n) == GM_OK && n > 0) {
    printf("\nsummary of bench '%s' (means per phase; energy of the "
           "components in the total)\n",
           name);
    printf("%-16s %6s %-9s %-13s %3s %10s %12s %12s %12s %11s  %s\n", "model",
           "batch", "precision", "phase", "n", "time", "energy", "net energy",
           "J/sample", "samples/s", "provenance");
  }
  for (size_t i = 0; i < n; i++) {
    const struct gm_bench_summary_row *r = &rows[i];
    char en[32] = "n/a", net[32] = "n/a";
    if (!isnan(r->energy_j))
      gm_cli_fmt_energy(en, sizeof(en), r->energy_j);
    if (!isnan(r->net_energy_j))
      gm_cli_fmt_energy(net, sizeof(net), r->net_energy_j);
    const char *label = strcmp(r->kind, "train") == 0   ? "train epoch"
                        : strcmp(r->kind, "infer") == 0 ? "infer pass"
                                                        : r->kind;
    printf("%-16s %6d %-9s %-13s %3d %8.2f s %12s %12s %12.4f %11.1f  %s\n",
           r->model, r->batch_size, r->precision, label, r->phases,
           r->duration_s, en, net, r->j_per_sample, r->samples_per_s,
           r->provenance);
  }
  free(rows);
  struct gm_bench_overhead_row *ov = NULL;
  if (!overhead || gm_store_bench_overhead(st, bench_id, &ov, &n) != GM_OK)
    return;
  printf("\nmeter overhead (the same work unmeasured and measured, in "
         "alternating order):\n");
  for (size_t i = 0; i < n; i++)
    printf("  %-6s %3d phases: %.3f s unmeasured, %.3f s measured: %+.2f "
           "%%\n",
           ov[i].kind, ov[i].phases, ov[i].unmetered_s, ov[i].metered_s,
           100 * (ov[i].metered_s - ov[i].unmetered_s) / ov[i].unmetered_s);
  free(ov);
}

/* ---- the command ----------------------------------------------------------
 */

/* The exit code of a failed study. */
static int exit_of(enum gm_status rc) {
  switch (rc) {
  case GM_ERR_DATABASE:
  case GM_ERR_IO:
  case GM_ERR_PERMISSION:
    return GM_EXIT_IOERR;
  case GM_ERR_NOT_FOUND:
    return GM_EXIT_NOINPUT;
  case GM_ERR_PARSE:
  case GM_ERR_SCHEMA_NEWER:
    return GM_EXIT_DATAERR;
  default:
    return GM_EXIT_SOFTWARE;
  }
}

/* --resume: the bench in the database and the flags it was started with,
 * parsed into o (they stay in *flags). */
static int load_resumed(const char *db_path, const char *run_id,
                        struct gm_store **st, struct gm_bench_flags *flags,
                        struct bench_opts *o, char *name, size_t name_size) {
  if (access(db_path, F_OK) != 0) { /* never create it to find nothing */
    if (run_id)
      gm_cli_error("bench",
                   "--resume: no bench '%s' in '%s'; 'greenml runs' lists "
                   "the database's content",
                   run_id, db_path);
    else
      gm_cli_error("bench", "--resume: no unfinished bench in '%s'", db_path);
    return GM_EXIT_NOINPUT;
  }
  int ec = gm_cli_open_store("bench", db_path, st);
  if (ec)
    return ec;
  struct gm_bench_info bi;
  if (gm_store_bench_find(*st, run_id, &bi) != GM_OK) {
    if (run_id)
      gm_cli_error("bench",
                   "--resume: no bench '%s' in '%s'; 'greenml runs' lists "
                   "the database's content",
                   run_id, db_path);
    else
      gm_cli_error("bench", "--resume: no unfinished bench in '%s'", db_path);
    return GM_EXIT_NOINPUT;
  }
  snprintf(name, name_size, "%s", bi.name);
  bool complete = strcmp(bi.status, "complete") == 0;
  int64_t id = bi.id;
  gm_bench_info_clear(&bi);
  if (complete) {
    gm_cli_error("bench", "--resume: bench '%s' is complete; nothing to do",
                 name);
    return GM_EXIT_USAGE;
  }
  if (gm_store_bench_flags(*st, id, flags) != GM_OK) {
    gm_cli_error("bench", "--resume: cannot read the stored flags: %s",
                 gm_store_last_error(*st));
    return GM_EXIT_DATAERR;
  }
  char **args = calloc(flags->n + 2, sizeof(char *));
  if (!args)
    return GM_EXIT_SOFTWARE;
  char prog[] = "bench";
  args[0] = prog;
  for (size_t i = 0; i < flags->n; i++)
    args[i + 1] = flags->flags[i];
  const char *db = o->db;
  default_opts(o);
  ec = parse((int)flags->n + 1, args, o);
  free(args);
  if (ec) {
    gm_cli_error("bench", "--resume: the stored flags of '%s' do not parse",
                 name);
    return GM_EXIT_DATAERR;
  }
  o->db = db;
  o->resume = true;
  return 0;
}

/* The study the options describe (without data, flags or directory). */
static struct gm_study_config study_config(const struct bench_opts *o,
                                           const char *name,
                                           const char *const *models) {
  struct gm_study_config cfg = gm_study_config_default();
  cfg.name = name;
  cfg.resume = o->resume;
  cfg.n_models = (size_t)o->n_models;
  cfg.models = models;
  cfg.n_batch_sizes = (size_t)o->n_batches;
  cfg.batch_sizes = o->batches;
  cfg.n_precisions = (size_t)o->n_precisions;
  cfg.precisions = o->precisions;
  cfg.epochs = o->w.epochs;
  cfg.infer_samples = o->w.samples;
  cfg.lr = o->w.lr;
  cfg.seed = o->w.seed;
  cfg.limit_batches = o->w.limit_batches;
  cfg.backend = o->w.backend;
  cfg.engine = o->w.engine;
  cfg.device = o->w.device;
  cfg.threads = o->w.threads;
  cfg.data = o->w.data;
  cfg.mode = o->overhead   ? GM_STUDY_OVERHEAD
             : o->no_meter ? GM_STUDY_UNMETERED
                           : GM_STUDY_METERED;
  cfg.idle_ns = o->idle_ns;
  cfg.gap_ns = o->gap_ns;
  cfg.meter = gm_cli_meter_config(&o->mo);
  cfg.profile_epochs = o->profile_epochs;
  cfg.verify = o->verify;
  cfg.cosine = o->cosine;
  static char versions[1280]; /* the bench record's; lives as the program */
  if (gm_versions_json(versions, sizeof(versions)) == GM_OK)
    cfg.versions_json = versions;
  return cfg;
}

/* The Slurm job ids of the environment as tags of the cells' meter runs
 * ("" outside a Slurm job). */
static void slurm_tags(char *buf, size_t size) {
  static const char *const vars[][2] = {
      {"SLURM_JOB_ID", "slurm_job_id"},
      {"SLURM_ARRAY_JOB_ID", "slurm_array_job_id"},
      {"SLURM_ARRAY_TASK_ID", "slurm_array_task_id"}};
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++) {
    const char *v = getenv(vars[i][0]);
    if (!v || !*v)
      continue;
    char esc[160];
    gm_json_escape_into(esc, sizeof(esc), v);
    int w = snprintf(buf + n, size - n, "%s\"%s\":%s", n ? "," : "", vars[i][1],
                     esc);
    if (w < 0 || (size_t)w >= size - n) {
      buf[n] = '\0';
      return;
    }
    n += (size_t)w;
  }
}

/* The node-local lock of --cell's idle baseline: in $TMPDIR (else /tmp),
 * named after the database and the bench, so that the tasks of one bench
 * on one node share it and nothing else does. */
static void idle_lock_path(const char *db_path, const char *name, char *buf,
                           size_t size) {
  char abs[2048];
  if (db_path[0] != '/' && getcwd(abs, sizeof(abs) - 1100)) {
    size_t len = strlen(abs);
    snprintf(abs + len, sizeof(abs) - len, "/%s", db_path);
  } else {
    snprintf(abs, sizeof(abs), "%s", db_path);
  }
  uint64_t h = 1469598103934665603u; /* FNV-1a of the path and the name */
  for (const char *p = abs; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211u;
  h = (h ^ '\n') * 1099511628211u;
  for (const char *p = name; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211u;
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp || access(tmp, W_OK) != 0)
    tmp = "/tmp";
  snprintf(buf, size, "%s/greenml-idle-%u-%016llx.lock", tmp,
           (unsigned)getuid(), (unsigned long long)h);
}

/* --cell joining an existing bench: it must have been started with flags
 * that describe the same study (gm_study_config_same: the flags are parsed
 * and compared by what they mean, not by their text). */
static int check_joined_flags(struct gm_store *st, int64_t bench_id,
                              const char *name,
                              const struct gm_study_config *cfg) {
  struct gm_bench_flags stored = {0};
  if (gm_store_bench_flags(st, bench_id, &stored) != GM_OK) {
    gm_cli_error("bench", "--cell: cannot read the flags of bench '%s': %s",
                 name, gm_store_last_error(st));
    return GM_EXIT_DATAERR;
  }
  char **args = calloc(stored.n + 2, sizeof(char *));
  struct bench_opts *o = calloc(1, sizeof(*o));
  if (!args || !o) {
    free(args);
    free(o);
    gm_bench_flags_clear(&stored);
    return GM_EXIT_SOFTWARE;
  }
  char prog[] = "bench";
  args[0] = prog;
  for (size_t i = 0; i < stored.n; i++)
    args[i + 1] = stored.flags[i];
  default_opts(o);
  int ec = parse((int)stored.n + 1, args, o);
  char why[512] = "";
  if (ec) {
    gm_cli_error("bench", "--cell: the stored flags of bench '%s' do not parse",
                 name);
    ec = GM_EXIT_DATAERR;
  } else {
    const char *models[MAX_MODELS];
    for (int i = 0; i < o->n_models; i++)
      models[i] = o->models[i];
    struct gm_study_config was = study_config(o, name, models);
    if (!gm_study_config_same(&was, cfg, why, sizeof(why))) {
      gm_cli_error("bench",
                   "--cell: bench '%s' was started with another study "
                   "(%s: its value first, this task's second); its cells "
                   "must all be run with the flags it was started with "
                   "('greenml runs' shows them), or choose another --run-id",
                   name, why);
      ec = GM_EXIT_USAGE;
    }
  }
  free(args);
  free(o);
  gm_bench_flags_clear(&stored);
  return ec;
}

/* --checkpoint-dir, or bench-NAME beside the database file (in the current
 * directory for a database server). */
static void checkpoint_dir(const struct bench_opts *o, const char *db_path,
                           const char *name, char *buf, size_t size) {
  if (o->ckpt_dir) {
    snprintf(buf, size, "%s", o->ckpt_dir);
    return;
  }
  char dir[1024];
  if (!gm_store_location_file(db_path, dir, sizeof(dir)))
    snprintf(dir, sizeof(dir), ".");
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof(dir), ".");
  snprintf(buf, size, "%s/bench-%s", dir[0] ? dir : "/", name);
}

int cmd_bench(int argc, char **argv) {
  struct bench_opts o;
  default_opts(&o);
  int ec = parse(argc, argv, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  if (o.resume && o.grid_flags) {
    gm_cli_error("bench",
                 "--resume takes the grid and its flags from the database; "
                 "give only --db and --run-id with it");
    return GM_EXIT_USAGE;
  }
  char db_path[1024], name[128], ckpt_dir[1200];
  if (o.db)
    snprintf(db_path, sizeof(db_path), "%s", o.db);
  else if (!gm_cli_default_db(db_path, sizeof(db_path))) {
    gm_cli_error("bench", "cannot build the database path; pass --db PATH");
    return GM_EXIT_USAGE;
  }
  struct gm_store *st = NULL;
  struct gm_bench_flags stored = {0};
  struct gm_cifar10 *train = NULL, *test = NULL;
  const char **flags = NULL;
  if (o.resume) {
    ec = load_resumed(db_path, o.run_id, &st, &stored, &o, name, sizeof(name));
    if (ec)
      goto out;
    printf("resuming bench '%s' from '%s'\n", name, db_path);
  } else {
    if (o.quick && !o.w.data_given &&
        access("data/data_batch_1.bin", R_OK) != 0) {
      fprintf(stderr, "greenml bench: no CIFAR-10 in ./data ('greenml data "
                      "fetch cifar10' downloads it): using generated data\n");
      o.w.data = "synthetic";
    }
    if (o.run_id) {
      snprintf(name, sizeof(name), "%s", o.run_id);
    } else {
      time_t t = time(NULL);
      struct tm tm;
      localtime_r(&t, &tm);
      strftime(name, sizeof(name), "bench-%Y%m%d-%H%M%S", &tm);
    }
  }
  if ((ec = check_opts(&o)))
    goto out;
  /* the study, checked before anything is created or measured */
  const char *models[MAX_MODELS];
  for (int i = 0; i < o.n_models; i++)
    models[i] = o.models[i];
  flags = calloc((size_t)argc + 2, sizeof(*flags));
  if (!flags) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  struct gm_study_config cfg = study_config(&o, name, models);
  cfg.n_flags = o.resume ? 0 : stored_flags(&o, argc, argv, flags);
  cfg.flags = flags;
  char idle_lock[1400], tags[640];
  if (o.cell >= 0) {
    cfg.one_cell = true;
    cfg.cell = (size_t)o.cell;
    idle_lock_path(db_path, name, idle_lock, sizeof(idle_lock));
    cfg.idle_lock = idle_lock;
  }
  slurm_tags(tags, sizeof(tags));
  if (tags[0])
    cfg.run_tags = tags;
  char err[1024] = "";
  enum gm_status rc = gm_study_config_check(&cfg, err, sizeof(err));
  if (rc != GM_OK) {
    gm_cli_error("bench", "%s", err);
    ec = rc == GM_ERR_INVALID_ARG || rc == GM_ERR_NOT_FOUND ? GM_EXIT_USAGE
         : rc == GM_ERR_UNAVAILABLE                         ? GM_EXIT_UNAVAIL
                                                            : GM_EXIT_SOFTWARE;
    goto out;
  }
  if (o.slurm) {
    /* generated data is made once now, into the cache the tasks read,
     * rather than by several tasks at once */
    if (strcmp(o.w.data, "synthetic") == 0 &&
        ((ec = gm_cli_open_cifar("bench", o.w.data, o.w.seed, GM_CIFAR10_TRAIN,
                                 &train)) ||
         (ec = gm_cli_open_cifar("bench", o.w.data, o.w.seed, GM_CIFAR10_TEST,
                                 &test))))
      goto out;
    ec = gm_cli_bench_slurm(&o.sl, name, db_path,
                            (size_t)o.n_models * (size_t)o.n_batches *
                                (size_t)o.n_precisions,
                            (int)cfg.n_flags, cfg.flags);
    goto out;
  }
  /* the engine that executes the steps, recorded with the bench's versions
   * (the torch engine's version and device: what PyTorch chose) */
  char engine[256] = "";
  if (gm_study_engine_name(&cfg, engine, sizeof(engine), NULL, 0) == GM_OK &&
      cfg.versions_json) {
    static char with_engine[1536];
    size_t len = strlen(cfg.versions_json);
    char esc[600];
    gm_json_escape_into(esc, sizeof(esc), engine);
    if (len > 1 && cfg.versions_json[len - 1] == '}' &&
        snprintf(with_engine, sizeof(with_engine), "%.*s,\"engine\":%s}",
                 (int)(len - 1), cfg.versions_json,
                 esc) < (int)sizeof(with_engine))
      cfg.versions_json = with_engine;
    printf("engine: %s\n", engine);
  }
  /* data before anything is measured: a bad directory fails fast */
  if ((ec = gm_cli_open_cifar("bench", o.w.data, o.w.seed, GM_CIFAR10_TRAIN,
                              &train)) ||
      (ec = gm_cli_open_cifar("bench", o.w.data, o.w.seed, GM_CIFAR10_TEST,
                              &test)))
    goto out;
  cfg.train = train;
  cfg.test = test;
  checkpoint_dir(&o, db_path, name, ckpt_dir, sizeof(ckpt_dir));
  if (!gm_cli_mkdirs(ckpt_dir)) {
    gm_cli_error("bench",
                 "cannot create the checkpoint directory '%s': %s; pass "
                 "--checkpoint-dir DIR",
                 ckpt_dir, strerror(errno));
    ec = GM_EXIT_CANTCREAT;
    goto out;
  }
  cfg.checkpoint_dir = ckpt_dir;
  if (!o.resume) {
    /* everything checked: only now is the database opened (and made) */
    if ((ec = gm_cli_open_store("bench", db_path, &st)))
      goto out;
    /* found once: another task of an array may create it meanwhile, and
     * the study joins it then */
    struct gm_bench_info bi;
    bool found = gm_store_bench_find(st, name, &bi) == GM_OK;
    if (found && o.cell >= 0) {
      int64_t id = bi.id;
      gm_bench_info_clear(&bi);
      if ((ec = check_joined_flags(st, id, name, &cfg)))
        goto out;
    } else if (found) {
      gm_cli_error("bench",
                   "a bench named '%s' exists (%s) in '%s': add --resume to "
                   "continue it, or choose another --run-id",
                   name, bi.status, db_path);
      gm_bench_info_clear(&bi);
      ec = GM_EXIT_USAGE;
      goto out;
    }
  }
  struct view v = {.o = &o,
                   .db_path = db_path,
                   .synthetic = gm_cifar10_is_synthetic(train),
                   .tty = isatty(STDERR_FILENO)};
  struct gm_study_observer obs = {.ctx = &v,
                                  .begin = on_begin,
                                  .progress = on_progress,
                                  .pass_end = on_pass_end,
                                  .phase = on_phase,
                                  .prediction = on_prediction,
                                  .message = on_message,
                                  .stop = on_stop};
  struct sigaction sa = {0}, old_int, old_term;
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  stop_requested = 0;
  struct gm_study_result res;
  rc = gm_study_run(&cfg, st, &obs, &res, err, sizeof(err));
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  on_pass_end(&v);
  if (rc == GM_OK && res.cell_complete) {
    printf("cell %ld complete: bench '%s' has every row of it in '%s'\n",
           o.cell, name, db_path);
  } else if (rc == GM_OK && res.interrupted) {
    ec = 130;
    fprintf(stderr,
            "greenml bench: interrupted; finished phases are saved in '%s'. "
            "Continue with: greenml bench --resume --run-id %s --db %s\n",
            db_path, name, db_path);
  } else if (rc != GM_OK) {
    ec = exit_of(rc);
    gm_cli_error("bench", "%s", err);
    if (res.bench_id)
      fprintf(stderr,
              "greenml bench: stopped by the error above; finished phases "
              "are saved. Fix it and continue with: greenml bench --resume "
              "--run-id %s --db %s\n",
              name, db_path);
  } else if (o.cell >= 0) {
    printf("\ncell %ld done: bench '%s', id %lld, in '%s'\n", o.cell, name,
           (long long)res.bench_id, db_path);
  } else {
    print_summary(st, res.bench_id, name, o.overhead);
    printf("\ndatabase: %s (bench '%s', id %lld)\n", db_path, name,
           (long long)res.bench_id);
  }
out:
  free(flags);
  gm_bench_flags_clear(&stored);
  gm_cifar10_close(train);
  gm_cifar10_close(test);
  gm_store_close(st);
  return ec;
}
