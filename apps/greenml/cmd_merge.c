/* cmd_merge.c: `greenml merge OUT.db IN.db...`: the results of several
 * hosts, measured into separate databases, copied into one
 * (gm_store_merge), so that runs, report, analyze and export see every
 * host. Each input is checked before OUT is opened or created, then merged
 * in a transaction of its own; what was copied and skipped is printed per
 * input. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "greenml/json.h"
#include "cli.h"

static const char usage_text[] =
    "usage: greenml merge [--json] OUT IN.db...\n"
    "\n"
    "OUT: a SQLite file (OUT.db) or a PostgreSQL database\n"
    "(postgresql://...); the inputs are SQLite files.\n"
    "\n"
    "Copies into OUT (created when absent) every host, run (with its\n"
    "samples and phases), idle baseline and bench of each IN.db, so that\n"
    "runs, report, analyze and export see them all. The inputs are only\n"
    "read. A row already in OUT, merged before directly or through\n"
    "another database, is skipped; hosts are matched by fingerprint. A bench\n"
    "whose name OUT holds from another origin is copied as NAME@HOST\n"
    "(HOST: its host's fingerprint). Each input is one transaction: a\n"
    "failure leaves OUT as the inputs before it made it.\n"
    "\n"
    "  --json               what was copied and skipped, per input, as JSON\n"
    "\n"
    "Exit status: 0 merged; 64 bad usage or OUT is an input; 65 an input\n"
    "of a newer greenml, not greenml's, or unreadable; 66 an input missing;\n"
    "74 OUT cannot be written.\n";

/* Whether a and b are the same file (both existing). */
static bool same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

