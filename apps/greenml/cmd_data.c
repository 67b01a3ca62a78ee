/* cmd_data.c: `greenml data`: download CIFAR-10 (fetch), write a synthetic
 * stand-in in the same format (synth), validate a directory (check). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/data.h"

#define DEFAULT_DIR "data"
#define DEFAULT_SEED 1
#define DEFAULT_TRAIN_PER_BATCH 1000
#define DEFAULT_TEST 1000

static const char usage_text[] =
    "usage: greenml data <subcommand> [options]\n"
    "\n"
    "  fetch cifar10 [--dir D] [--url URL] [--md5 HEX] [limits]\n"
    "                 download the CIFAR-10 binary archive, verify its MD5,\n"
    "                 extract the six .bin files into D and validate them\n"
    "  synth [--dir D] [--seed S] [--train-per-batch N] [--test N]\n"
    "                 write a synthetic data set in the CIFAR-10 format\n"
    "  check [--dir D] validate D and print the images per class\n"
    "\n"
    "D defaults to ./" DEFAULT_DIR ". 'greenml data <subcommand> --help' "
    "describes each.\n";

static const char fetch_usage[] =
    "usage: greenml data fetch cifar10 [--dir D] [--url URL] [--md5 HEX]\n"
    "                                  [--max-filesize N] [--connect-timeout "
    "S]\n"
    "                                  [--speed-limit B] [--speed-time S]\n"
    "\n"
    "Downloads the CIFAR-10 binary archive into D/" GM_CIFAR10_ARCHIVE
    ".part,\n"
    "verifies its MD5, extracts data_batch_1..5.bin and test_batch.bin into "
    "D\n"
    "and validates them; the archive is deleted afterwards. Nothing is\n"
    "downloaded when D already holds a valid CIFAR-10.\n"
    "\n"
    "  --dir D     directory of the data set (default ./" DEFAULT_DIR
    ", created)\n"
    "  --url URL   http(s) URL of the archive (default\n"
    "              " GM_CIFAR10_URL "),\n"
    "              or file:///path/to/" GM_CIFAR10_ARCHIVE " for a copy on\n"
    "              disk\n"
    "  --md5 HEX   expected MD5 of the archive (default\n"
    "              " GM_CIFAR10_MD5 ", the official one)\n"
    "\n"
    "Limits (an error names the one reached; the .part file is deleted):\n"
    "  --max-filesize N     largest download, bytes, or with K, M or G\n"
    "                       (KiB, MiB, GiB; default 256M; the archive is\n"
    "                       170052171 bytes)\n"
    "  --connect-timeout S  seconds to connect (default 30)\n"
    "  --speed-limit B      abandon a transfer slower than B bytes/s ...\n"
    "  --speed-time S       ... for S seconds in a row (defaults 1024, 60)\n"
    "Each extracted batch file may not exceed its known size (30730000\n"
    "bytes); the archive is extracted into a private directory of D and\n"
    "installed only when it validates.\n"
    "\n"
    "Progress is shown when stderr is a terminal. Exit status: 0 done, 64\n"
    "usage, 65 checksum mismatch, bad archive or a size limit passed, 73 D\n"
    "cannot be created, 74 network, HTTP, timeout or write error.\n"
    "\n"
    "Offline, 'greenml train --data synthetic' (and infer, bench) use\n"
    "generated data in the same format instead.\n";

static const char synth_usage[] =
    "usage: greenml data synth [--dir D] [--seed S] [--train-per-batch N] "
    "[--test N]\n"
    "\n"
    "Writes a synthetic data set in the CIFAR-10 binary format into D (NOT\n"
    "CIFAR-10): each class is stripes of its own orientation and period\n"
    "between two colours of its own, with noise; a small CNN learns it. D\n"
    "gets " GM_CIFAR10_MANIFEST " with the seed and counts, which the loader\n"
    "reads. The bytes depend on the seed only.\n"
    "\n"
    "  --dir D               output directory (default ./" DEFAULT_DIR
    ", created)\n"
    "  --seed S              random seed, 0 .. 2^64-1 (default 1)\n"
    "  --train-per-batch N   images per training file, 1 .. 10000 (default "
    "1000)\n"
    "  --test N              images in test_batch.bin, 1 .. 10000 (default "
    "1000)\n";

static const char check_usage[] =
    "usage: greenml data check [--dir D]\n"
    "\n"
    "Validates the CIFAR-10 files of D (default ./" DEFAULT_DIR
    "): presence, sizes,\n"
    "labels; prints the number of images per class in each split. Exit\n"
    "status: 0 valid, 65 bad data, 66 files missing.\n";

static const char *const class_names[GM_CIFAR10_CLASSES] = {
    "airplane", "automobile", "bird",  "cat",  "deer",
    "dog",      "frog",       "horse", "ship", "truck"};

static int exit_for(enum gm_status rc) {
  switch (rc) {
  case GM_OK:
    return 0;
  case GM_ERR_INVALID_ARG:
    return GM_EXIT_USAGE;
  case GM_ERR_NOT_FOUND:
    return GM_EXIT_NOINPUT;
  case GM_ERR_PARSE:
    return GM_EXIT_DATAERR;
  case GM_ERR_PERMISSION:
    return GM_EXIT_CANTCREAT;
  case GM_ERR_IO:
    return GM_EXIT_IOERR;
  case GM_ERR_UNAVAILABLE:
    return GM_EXIT_UNAVAIL;
  default:
    return GM_EXIT_SOFTWARE;
  }
}

/* Creates the output directory and checks that it is writable; prints the
 * error and returns 73 otherwise. */
