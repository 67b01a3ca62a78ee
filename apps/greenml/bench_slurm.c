/* bench_slurm.c: `greenml bench --slurm`: the study's grid as a Slurm job
 * array. Two batch scripts go into one directory: cells.sbatch, an array
 * with one task per cell of the grid, each running `greenml bench` with the
 * bench's flags and --cell K into the same bench and database; and
 * analyze.sbatch, run after the array (afterany) by `greenml analyze` (and
 * `greenml report` when gnuplot is there). With --submit both go to sbatch;
 * otherwise the commands that submit them are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/store.h"
#include "greenml/version.h"

/* Writes s to f in single quotes, for bash. */
static void put_quoted(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; s++)
    if (*s == '\'')
      fputs("'\\''", f);
    else
      fputc(*s, f);
  fputc('\'', f);
}

/* An absolute form of path (which need not exist) into buf. */
static bool absolute(const char *path, char *buf, size_t size) {
  if (path[0] == '/')
    return (size_t)snprintf(buf, size, "%s", path) < size;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof(cwd)))
    return false;
  if (strncmp(path, "./", 2) == 0)
    path += 2;
  return (size_t)snprintf(buf, size, "%s/%s", cwd, path) < size;
}

/* The job's name: the bench's, with what sbatch lines do not take made
 * '_'. */
static void job_name(const char *name, char *buf, size_t size) {
  size_t n = 0;
  for (const char *p = "greenml-"; *p && n + 1 < size; p++)
    buf[n++] = *p;
  for (const char *p = name; *p && n + 1 < size; p++) {
    char c = *p;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    buf[n++] = keep ? c : '_';
  }
  buf[n] = '\0';
}

/* The #SBATCH lines both scripts share. */
static void put_common(FILE *f, const struct gm_cli_slurm *sl) {
  fputs("#SBATCH --ntasks=1\n", f);
  if (sl->partition)
    fprintf(f, "#SBATCH --partition=%s\n", sl->partition);
  if (sl->time_limit)
    fprintf(f, "#SBATCH --time=%s\n", sl->time_limit);
  for (int i = 0; i < sl->n_opts; i++)
    fprintf(f, "#SBATCH %s\n", sl->opts[i]);
}

/* Runs sbatch with argv (NULL-terminated); its job id (before any
 * ";cluster") into id. */
