/* main.c: the greenml command: git-style subcommands from one table, run
 * between the guard of the standard streams and the check of stdout
 * (output.h: THE output rule). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "greenml/api.h"
#include "output.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"measure", cmd_measure, "run a command and measure its energy"},
    {"idle", cmd_idle, "measure and store this host's idle power"},
    {"sources", cmd_sources, "list every power source tried and why"},
    {"monitor", cmd_monitor, "live per-component power"},
    {"mark", cmd_mark, "begin or end a named phase inside 'measure'"},
    {"runs", cmd_runs, "list the runs stored in the database"},
    {"data", cmd_data, "download, synthesise or check CIFAR-10"},
    {"models", cmd_models, "characteristics of the zoo's CNN models"},
    {"train", cmd_train, "train a model of the zoo on CIFAR-10"},
    {"infer", cmd_infer, "run a model over the (replicated) test set"},
    {"bench", cmd_bench, "run the study's grid: train and infer, measured"},
    {"report", cmd_report, "HTML report of the benches: figures, tables"},
    {"analyze", cmd_analyze, "correlations and the paper's claims on benches"},
    {"estimate", cmd_estimate, "energy, time, carbon and cost of a workload"},
    {"export", cmd_export, "bench phases and time series as CSV or JSON"},
};

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