static int prepare_dir(const char *cmd, const char *dir) {
  if (!gm_cli_mkdirs(dir) || access(dir, W_OK | X_OK) != 0) {
    gm_cli_error(cmd, "cannot create files in '%s': %s; pass --dir DIR", dir,
                 strerror(errno));
    return GM_EXIT_CANTCREAT;
  }
  return 0;
}

static bool parse_count(const char *s, size_t *out) {
  char *end;
  errno = 0;
  if (!s || *s < '0' || *s > '9')
    return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < 1 || v > GM_CIFAR10_SYNTH_MAX)
    return false;
  *out = (size_t)v;
  return true;
}

/* ---- fetch --------------------------------------------------------------- */

struct progress {
  bool tty;
  bool shown;
  struct timespec last;
};

static void on_progress(uint64_t done, uint64_t total, void *ctx) {
  struct progress *p = ctx;
  if (!p->tty)
    return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double dt = (double)(now.tv_sec - p->last.tv_sec) +
              (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
  if (p->shown && dt < 0.25 && done != total)
    return;
  p->last = now;
  p->shown = true;
  if (total)
    fprintf(stderr, "\rdownloading: %.1f of %.1f MB (%3.0f%%)  ",
            (double)done / 1e6, (double)total / 1e6,
            100.0 * (double)done / (double)total);
  else
    fprintf(stderr, "\rdownloading: %.1f MB  ", (double)done / 1e6);
  fflush(stderr);
}

/* A positive integer, with an optional K, M or G (1024-based) suffix when
 * suffixed; at most max. */
static bool parse_limit(const char *s, bool suffixed, uint64_t max,
                        uint64_t *out) {
  char *end;
  errno = 0;
  if (!s || *s < '0' || *s > '9')
    return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || v == 0)
    return false;
  unsigned shift = 0;
  if (suffixed && *end) {
    shift = *end == 'K' || *end == 'k'   ? 10
            : *end == 'M' || *end == 'm' ? 20
            : *end == 'G' || *end == 'g' ? 30
                                         : 64;
    if (shift == 64)
      return false;
    end++;
    if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
      end += strlen(end);
  }
  if (*end || v > (max >> shift))
    return false;
  *out = (uint64_t)v << shift;
  return true;
}

static bool is_md5(const char *s) {
  if (strlen(s) != 32)
    return false;
  for (; *s; s++)
    if (!strchr("0123456789abcdefABCDEF", *s))
      return false;
  return true;
}