static bool run_sbatch(char *const *argv, char *id, size_t size) {
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "greenml bench: cannot run %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < size && (r = read(fds[0], id + n, size - 1 - n)) != 0) {
    if (r < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    n += (size_t)r;
  }
  id[n] = '\0';
  close(fds[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  id[strcspn(id, ";\r\n")] = '\0';
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 && id[0];
}

int gm_cli_bench_slurm(const struct gm_cli_slurm *sl, const char *name,
                       const char *db_path, size_t n_cells, int n_args,
                       const char *const *args) {
  char dir[PATH_MAX], db[PATH_MAX], cwd[PATH_MAX], exe[PATH_MAX];
  char given[PATH_MAX + 32];
  if (sl->dir)
    snprintf(given, sizeof(given), "%s", sl->dir);
  else
    snprintf(given, sizeof(given), "greenml-slurm-%s", name);
  /* a database file's path is made absolute; a server's location is kept */
  char file[PATH_MAX];
  bool is_file = gm_store_location_file(db_path, file, sizeof(file));
  if (!is_file)
    snprintf(db, sizeof(db), "%s", db_path);
  if (!absolute(given, dir, sizeof(dir)) ||
      (is_file && !absolute(file, db, sizeof(db))) ||
      !getcwd(cwd, sizeof(cwd))) {
    gm_cli_error("bench", "--slurm: a path is too long");
    return GM_EXIT_USAGE;
  }
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0)
    snprintf(exe, sizeof(exe), "greenml");
  else
    exe[len] = '\0';
  if (!gm_cli_mkdirs(dir)) {
    gm_cli_error("bench", "--slurm-dir: cannot create '%s': %s", dir,
                 strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  char cells[PATH_MAX + 32], analyze[PATH_MAX + 32], jn[160];
  snprintf(cells, sizeof(cells), "%s/cells.sbatch", dir);
  snprintf(analyze, sizeof(analyze), "%s/analyze.sbatch", dir);
  job_name(name, jn, sizeof(jn));

  FILE *f = fopen(cells, "w");
  if (!f) {
    gm_cli_error("bench", "cannot write '%s': %s", cells, strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  fprintf(f,
          "#!/bin/bash\n"
          "# greenml %s: bench '%s' as a job array, one task per cell of the\n"
          "# grid (%zu cells, in the order the bench runs them). A task whose\n"
          "# cell is complete in the database exits at once; a partial one\n"
          "# resumes at its first missing row.\n",
          GM_VERSION_STRING, name, n_cells);
  fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --array=0-%zu\n", jn, n_cells - 1);
  put_common(f, sl);
  fputs("cd ", f);
  put_quoted(f, cwd);
  fputs(" || exit 1\nexec ", f);
  put_quoted(f, exe);
  fputs(" bench", f);
  for (int i = 0; i < n_args; i++) {
    fputc(' ', f);
    put_quoted(f, args[i]);
  }
  fputs(" --run-id ", f);
  put_quoted(f, name);
  fputs(" --db ", f);
  put_quoted(f, db);
  fputs(" --cell \"$SLURM_ARRAY_TASK_ID\"\n", f);
  bool ok = fclose(f) == 0;

  if (ok && (f = fopen(analyze, "w"))) {
    fprintf(f,
            "#!/bin/bash\n"
            "# greenml %s: the analysis of bench '%s' once its array has\n"
            "# ended (submitted with --dependency=afterany:ARRAYJOB)\n",
            GM_VERSION_STRING, name);
    fprintf(f, "#SBATCH --job-name=%s-analyze\n", jn);
    put_common(f, sl);
    fputs("cd ", f);
    put_quoted(f, cwd);
    fputs(" || exit 1\n", f);
    put_quoted(f, exe);
    fputs(" analyze --run ", f);
    put_quoted(f, name);
    fputs(" --db ", f);
    put_quoted(f, db);
    fputs(" >", f);
    char out[PATH_MAX + 32];
    snprintf(out, sizeof(out), "%s/analyze.txt", dir);
    put_quoted(f, out);
    fputs("\nrc=$?\nif command -v gnuplot >/dev/null 2>&1; then\n  ", f);
    put_quoted(f, exe);
    fputs(" report --run ", f);
    put_quoted(f, name);
    fputs(" --db ", f);
    put_quoted(f, db);
    fputs(" --out ", f);
    snprintf(out, sizeof(out), "%s/report.html", dir);
    put_quoted(f, out);
    fputs(" || rc=$?\nfi\nexit $rc\n", f);
    ok = fclose(f) == 0;
  } else {
    ok = false;
  }
  if (!ok) {
    gm_cli_error("bench", "cannot write the scripts in '%s': %s", dir,
                 strerror(errno));
    return GM_EXIT_CANTCREAT;
  }

  char out_cells[PATH_MAX + 32], out_an[PATH_MAX + 32];
  snprintf(out_cells, sizeof(out_cells), "--output=%s/cell-%%a.out", dir);
  snprintf(out_an, sizeof(out_an), "--output=%s/analyze.out", dir);
  printf("bench '%s': %zu cells as a Slurm job array; scripts in '%s'\n", name,
         n_cells, dir);
  if (!sl->submit) {
    printf("submit with:\n  array=$(sbatch --parsable ");
    put_quoted(stdout, out_cells);
    putchar(' ');
    put_quoted(stdout, cells);
    printf(")\n  sbatch --parsable ");
    put_quoted(stdout, out_an);
    printf(" --dependency=afterany:\"${array%%%%;*}\" ");
    put_quoted(stdout, analyze);
    putchar('\n');
    return 0;
  }
  char array_id[64], an_id[64], dep[96];
  char sb[] = "sbatch", parsable[] = "--parsable";
  char *argv1[] = {sb, parsable, out_cells, cells, NULL};
  if (!run_sbatch(argv1, array_id, sizeof(array_id))) {
    gm_cli_error("bench", "sbatch did not accept '%s' (its message is above)",
                 cells);
    return GM_EXIT_UNAVAIL;
  }
  printf("array job %s (%zu tasks)\n", array_id, n_cells);
  fflush(stdout);
  snprintf(dep, sizeof(dep), "--dependency=afterany:%s", array_id);
  char *argv2[] = {sb, parsable, out_an, dep, analyze, NULL};
  if (!run_sbatch(argv2, an_id, sizeof(an_id))) {
    gm_cli_error("bench",
                 "sbatch did not accept '%s' (its message is above); the "
                 "array %s runs without it",
                 analyze, array_id);
    return GM_EXIT_UNAVAIL;
  }
  printf("analysis job %s (after the array)\n", an_id);
  return 0;
}
