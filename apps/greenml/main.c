/* main.c: the greenml command: git-style subcommands from one table, run
 * between the guard of the standard streams and the check of stdout
 * (output.h: THE output rule).
 *
 * Built twice. `greenml` (GM_CLI_METER_ONLY) links libgreenml alone, so the
 * commands that meter start in a few milliseconds and load nothing they do
 * not use (the meter's own cost is part of what it measures); it runs the
 * study's commands by executing `greenml-study` (the same table, every
 * library linked), found next to it in a build tree and in
 * ../libexec/greenml/ once installed, and `exporter` by executing
 * `greenml-exporter` (GM_CLI_EXPORTER: the metering commands and the
 * exporter, libgreenml and libgreenml-exporter), found the same way. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/api.h"
#include "output.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv); /* NULL: run by the helper */
  const char *summary;
  const char *helper; /* the program that has fn when this one has not */
};

#if defined(GM_CLI_METER_ONLY)
#define STUDY(fn) NULL
#define EXPORTER(fn) NULL
#elif defined(GM_CLI_EXPORTER)
#define STUDY(fn) NULL
#define EXPORTER(fn) fn
#else
#define STUDY(fn) fn
#define EXPORTER(fn) fn
#endif
#define STUDY_EXE "greenml-study"

static const struct command commands[] = {
    {"measure", cmd_measure, "run a command and measure its energy", NULL},
    {"idle", cmd_idle, "measure and store this host's idle power", NULL},
    {"sources", cmd_sources, "list every power source tried and why", NULL},
    {"monitor", cmd_monitor, "live per-component power", NULL},
    {"exporter", EXPORTER(cmd_exporter),
     "serve live power and energy to Prometheus", "greenml-exporter"},
    {"mark", cmd_mark, "begin or end a named phase inside 'measure'", NULL},
    {"runs", cmd_runs, "list the runs stored in the database", NULL},
    {"merge", cmd_merge, "copy other hosts' databases into one", NULL},
    {"data", STUDY(cmd_data), "download, synthesise or check CIFAR-10",
     STUDY_EXE},
    {"models", STUDY(cmd_models), "characteristics of the zoo's CNN models",
     STUDY_EXE},
    {"train", STUDY(cmd_train), "train a model of the zoo on CIFAR-10",
     STUDY_EXE},
    {"infer", STUDY(cmd_infer), "run a model over the (replicated) test set",
     STUDY_EXE},
    {"bench", STUDY(cmd_bench),
     "run the study's grid: train and infer, measured", STUDY_EXE},
    {"report", STUDY(cmd_report), "HTML report of the benches: figures, tables",
     STUDY_EXE},
    {"analyze", STUDY(cmd_analyze),
     "correlations and the paper's claims on benches", STUDY_EXE},
    {"estimate", STUDY(cmd_estimate),
     "energy, time, carbon and cost of a workload", STUDY_EXE},
    {"export", STUDY(cmd_export), "bench phases and time series as CSV or JSON",
     STUDY_EXE},
};

/* The study's commands compute with OpenMP threads (libgomp, under oneDNN
 * and PyTorch), which by default spin for about 3 ms at every barrier
 * before they sleep. Next to a process that keeps a CPU busy, a spinning
 * team holds its CPUs while the thread that shares the neighbour's CPU
 * waits for its turn, at every barrier of every layer: an order of
 * magnitude slower (README, "Threads next to a busy neighbour"). A passive team
 * sleeps at once and frees its CPU. libgomp reads the policy only when it is
 * loaded, so it is set here, before greenml-study (and the PyTorch worker it
 * starts) is run, unless the user has chosen a policy or a spin count. */
static void openmp_wait_passive(void) {
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"))
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
}

/* Runs the command in the helper program that has it (greenml-study,
 * greenml-exporter) with the same arguments. */
static int exec_helper(char **argv, const char *helper) {
  char self[PATH_MAX], path[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    fprintf(stderr, "greenml %s: cannot locate greenml itself: %s\n", argv[1],
            strerror(errno));
    return GM_EXIT_UNAVAIL;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash)
    *slash = '\0';
  const char *const where[] = {"", "/../libexec/greenml"};
  for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
    snprintf(path, sizeof(path), "%s%s/%s", self, where[i], helper);
    if (access(path, X_OK) == 0) {
      if (strcmp(helper, STUDY_EXE) == 0)
        openmp_wait_passive();
      execv(path, argv);
      fprintf(stderr, "greenml %s: cannot run '%s': %s\n", argv[1], path,
              strerror(errno));
      return GM_EXIT_UNAVAIL;
    }
  }
  fprintf(stderr,
          "greenml %s: this command is in %s, which is not in '%s' nor in "
          "'%s/../libexec/greenml': reinstall greenml ('make install')\n",
          argv[1], helper, self, self);
  return GM_EXIT_UNAVAIL;
}

static void usage(FILE *f) {
  fprintf(f, "usage: greenml <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'greenml <command> --help' describes each command.\n");
}

static int run(int argc, char **argv, const char **name) {
  if (argc < 2) {
    usage(stderr);
    return GM_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("greenml %s\n", GM_VERSION_STRING);
    return 0;
  }
  /* The command sees itself as "greenml NAME", which getopt's messages
   * ("greenml sources: unrecognized option ...") then name. */
  static char self[64];
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      if (!commands[i].fn)
        return exec_helper(argv, commands[i].helper);
      snprintf(self, sizeof(self), "greenml %s", commands[i].name);
      argv[1] = self;
      *name = commands[i].name;
      return commands[i].fn(argc - 1, argv + 1);
    }
  fprintf(stderr,
          "greenml: '%s' is not a greenml command; run 'greenml --help' for "
          "the list\n",
          argv[1]);
  return GM_EXIT_USAGE;
}

int main(int argc, char **argv) {
  gm_cli_streams_init();
  const char *name = NULL;
  int ec = run(argc, argv, &name);
  return gm_cli_streams_finish(name, ec);
}