static int data_fetch(int argc, char **argv) {
  const char *dir = DEFAULT_DIR, *url = NULL, *md5 = NULL;
  struct gm_cifar10_fetch_limits lim = gm_cifar10_fetch_limits_default();
  enum { O_MAX = 256, O_CONNECT, O_SPEED, O_SPEED_TIME };
  static const struct option longopts[] = {{"dir", 1, 0, 'd'},
                                           {"url", 1, 0, 'u'},
                                           {"md5", 1, 0, 'm'},
                                           {"max-filesize", 1, 0, O_MAX},
                                           {"connect-timeout", 1, 0, O_CONNECT},
                                           {"speed-limit", 1, 0, O_SPEED},
                                           {"speed-time", 1, 0, O_SPEED_TIME},
                                           {"help", 0, 0, 'h'},
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    uint64_t v = 0;
    switch (opt) {
    case O_MAX:
      if (!parse_limit(optarg, true, UINT64_C(1) << 40, &v)) {
        gm_cli_error("data fetch",
                     "--max-filesize '%s' is not a size from 1 byte to 1T "
                     "(bytes, or with K, M or G: 300M)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      lim.max_archive_bytes = v;
      break;
    case O_CONNECT:
    case O_SPEED:
    case O_SPEED_TIME:
      if (!parse_limit(optarg, false, 1000000000, &v)) {
        gm_cli_error("data fetch", "--%s '%s' is not a positive integer",
                     opt == O_CONNECT ? "connect-timeout"
                     : opt == O_SPEED ? "speed-limit"
                                      : "speed-time",
                     optarg);
        return GM_EXIT_USAGE;
      }
      if (opt == O_CONNECT)
        lim.connect_timeout_s = (long)v;
      else if (opt == O_SPEED)
        lim.low_speed_bytes_per_s = (long)v;
      else
        lim.low_speed_time_s = (long)v;
      break;
    case 'd':
      dir = optarg;
      break;
    case 'u':
      url = optarg;
      break;
    case 'm':
      md5 = optarg;
      break;
    case 'h':
      fputs(fetch_usage, stdout);
      return 0;
    default:
      fputs(fetch_usage, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    gm_cli_error("data fetch", "which data set? the one known is 'cifar10' "
                               "(greenml data fetch cifar10)");
    return GM_EXIT_USAGE;
  }
  if (strcmp(argv[optind], "cifar10") != 0) {
    gm_cli_error("data fetch",
                 "unknown data set '%s'; the one known is 'cifar10'",
                 argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (optind + 1 < argc) {
    gm_cli_error("data fetch", "unexpected argument '%s'", argv[optind + 1]);
    return GM_EXIT_USAGE;
  }
  if (!*dir) {
    gm_cli_error("data fetch", "--dir '' is not a directory name");
    return GM_EXIT_USAGE;
  }
  if (md5 && !is_md5(md5)) {
    gm_cli_error("data fetch",
                 "--md5 '%s' is not an MD5 (32 hexadecimal digits)", md5);
    return GM_EXIT_USAGE;
  }
  bool file_url = url && strncasecmp(url, "file://", 7) == 0;
  if (url && !file_url && strncasecmp(url, "http://", 7) != 0 &&
      strncasecmp(url, "https://", 8) != 0) {
    gm_cli_error("data fetch",
                 "--url '%s' is not an http://, https:// or file:// URL", url);
    return GM_EXIT_USAGE;
  }
  int ec = prepare_dir("data fetch", dir);
  if (ec)
    return ec;
  struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
  struct gm_cifar10_fetch_info info;
  char err[2048];
  if (p.tty)
    fprintf(stderr, "fetching %s into '%s'\n", url ? url : GM_CIFAR10_URL, dir);
  enum gm_status rc = gm_cifar10_fetch_ex(url, dir, md5, &lim, on_progress, &p,
                                          &info, err, sizeof(err));
  if (p.shown)
    fputc('\n', stderr);
  if (rc != GM_OK && info.transfer_failed && !file_url) {
    gm_cli_error(
        "data fetch",
        "%s; offline, 'greenml train --data synthetic' (and infer, "
        "bench) use generated data instead, and an archive already "
        "on disk installs with --url file:///path/to/" GM_CIFAR10_ARCHIVE,
        err);
    return exit_for(rc);
  }
  if (rc != GM_OK) {
    gm_cli_error("data fetch", "%s", err);
    return exit_for(rc);
  }
  if (info.already_present) {
    printf("'%s' already holds a valid CIFAR-10 (50000 training, 10000 test "
           "images): nothing to do\n",
           dir);
    return 0;
  }
  printf("%s archive '%s' (%llu bytes, MD5 %s verified)\n",
         info.reused_archive ? "reused the" : "downloaded the",
         info.archive_path, (unsigned long long)info.archive_bytes, info.md5);
  printf("installed and validated %s in '%s'; the archive was deleted\n",
         "data_batch_1..5.bin and test_batch.bin", dir);
  return 0;
}

/* ---- synth --------------------------------------------------------------- */

static int data_synth(int argc, char **argv) {
  const char *dir = DEFAULT_DIR;
  uint64_t seed = DEFAULT_SEED;
  size_t train = DEFAULT_TRAIN_PER_BATCH, test = DEFAULT_TEST;
  static const struct option longopts[] = {
      {"dir", 1, 0, 'd'},  {"seed", 1, 0, 's'}, {"train-per-batch", 1, 0, 'n'},
      {"test", 1, 0, 't'}, {"help", 0, 0, 'h'}, {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'd':
      dir = optarg;
      break;
    case 's': {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (optarg[0] < '0' || optarg[0] > '9' || errno || *end) {
        gm_cli_error("data synth",
                     "--seed '%s' is not an integer from 0 to "
                     "18446744073709551615",
                     optarg);
        return GM_EXIT_USAGE;
      }
      seed = (uint64_t)v;
      break;
    }
    case 'n':
      if (!parse_count(optarg, &train)) {
        gm_cli_error("data synth",
                     "--train-per-batch '%s' is not a count from 1 to %d",
                     optarg, GM_CIFAR10_SYNTH_MAX);
        return GM_EXIT_USAGE;
      }
      break;
    case 't':
      if (!parse_count(optarg, &test)) {
        gm_cli_error("data synth", "--test '%s' is not a count from 1 to %d",
                     optarg, GM_CIFAR10_SYNTH_MAX);
        return GM_EXIT_USAGE;
      }
      break;
    case 'h':
      fputs(synth_usage, stdout);
      return 0;
    default:
      fputs(synth_usage, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("data synth", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (!*dir) {
    gm_cli_error("data synth", "--dir '' is not a directory name");
    return GM_EXIT_USAGE;
  }
  int ec = prepare_dir("data synth", dir);
  if (ec)
    return ec;
  char err[2048];
  enum gm_status rc =
      gm_cifar10_synth(dir, seed, train, test, err, sizeof(err));
  if (rc != GM_OK) {
    gm_cli_error("data synth", "%s", err);
    return exit_for(rc);
  }
  printf("wrote a synthetic data set in the CIFAR-10 format to '%s': 5 x %zu "
         "training and %zu test images, seed %llu (not CIFAR-10: see "
         "'%s/%s')\n",
         dir, train, test, (unsigned long long)seed, dir, GM_CIFAR10_MANIFEST);
  return 0;
}

/* ---- check --------------------------------------------------------------- */

static int data_check(int argc, char **argv) {
  const char *dir = DEFAULT_DIR;
  static const struct option longopts[] = {
      {"dir", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'd':
      dir = optarg;
      break;
    case 'h':
      fputs(check_usage, stdout);
      return 0;
    default:
      fputs(check_usage, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("data check", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  size_t counts[2][GM_CIFAR10_CLASSES];
  size_t totals[2];
  bool synthetic = false;
  char err[2048];
  for (int s = 0; s < 2; s++) {
    struct gm_cifar10 *ds = NULL;
    enum gm_status rc =
        gm_cifar10_open(dir, s == 0 ? GM_CIFAR10_TRAIN : GM_CIFAR10_TEST, &ds,
                        err, sizeof(err));
    if (rc != GM_OK) {
      gm_cli_error("data check", "%s", err);
      return exit_for(rc);
    }
    gm_cifar10_class_counts(ds, counts[s]);
    totals[s] = gm_cifar10_count(ds);
    synthetic = gm_cifar10_is_synthetic(ds);
    gm_cifar10_close(ds);
  }
  printf("'%s': %s, valid\n", dir,
         synthetic
             ? "synthetic data set in the CIFAR-10 format (" GM_CIFAR10_MANIFEST
               ")"
             : "CIFAR-10 (official file sizes)");
  printf("%-14s %8s %8s\n", "class", "train", "test");
  for (int c = 0; c < GM_CIFAR10_CLASSES; c++)
    printf("%d %-12s %8zu %8zu\n", c, class_names[c], counts[0][c],
           counts[1][c]);
  printf("%-14s %8zu %8zu\n", "total", totals[0], totals[1]);
  return 0;
}

int cmd_data(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stderr);
    return GM_EXIT_USAGE;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
      strcmp(sub, "help") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  /* getopt's messages name "greenml data SUB" */
  static char self[32];
  int (*fn)(int, char **) = strcmp(sub, "fetch") == 0   ? data_fetch
                            : strcmp(sub, "synth") == 0 ? data_synth
                            : strcmp(sub, "check") == 0 ? data_check
                                                        : NULL;
  if (fn) {
    snprintf(self, sizeof(self), "greenml data %s", sub);
    argv[1] = self;
    return fn(argc - 1, argv + 1);
  }
  gm_cli_error("data",
               "'%s' is not a data subcommand (fetch, synth, check); run "
               "'greenml data --help'",
               sub);
  return GM_EXIT_USAGE;
}
