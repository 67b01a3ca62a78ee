/* cli.h: shared pieces of the greenml command-line tool. */
#ifndef GM_APP_CLI_H
#define GM_APP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit codes of greenml itself (sysexits.h values). `measure` otherwise
 * exits with its command's status: 127 when it cannot be started, 128+N when
 * killed by signal N; and 74 when samples of the run were lost. A database
 * from a newer schema or not greenml's at all is bad input data (65). */
#define GM_EXIT_USAGE 64   /* bad flag or value */
#define GM_EXIT_DATAERR 65 /* bad input data */
#define GM_EXIT_NOINPUT 66 /* an input file does not exist */
#define GM_EXIT_UNAVAIL                                                        \
  69                         /* nothing to measure with or to talk to; an      \
                                address the exporter cannot listen on */
#define GM_EXIT_SOFTWARE 70  /* internal error */
#define GM_EXIT_CANTCREAT 73 /* cannot create an output file */
#define GM_EXIT_IOERR 74     /* database or output write failed */
#define GM_EXIT_TEMPFAIL 75  /* the machine was busy during an idle baseline */

int cmd_measure(int argc, char **argv);
int cmd_idle(int argc, char **argv);
int cmd_sources(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_estimate(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* Parses "100ms", "2s", "1.5s", "250us", "3m" into nanoseconds. A bare number
 * means seconds. */
bool gm_cli_parse_duration(const char *s, int64_t *out_ns);

#endif

#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/meter.h"
#include "greenml/session.h"
#include "greenml/store.h"

/* Flags shared by every command that measures (measure, idle, monitor,
 * sources). */
struct gm_cli_meter_opts {
  int64_t interval_ns;
  double cpu_tdp_w;
  double dimm_capacitance_f;
  const char *dmidecode_file;
  bool no_gpu;
  const char *gpus; /* --gpus; NULL: the environment's, else all */
};

#define GM_CLI_METER_HELP                                                      \
  "  --interval DUR       sampling period (default 100ms; 1ms .. 60s)\n"       \
  "  --cpu-tdp W          CPU TDP for the CPU model when RAPL is unreadable\n" \
  "  --dimm-capacitance F DRAM model's C per DIMM in farads (default "         \
  "3.1e-9)\n"                                                                  \
  "  --dmidecode FILE     saved 'dmidecode -t memory' output for the DIMMs\n"  \
  "  --no-gpu             do not load NVML\n"                                  \
  "  --gpus all|none|LIST the GPUs to meter: NVML indices or UUIDs, comma-\n"  \
  "                       separated (default: $CUDA_VISIBLE_DEVICES, else\n"   \
  "                       $NVIDIA_VISIBLE_DEVICES, else all)\n"

/* Option ids above 256 for getopt_long. */
enum {
  GM_OPT_INTERVAL = 300,
  GM_OPT_CPU_TDP,
  GM_OPT_DIMM_C,
  GM_OPT_DMIDECODE,
  GM_OPT_NO_GPU,
  GM_OPT_GPUS,
  GM_OPT_REGION,
  GM_OPT_INTENSITY,
  GM_OPT_PUE,
  GM_OPT_PRICE,
  GM_OPT_CURRENCY,
  GM_OPT_EPOCHS,
  GM_OPT_BATCH,
  GM_OPT_LR,
  GM_OPT_SEED,
  GM_OPT_DATA,
  GM_OPT_THREADS,
  GM_OPT_BACKEND,
  GM_OPT_ENGINE,
  GM_OPT_DEVICE,
  GM_OPT_LIMIT,
  GM_OPT_SAMPLES,
  GM_OPT_PRECISION,
  GM_OPT_DB,
  GM_OPT_RUN,
  GM_OPT_FIRST_FREE
};

/* Flags shared by train, infer and bench (the workload). */
struct gm_cli_work_opts {
  int epochs;                     /* --epochs, default 1 */
  int batch;                      /* --batch-size, default 128 */
  double lr;                      /* --lr, default 0.001 */
  uint64_t seed;                  /* --seed, default 1 */
  const char *data;               /* --data, default "data" */
  bool data_given;                /* --data was given */
  int threads;                    /* --threads, 0: chosen at the start */
  const char *backend;            /* --backend, NULL: the fastest */
  const char *engine;             /* --engine greenml|torch, NULL: greenml */
  const char *device;             /* --device (torch), NULL: auto */
  long limit_batches;             /* --limit-batches, 0: none */
  long samples;                   /* inference samples, default 50000 */
  enum gm_nn_precision precision; /* --precision, default fp32 */
};

void gm_cli_work_opts_init(struct gm_cli_work_opts *o);
/* Like gm_cli_meter_opt: 1 handled, 0 not a workload option, -1 usage
 * error (printed). */
int gm_cli_work_opt(struct gm_cli_work_opts *o, int opt, const char *arg,
                    const char *cmd);
/* strtol of the whole string into [lo, hi]. */
bool gm_cli_parse_long(const char *s, long lo, long hi, long *out);

/* Carbon and cost flags (measure, report, analyze, estimate, export). */
struct gm_cli_cost_opts {
  const char *region;   /* ISO 3166-1 alpha-2, or NULL */
  double intensity;     /* gCO2e/kWh; < 0: not given */
  double pue;           /* default 1.0 */
  double price_per_kwh; /* < 0: not given */
  const char *currency; /* default "EUR" */
};

/* The resolved factors. */
struct gm_cli_cost {
  double g_per_kwh;
  double pue;
  double price_per_kwh; /* NAN: no --price */
  char currency[12];
  char source[256]; /* where the intensity comes from */
};

#define GM_CLI_COST_HELP                                                       \
  "  --region CC          grid carbon intensity of country CC (ISO 3166-1;\n"  \
  "                       default: the world average)\n"                       \
  "  --carbon-intensity G grid carbon intensity in gCO2e/kWh\n"                \
  "  --pue X              data-centre power usage effectiveness (default "     \
  "1.0)\n"                                                                     \
  "  --price P            electricity price per kWh, for the cost\n"           \
  "  --currency C         the price's currency (default EUR)\n"

#define GM_CLI_COST_LONGOPTS                                                   \
  {"region", 1, 0, GM_OPT_REGION},                                             \
      {"carbon-intensity", 1, 0, GM_OPT_INTENSITY}, {"pue", 1, 0, GM_OPT_PUE}, \
      {"price", 1, 0, GM_OPT_PRICE}, {                                         \
    "currency", 1, 0, GM_OPT_CURRENCY                                          \
  }

void gm_cli_cost_opts_init(struct gm_cli_cost_opts *o);
/* Like gm_cli_meter_opt: 1 handled, 0 not a cost option, -1 usage error
 * (printed). */
int gm_cli_cost_opt(struct gm_cli_cost_opts *o, int opt, const char *arg,
                    const char *cmd);
/* Resolves the region (default WORLD) into *out. 0 or an exit code after
 * printing. */
int gm_cli_cost_resolve(const char *cmd, const struct gm_cli_cost_opts *o,
                        struct gm_cli_cost *out);
/* The flags of the commands that read bench results (report, analyze,
 * estimate, export): --db, --run and the carbon and cost flags. */
struct gm_cli_results_opts {
  const char *db;  /* NULL: the default database */
  const char *run; /* a bench's name or id; NULL: every bench */
  struct gm_cli_cost_opts cost;
};

#define GM_CLI_RESULTS_LONGOPTS                                                \
  {"db", 1, 0, GM_OPT_DB}, {"run", 1, 0, GM_OPT_RUN}, GM_CLI_COST_LONGOPTS

void gm_cli_results_opts_init(struct gm_cli_results_opts *o);
/* 1 handled, 0 not one of them, -1 usage error (printed). */
int gm_cli_results_opt(struct gm_cli_results_opts *o, int opt, const char *arg,
                       const char *cmd);

/* Grams CO2e and money for energy drawn by the machine (PUE applied). */
double gm_cli_cost_carbon_g(const struct gm_cli_cost *c, double energy_j);
double gm_cli_cost_money(const struct gm_cli_cost *c, double energy_j);

#define GM_CLI_METER_LONGOPTS                                                  \
  {"interval", 1, 0, GM_OPT_INTERVAL}, {"cpu-tdp", 1, 0, GM_OPT_CPU_TDP},      \
      {"dimm-capacitance", 1, 0, GM_OPT_DIMM_C},                               \
      {"dmidecode", 1, 0, GM_OPT_DMIDECODE}, {"no-gpu", 0, 0, GM_OPT_NO_GPU},  \
  {                                                                            \
    "gpus", 1, 0, GM_OPT_GPUS                                                  \
  }

void gm_cli_meter_opts_init(struct gm_cli_meter_opts *o);
/* Handles one of the shared options. Returns 1 when handled, 0 when the
 * option is not a shared one, and after printing the error: -1 for a usage
 * error, -2 for an input file that cannot be read. */
int gm_cli_meter_opt(struct gm_cli_meter_opts *o, int opt, const char *arg,
                     const char *cmd);
struct gm_meter_config gm_cli_meter_config(const struct gm_cli_meter_opts *o);
/* The exit code for a negative gm_cli_meter_opt result. */
#define GM_CLI_OPT_EXIT(r) ((r) == -2 ? GM_EXIT_NOINPUT : GM_EXIT_USAGE)

/* Prints "greenml CMD: MESSAGE" to stderr (printf-style). */
void gm_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mkdir -p: creates dir and its missing parents; false with errno set, also
 * when dir exists but is not a directory (ENOTDIR). */
bool gm_cli_mkdirs(const char *dir);

/* "a regular file", "a directory", "a FIFO", "a character device", ... */
const char *gm_cli_file_kind(mode_t mode);

/* The largest --dmidecode file accepted. */
#define GM_CLI_DMIDECODE_MAX_BYTES ((uint64_t)16 << 20)

/* The default database path: $XDG_DATA_HOME/greenml/greenml.db, else
 * ~/.local/share/greenml/greenml.db. The directory is created. */
bool gm_cli_default_db(char *buf, size_t size);
/* false (after printing the usage error) when --db was given empty: it
 * names no database. */
bool gm_cli_db_given(const char *cmd, const char *path);
/* Opens the store, printing the error and returning the exit code (0 on
 * success): 64 for --db '', 65 for a database of a newer greenml or not
 * greenml's (left untouched), 74 when it cannot be opened or stays locked
 * by another process. Creates the parent directory of path when missing. */
int gm_cli_open_store(const char *cmd, const char *path, struct gm_store **out);
/* Meter + store host id in one go. */
int gm_cli_host(const char *cmd, struct gm_store *st, const struct gm_meter *m,
                int64_t *host_id);

/* `greenml bench --slurm` (bench_slurm.c): the grid as a Slurm job array. */
struct gm_cli_slurm {
  const char *partition, *time_limit; /* NULL: the cluster's defaults */
  const char *dir;                    /* NULL: ./greenml-slurm-NAME */
  const char *opts[32];               /* --slurm-opt: #SBATCH lines */
  int n_opts;
  bool submit; /* run sbatch; else print the commands */
};
/* Writes the array's and the analysis job's scripts for bench `name` in
 * db_path, whose n_cells tasks run `greenml bench ARGS --run-id NAME --db
 * DB --cell K`, and submits them or prints how. Returns an exit code. */
int gm_cli_bench_slurm(const struct gm_cli_slurm *sl, const char *name,
                       const char *db_path, size_t n_cells, int n_args,
                       const char *const *args);

/* Formats joules with an SI prefix chosen for readability: "12.3 kJ". */
void gm_cli_fmt_energy(char *buf, size_t size, double j);
/* "measured (energy counter)" etc. */
void gm_cli_fmt_provenance(char *buf, size_t size,
                           const struct gm_component_info *ci);

/* The JSON pieces of components, missing components and metrics, and a
 * component's warnings: <greenml/session.h>. */

/* Prints the table of probes (greenml sources). */
void gm_cli_print_probes(FILE *f, const struct gm_meter *m);

/* Measures idle power for dur_ns with a meter built from mo, stores it when
 * st is not NULL, and returns the baseline in *out (free with
 * gm_idle_baseline_free). A busy baseline (idle.h, GM_IDLE_BUSY_PCT) is
 * refused with GM_EXIT_TEMPFAIL unless force_busy, then stored flagged.
 * Returns 0 or an exit code after printing. */
int gm_cli_measure_idle(const char *cmd, const struct gm_cli_meter_opts *mo,
                        int64_t dur_ns, bool force_busy, struct gm_store *st,
                        int64_t host_id, struct gm_idle_baseline **out);
/* "greenml idle" with the model flags of mo that differ from the defaults:
 * the command that measures a baseline matching a run made with mo. */
void gm_cli_idle_command(char *buf, size_t size,
                         const struct gm_cli_meter_opts *mo);
/* Opens the CIFAR-10 split in data (a directory) or, for "synthetic", a
 * generated set cached under $XDG_CACHE_HOME/greenml/synthetic-SEED, else
 * $HOME/.cache/greenml/synthetic-SEED (made on first use, the two greenml
 * levels mode 0700 and refused unless this user's own; says so on stderr;
 * with neither variable set, an error naming them, never /tmp). Returns 0
 * or an exit code after printing. */
int gm_cli_open_cifar(const char *cmd, const char *data, uint64_t seed,
                      enum gm_cifar10_split split, struct gm_cifar10 **out);

/* Prints a baseline as a table on f. */
void gm_cli_print_idle(FILE *f, const struct gm_idle_baseline *b);

/* ---- reading results back (analyze, estimate, export; results.c) ---- */

#include "greenml/analysis.h"

/* Opens the store at path for reading (greenml/store.h's read-only mode:
 * nothing is created, migrated or configured). Returns 0, or after
 * printing: 66 when there is no database at path ("CMD: no database at
 * 'PATH': FIX") or it is not a database file, 65 for a newer schema, 64 for
 * an unsupported location, 74 when it cannot be read. */
int gm_cli_open_store_readonly(const char *cmd, const char *path,
                               const char *fix, struct gm_store **out);
/* --from-run ID (a measured run of report, analyze, estimate, export): 0
 * and *out, or 64 after printing. */
int gm_cli_parse_run_id(const char *cmd, const char *arg, int64_t *out);
/* Opens db (NULL: the default; the path used goes into path) read-only to
 * read a measured run: 0, or the exit code of gm_cli_open_store_readonly. */
int gm_cli_open_run_store(const char *cmd, const char *db, char *path,
                          size_t size, struct gm_store **st);
/* The row of run id in st (*list owned by the caller:
 * gm_store_run_list_free): 0, or after printing 66 when there is none
 * (naming db), 74 when the runs cannot be read. */
int gm_cli_find_run(const char *cmd, struct gm_store *st, const char *db,
                    int64_t id, struct gm_store_run_list **list,
                    const struct gm_store_run **run);
/* Opens the database db (NULL: the default; its path goes into path) that
 * must exist, read-only, and loads its benches (all, or the one named or
 * numbered by run) into *t. Returns 0, or after printing: 66 when the file or
 * the bench does not exist, 65 when the database holds no bench, 74 when it
 * cannot be read. On success the caller frees *t and closes *st. */
int gm_cli_load_results(const char *cmd, const char *db, const char *run,
                        char *path, size_t path_size, struct gm_store **st,
                        struct gm_analysis_table **t);
/* "12.3 s", "4.5 min", "2.9 h", "3.1 days". */
void gm_cli_fmt_seconds(char *buf, size_t size, double s);
/* "0.123 g CO2e", "4.5 kg CO2e". */
void gm_cli_fmt_carbon(char *buf, size_t size, double g);
/* "0.0123 EUR"; "n/a" for NAN (no --price). */
void gm_cli_fmt_money(char *buf, size_t size, const struct gm_cli_cost *c,
                      double amount);
/* One line: the intensity and its source, PUE, the price. */
void gm_cli_describe_cost(char *buf, size_t size, const struct gm_cli_cost *c);
/* The cost factors as a JSON object value. */
void gm_cli_json_cost(struct gm_json *j, const struct gm_cli_cost *c);
