/* cmd_runs.c: `greenml runs`: the runs in the database, newest first. A run
 * whose greenml was killed is shown as incomplete, with the energy its
 * stored samples account for. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/json.h"
#include "cli.h"

static const char usage_text[] =
    "usage: greenml runs [--db PATH] [--json] [--limit N]\n"
    "\n"
    "Lists stored runs, newest first: id, start time (UTC), kind, whether\n"
    "the run completed, duration, gross and net energy, whether that energy\n"
    "is measured, modelled or mixed, exit status, command. Under a run whose\n"
    "samples could not all be stored: why, how many were lost and the time\n"
    "up to which every sample is stored.\n";

int cmd_runs(int argc, char **argv) {
  const char *db = NULL;
  bool json = false;
  int limit = 20;
  static const struct option longopts[] = {{"db", 1, 0, 'd'},
                                           {"json", 0, 0, 'j'},
                                           {"limit", 1, 0, 'n'},
                                           {"help", 0, 0, 'h'},
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'd':
      db = optarg;
      break;
    case 'j':
      json = true;
      break;
    case 'n': {
      char *end;
      long v = strtol(optarg, &end, 10);
      limit = (int)v;
      if (end == optarg || *end || v <= 0 || v > 1000000) {
        gm_cli_error("runs", "--limit '%s' is not a positive number", optarg);
        return GM_EXIT_USAGE;
      }
      break;
    }
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  char dbpath[1024];
  if (!db) {
    gm_cli_default_db(dbpath, sizeof(dbpath));
    db = dbpath;
  }
  struct gm_store *st = NULL;
  char fix[1200];
  snprintf(fix, sizeof(fix),
           "nothing is stored yet; measure a command first with 'greenml "
           "measure --db %s -- CMD', or pass --db PATH",
           db);
  int ec = gm_cli_open_store_readonly("runs", db, fix, &st);
  if (ec)
    return ec;
  struct gm_store_run_filter filter = {.limit = (size_t)limit};
  struct gm_store_run_list *runs = NULL;
  if (gm_store_list_runs(st, &filter, &runs) != GM_OK) {
    gm_cli_error("runs", "cannot query '%s': %s", db, gm_store_last_error(st));
    gm_store_close(st);
    return GM_EXIT_IOERR;
  }
  struct gm_json j;
  gm_json_init(&j);
  if (json)
    gm_json_begin_array(&j);
  else
    printf("%5s  %-20s %-8s %-10s %10s %13s %13s %-9s %5s  %s\n", "id",
           "started", "kind", "state", "duration", "gross", "net", "energy",
           "exit", "command");
  for (size_t i = 0; i < runs->n; i++) {
    const struct gm_store_run *r = &runs->runs[i];
    long long id = r->id;
    const char *started = r->started_at;
    const char *kind = r->kind;
    bool complete = r->complete;
    double dur = r->duration_s;
    double e = r->energy_j;
    bool have_net = !isnan(r->net_energy_j);
    double net = r->net_energy_j;
    bool have_exit = r->has_exit_code;
    int exit_code = r->exit_code;
    const char *cmd = r->command;
    /* a run without in-total components has no provenance to state */
    const char *prov =
        strcmp(r->provenance, "none") == 0 ? "n/a" : r->provenance;
    if (json) {
      gm_json_begin_object(&j);
      gm_json_key(&j, "id");
      gm_json_int(&j, id);
      gm_json_key(&j, "started_at");
      gm_json_string(&j, started);
      gm_json_key(&j, "host");
      gm_json_begin_object(&j);
      gm_json_key(&j, "id");
      gm_json_int(&j, r->host_id);
      gm_json_key(&j, "hostname");
      gm_json_string(&j, r->hostname);
      gm_json_key(&j, "fingerprint");
      gm_json_string(&j, r->fingerprint);
      gm_json_end_object(&j);
      gm_json_key(&j, "kind");
      gm_json_string(&j, kind);
      gm_json_key(&j, "complete");
      gm_json_bool(&j, complete);
      gm_json_key(&j, "duration_s");
      gm_json_number(&j, dur);
      gm_json_key(&j, "total_energy_j");
      gm_json_number(&j, e);
      gm_json_key(&j, "total_net_energy_j");
      if (have_net)
        gm_json_number(&j, net);
      else
        gm_json_null(&j);
      gm_json_key(&j, "exit_code");
      if (have_exit)
        gm_json_int(&j, exit_code);
      else
        gm_json_null(&j);
      gm_json_key(&j, "command");
      gm_json_string(&j, cmd);
      gm_json_key(&j, "provenance");
      gm_json_string(&j, prov);
      gm_json_key(&j, "incomplete_cause");
      if (r->incomplete_cause)
        gm_json_string(&j, r->incomplete_cause);
      else
        gm_json_null(&j);
      gm_json_key(&j, "lost_samples");
      if (r->lost_samples >= 0)
        gm_json_int(&j, r->lost_samples);
      else
        gm_json_null(&j);
      gm_json_key(&j, "stored_until_s");
      gm_json_number(&j, r->stored_until_s);
      gm_json_key(&j, "total_partial");
      gm_json_bool(&j, r->partial);
      gm_json_key(&j, "attributed");
      if (r->attributed_to) {
        gm_json_begin_object(&j);
        gm_json_key(&j, "to");
        gm_json_string(&j, r->attributed_to);
        gm_json_key(&j, "energy_j");
        gm_json_number(&j, r->attributed_j);
        gm_json_key(&j, "net_energy_j");
        gm_json_number(&j, r->attributed_net_j);
        gm_json_key(&j, "provenance");
        gm_json_string(&j, r->attributed_provenance ? r->attributed_provenance
                                                    : "");
        gm_json_key(&j, "partial");
        gm_json_bool(&j, r->attributed_partial);
        gm_json_end_object(&j);
      } else {
        gm_json_null(&j);
      }
      gm_json_end_object(&j);
    } else {
      char eb[32], nb[32], xb[16], cb[160];
      /* one line per run: control characters of the command become spaces */
      snprintf(cb, sizeof(cb), "%s", cmd ? cmd : "");
      for (char *c = cb; *c; c++)
        if ((unsigned char)*c < 0x20)
          *c = ' ';
      gm_cli_fmt_energy(eb, sizeof(eb), e);
      if (have_net)
        gm_cli_fmt_energy(nb, sizeof(nb), net);
      else
        snprintf(nb, sizeof(nb), "n/a");
      if (have_exit)
        snprintf(xb, sizeof(xb), "%d", exit_code);
      else
        snprintf(xb, sizeof(xb), "-");
      printf("%5lld  %-20s %-8s %-10s %8.3f s %13s %13s %-9s %5s  %s\n", id,
             started, kind, complete ? "complete" : "incomplete", dur, eb, nb,
             prov, xb, cb);
      if (!complete && r->incomplete_cause) {
        char until[64] = "no sample stored";
        if (!isnan(r->stored_until_s))
          snprintf(until, sizeof(until), "samples stored up to %.3f s",
                   r->stored_until_s);
        printf("%7s%s; %s, %lld lost\n", "", r->incomplete_cause, until,
               (long long)(r->lost_samples > 0 ? r->lost_samples : 0));
      }
      if (r->attributed_to) {
        char ab[32], an[32] = "n/a";
        gm_cli_fmt_energy(ab, sizeof(ab), r->attributed_j);
        if (!isnan(r->attributed_net_j))
          gm_cli_fmt_energy(an, sizeof(an), r->attributed_net_j);
        printf("%7sthe command's share: %s gross, %s net [%s%s] (%s)\n", "", ab,
               an, r->attributed_provenance ? r->attributed_provenance : "",
               r->attributed_partial ? ", PARTIAL" : "", r->attributed_to);
      }
      if (r->partial)
        printf("%7spartial total, a lower bound: a component that belongs in "
               "it was missing or lost (runs.partial_why and run_missing in "
               "the database say which)\n",
               "");
    }
  }
  gm_store_run_list_free(runs);
  if (json) {
    gm_json_end_array(&j);
    printf("%s\n", j.buf ? j.buf : "[]");
  }
  gm_json_release(&j);
  gm_store_close(st);
  return 0;
}
