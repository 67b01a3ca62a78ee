/* results_load.c: the bench results analyze, estimate and export read: a
 * database that must already hold benches, and the --run selection. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int gm_cli_load_results(const char *cmd, const char *db, const char *run,
                        char *path, size_t path_size, struct gm_store **st,
                        struct gm_analysis_table **t) {
  *st = NULL;
  *t = NULL;
  if (db)
    snprintf(path, path_size, "%s", db);
  else if (!gm_cli_default_db(path, path_size)) {
    gm_cli_error(cmd, "cannot build the database path; pass --db PATH");
    return GM_EXIT_USAGE;
  }
  char fix[1200];
  snprintf(fix, sizeof(fix),
           "record a bench first with 'greenml bench --db %s', or pass --db "
           "PATH",
           path);
  int ec = gm_cli_open_store_readonly(cmd, path, fix, st);
  if (ec)
    return ec;
  char err[512] = "";
  enum gm_status rc = gm_analysis_load(*st, run, t, err, sizeof(err));
  if (rc == GM_ERR_NOT_FOUND) {
    gm_cli_error(cmd,
                 "%s in '%s'; 'greenml analyze --db %s' lists the benches "
                 "(--run takes a bench's name or id)",
                 err, path, path);
    ec = GM_EXIT_NOINPUT;
  } else if (rc != GM_OK) {
    gm_cli_error(cmd, "%s", err[0] ? err : gm_status_str(rc));
    ec = rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE : GM_EXIT_IOERR;
  } else if ((*t)->n_benches == 0) {
    gm_cli_error(cmd,
                 "'%s' holds no bench: run one first, e.g. 'greenml bench "
                 "--db %s --quick' (the analysis reads the tables it "
                 "writes)",
                 path, path);
    ec = GM_EXIT_DATAERR;
  }
  if (ec) {
    gm_analysis_table_free(*t);
    *t = NULL;
    gm_store_close(*st);
    *st = NULL;
  }
  return ec;
}