static const char *plural(size_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

static void print_result(const char *in,
                         const struct gm_store_merge_result *r) {
  printf("%s (schema %d, id %s):\n", in, r->input_schema, r->input_uid);
  printf("  %zu %s copied, %zu already there\n", r->runs_copied,
         plural(r->runs_copied, "run", "runs"), r->runs_skipped);
  printf("  %zu %s copied, %zu already there\n", r->benches_copied,
         plural(r->benches_copied, "bench", "benches"), r->benches_skipped);
  printf("  %zu idle %s copied, %zu already there\n", r->baselines_copied,
         plural(r->baselines_copied, "baseline", "baselines"),
         r->baselines_skipped);
  printf("  %zu %s added, %zu matched by fingerprint\n", r->hosts_added,
         plural(r->hosts_added, "host", "hosts"), r->hosts_matched);
  printf("  %" PRIu64 " samples and %" PRIu64 " metric samples copied\n",
         r->samples_copied, r->metric_samples_copied);
  for (size_t i = 0; i < r->n_renames; i++)
    printf("  bench '%s' copied as '%s': the output has a bench of that name "
           "from elsewhere\n",
           r->renames[i].from, r->renames[i].to);
  if (r->benches_renamed > r->n_renames)
    printf("  and %zu more benches renamed so\n",
           r->benches_renamed - r->n_renames);
}

static void pair(struct gm_json *j, const char *key, const char *a, size_t va,
                 const char *b, size_t vb) {
  gm_json_key(j, key);
  gm_json_begin_object(j);
  gm_json_key(j, a);
  gm_json_int(j, (int64_t)va);
  gm_json_key(j, b);
  gm_json_int(j, (int64_t)vb);
  gm_json_end_object(j);
}

static void json_result(struct gm_json *j, const char *in,
                        const struct gm_store_merge_result *r) {
  gm_json_begin_object(j);
  gm_json_key(j, "input");
  gm_json_string(j, in);
  gm_json_key(j, "db_uid");
  gm_json_string(j, r->input_uid);
  gm_json_key(j, "schema");
  gm_json_int(j, r->input_schema);
  pair(j, "hosts", "added", r->hosts_added, "matched", r->hosts_matched);
  pair(j, "runs", "copied", r->runs_copied, "skipped", r->runs_skipped);
  pair(j, "idle_baselines", "copied", r->baselines_copied, "skipped",
       r->baselines_skipped);
  pair(j, "benches", "copied", r->benches_copied, "skipped",
       r->benches_skipped);
  gm_json_key(j, "benches_renamed");
  gm_json_int(j, (int64_t)r->benches_renamed);
  gm_json_key(j, "renames");
  gm_json_begin_array(j);
  for (size_t i = 0; i < r->n_renames; i++) {
    gm_json_begin_object(j);
    gm_json_key(j, "from");
    gm_json_string(j, r->renames[i].from);
    gm_json_key(j, "to");
    gm_json_string(j, r->renames[i].to);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
  gm_json_key(j, "samples_copied");
  gm_json_int(j, (int64_t)r->samples_copied);
  gm_json_key(j, "metric_samples_copied");
  gm_json_int(j, (int64_t)r->metric_samples_copied);
  gm_json_end_object(j);
}

/* The exit code of a failed gm_store_merge. */
static int merge_exit(enum gm_status rc) {
  switch (rc) {
  case GM_ERR_NOT_FOUND:
  case GM_ERR_IO:
    return GM_EXIT_NOINPUT;
  case GM_ERR_SCHEMA_NEWER:
  case GM_ERR_PARSE:
    return GM_EXIT_DATAERR;
  case GM_ERR_INVALID_ARG:
  case GM_ERR_UNSUPPORTED:
    return GM_EXIT_USAGE;
  default:
    return GM_EXIT_IOERR;
  }
}

int cmd_merge(int argc, char **argv) {
  bool json = false;
  static const struct option longopts[] = {
      {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'j':
      json = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (argc - optind < 2) {
    gm_cli_error("merge", "give the output database and at least one input");
    fputs(usage_text, stderr);
    return GM_EXIT_USAGE;
  }
  const char *out = argv[optind];
  char **ins = argv + optind + 1;
  int n_in = argc - optind - 1;
  if (!gm_cli_db_given("merge", out))
    return GM_EXIT_USAGE;
  /* every input is checked before the output is opened (or created) */
  for (int i = 0; i < n_in; i++) {
    char fix[1200];
    snprintf(fix, sizeof(fix), "check the path of the input '%s'", ins[i]);
    struct gm_store *in = NULL;
    int ec = gm_cli_open_store_readonly("merge", ins[i], fix, &in);
    if (ec)
      return ec;
    bool from = false;
    gm_store_merge_kinds(in, &from, NULL);
    if (!from) {
      gm_cli_error("merge",
                   "the input '%s' is a %s store: the inputs of a merge are "
                   "SQLite files (its output may be PostgreSQL)",
                   ins[i], gm_store_kind(in));
      gm_store_close(in);
      return GM_EXIT_USAGE;
    }
    gm_store_close(in);
    char in_file[1024], out_file[1024];
    if (gm_store_location_file(ins[i], in_file, sizeof(in_file)) &&
        gm_store_location_file(out, out_file, sizeof(out_file)) &&
        same_file(in_file, out_file)) {
      gm_cli_error("merge",
                   "the input '%s' is the output '%s' itself: a database "
                   "cannot be merged into itself",
                   ins[i], out);
      return GM_EXIT_USAGE;
    }
  }
  struct gm_store *st = NULL;
  int ec = gm_cli_open_store("merge", out, &st);
  if (ec)
    return ec;
  struct gm_json j;
  gm_json_init(&j);
  if (json)
    gm_json_begin_array(&j);
  for (int i = 0; i < n_in && !ec; i++) {
    struct gm_store_merge_result r;
    enum gm_status rc = gm_store_merge(st, ins[i], &r);
    if (rc != GM_OK) {
      gm_cli_error("merge", "%s%s", gm_store_last_error(st),
                   i ? "; the inputs before it are merged" : "");
      ec = merge_exit(rc);
    } else if (json) {
      json_result(&j, ins[i], &r);
    } else {
      print_result(ins[i], &r);
    }
  }
  if (json) {
    gm_json_end_array(&j);
    printf("%s\n", j.buf ? j.buf : "[]");
  }
  gm_json_release(&j);
  gm_store_close(st);
  return ec;
}
