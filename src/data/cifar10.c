/* cifar10.c: the CIFAR-10 binary format: loading with validation, batches
 * (normalisation, augmentation), the random numbers behind them, and the
 * synthetic stand-in. See include/greenml/data.h and docs/data.md. */
#define _GNU_SOURCE
#include "data/cifar10_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fileio.h"
#include "base/util.h"

/* Largest manifest read: a few hundred bytes are written. */
#define MANIFEST_MAX_BYTES ((size_t)64 << 10)

struct gm_cifar10 {
  size_t count;
  bool synthetic;
  uint64_t seed; /* the manifest's, for a synthetic set */
  enum gm_cifar10_split split;
  uint32_t crc32; /* of the split's files, in order */
  char dir[GM__DATA_PATH_MAX];
  uint8_t *labels; /* count */
  uint8_t *pixels; /* count x GM_CIFAR10_PIXELS */
};

static const char *const file_names[GM_CIFAR10_TRAIN_FILES + 1] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};

const char *gm_cifar10_file_name(unsigned file) {
  return file <= GM_CIFAR10_TRAIN_FILES ? file_names[file] : NULL;
}

/* ---- random numbers: splitmix64 ---------------------------------------- */

uint64_t gm_data_rng_next(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

uint64_t gm_data_rng_below(uint64_t *state, uint64_t n) {
  if (n == 0)
    return 0;
  /* 2^64 mod n: outputs below it would make the low residues likelier. */
  uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = gm_data_rng_next(state);
    if (x >= threshold)
      return x % n;
  }
}

void gm_data_shuffle(uint32_t *order, size_t n, uint64_t *rng_state) {
  if (!order || !rng_state || n < 2)
    return;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)gm_data_rng_below(rng_state, (uint64_t)i + 1);
    uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/* A state for stream `stream` of seed: distinct streams start far apart. */
static uint64_t stream_state(uint64_t seed, uint64_t stream) {
  uint64_t s = seed ^ (UINT64_C(0xD1B54A32D192ED03) * (stream + 1));
  return gm_data_rng_next(&s);
}

void gm_cifar10_epoch_order(uint32_t *order, size_t n, uint64_t seed,
                            uint64_t epoch) {
  if (!order)
    return;
  for (size_t i = 0; i < n; i++)
    order[i] = (uint32_t)i;
  uint64_t st = stream_state(seed, epoch);
  gm_data_shuffle(order, n, &st);
}

/* ---- the manifest of a synthetic data set ------------------------------ */

struct manifest {
  bool present;
  uint64_t seed;
  uint64_t train_per_batch;
  uint64_t test_count;
};

#define MANIFEST_FORMAT "greenml-synthetic-cifar10 1"

static enum gm_status read_manifest(const char *dir, struct manifest *m,
                                    char *err, size_t err_size) {
  memset(m, 0, sizeof(*m));
  char path[GM__DATA_PATH_MAX];
  enum gm_status rc = gm__data_path(path, sizeof(path), dir,
                                    GM_CIFAR10_MANIFEST, err, err_size);
  if (rc != GM_OK)
    return rc;
  char *text = NULL;
  size_t len = 0;
  char why[128];
  rc = gm__file_read_max(path, MANIFEST_MAX_BYTES, &text, &len, why,
                         sizeof(why));
  if (rc != GM_OK) {
    if (errno == ENOENT)
      return GM_OK; /* an official data set */
    gm__data_err(err, err_size,
                 "cannot read '%s': %s: run 'greenml data synth --dir %s' to "
                 "regenerate it",
                 path, why, dir);
    return rc;
  }
  bool have_format = false, have_seed = false, have_train = false,
       have_test = false;
  int lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
      line[--n] = '\0';
    if (n == 0 || line[0] == '#')
      continue;
    char *sp = strchr(line, ' ');
    const char *value = sp ? sp + 1 : "";
    if (sp)
      *sp = '\0';
    uint64_t v = 0;
    if (strcmp(line, "format") == 0 && strcmp(value, MANIFEST_FORMAT) == 0) {
      have_format = true;
    } else if (strcmp(line, "seed") == 0 && gm__parse_u64(value, &v)) {
      m->seed = v;
      have_seed = true;
    } else if (strcmp(line, "train_per_batch") == 0 &&
               gm__parse_u64(value, &v) && v >= 1 &&
               v <= GM_CIFAR10_SYNTH_MAX) {
      m->train_per_batch = v;
      have_train = true;
    } else if (strcmp(line, "test_count") == 0 && gm__parse_u64(value, &v) &&
               v >= 1 && v <= GM_CIFAR10_SYNTH_MAX) {
      m->test_count = v;
      have_test = true;
    } else {
      gm__data_err(err, err_size,
                   "'%s' line %d: '%s%s%s' is not one of 'format %s', 'seed "
                   "N', 'train_per_batch N', 'test_count N' (N from 1 to %d): "
                   "run 'greenml data synth --dir %s' to regenerate it",
                   path, lineno, line, sp ? " " : "", value, MANIFEST_FORMAT,
                   GM_CIFAR10_SYNTH_MAX, dir);
      free(text);
      return GM_ERR_PARSE;
    }
  }
  free(text);
  if (!have_format || !have_seed || !have_train || !have_test) {
    gm__data_err(err, err_size,
                 "'%s' lacks the '%s' line: run 'greenml data synth --dir %s' "
                 "to regenerate it",
                 path,
                 !have_format  ? "format"
                 : !have_seed  ? "seed"
                 : !have_train ? "train_per_batch"
                               : "test_count",
                 dir);
    return GM_ERR_PARSE;
  }
  m->present = true;
  return GM_OK;
}

/* ---- loading ----------------------------------------------------------- */

/* The command that repairs dir, for messages. */
static void fix_text(char *buf, size_t size, const char *dir,
                     const struct manifest *m) {
  if (m->present)
    gm__fmt(buf, size,
            "run 'greenml data synth --dir %s --seed %llu --train-per-batch "
            "%llu --test %llu' to regenerate it",
            dir, (unsigned long long)m->seed,
            (unsigned long long)m->train_per_batch,
            (unsigned long long)m->test_count);
  else
    gm__fmt(buf, size, "run 'greenml data fetch cifar10 --dir %s'", dir);
}

static enum gm_status read_full(int fd, uint8_t *buf, size_t len, size_t *got) {
  *got = 0;
  while (*got < len) {
    ssize_t n = read(fd, buf + *got, len - *got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return GM_ERR_IO;
    }
    if (n == 0)
      break;
    *got += (size_t)n;
  }
  return GM_OK;
}

/* Reads `records` records of path into ds from image index `first`. */
static enum gm_status load_file(struct gm_cifar10 *ds, size_t first,
                                size_t records, const char *path,
                                const char *fix, uint8_t *chunk,
                                size_t chunk_records, char *err,
                                size_t err_size) {
  int fd = -1;
  char why[128];
  enum gm_status rc = gm__file_open_regular(path, &fd, NULL, why, sizeof(why));
  if (rc != GM_OK) {
    int e = errno;
    if (rc == GM_ERR_PARSE)
      gm__data_err(err, err_size, "'%s' is %s: %s", path, why, fix);
    else
      gm__data_err(err, err_size, "cannot read '%s': %s", path, why);
    return e == ENOENT ? GM_ERR_NOT_FOUND : rc;
  }
  size_t done = 0;
  while (done < records) {
    size_t want = records - done;
    if (want > chunk_records)
      want = chunk_records;
    size_t got = 0;
    if (read_full(fd, chunk, want * GM_CIFAR10_RECORD_BYTES, &got) != GM_OK) {
      gm__data_err(err, err_size, "cannot read '%s': %s", path,
                   strerror(errno));
      rc = GM_ERR_IO;
      goto out;
    }
    if (got != want * GM_CIFAR10_RECORD_BYTES) {
      gm__data_err(err, err_size,
                   "'%s' ended after %zu bytes while being read (changed "
                   "meanwhile?): %s",
                   path, done * GM_CIFAR10_RECORD_BYTES + got, fix);
      rc = GM_ERR_PARSE;
      goto out;
    }
    ds->crc32 =
        (uint32_t)crc32_z(ds->crc32, chunk, want * GM_CIFAR10_RECORD_BYTES);
    for (size_t r = 0; r < want; r++) {
      const uint8_t *rec = chunk + r * GM_CIFAR10_RECORD_BYTES;
      if (rec[0] >= GM_CIFAR10_CLASSES) {
        size_t idx = done + r;
        gm__data_err(err, err_size,
                     "'%s' record %zu (byte offset %zu) has label %u, "
                     "expected 0..9 (corrupt file): %s",
                     path, idx, idx * GM_CIFAR10_RECORD_BYTES, (unsigned)rec[0],
                     fix);
        rc = GM_ERR_PARSE;
        goto out;
      }
      size_t dst = first + done + r;
      ds->labels[dst] = rec[0];
      memcpy(ds->pixels + dst * GM_CIFAR10_PIXELS, rec + 1, GM_CIFAR10_PIXELS);
    }
    done += want;
  }
out:
  close(fd);
  return rc;
}

enum gm_status gm_cifar10_open(const char *dir, enum gm_cifar10_split split,
                               struct gm_cifar10 **out, char *err,
                               size_t err_size) {
  if (out)
    *out = NULL;
  gm__data_err(err, err_size, "%s", "");
  if (!dir || !out || (split != GM_CIFAR10_TRAIN && split != GM_CIFAR10_TEST)) {
    gm__data_err(err, err_size, "gm_cifar10_open: NULL or invalid argument");
    return GM_ERR_INVALID_ARG;
  }
  enum gm_status rc;
  struct gm_cifar10 *ds = NULL;
  uint8_t *chunk = NULL;
  struct manifest m;
  char fix[GM__DATA_PATH_MAX + 128];
  char path[GM__DATA_PATH_MAX];

  struct stat st;
  int sr = stat(dir, &st);
  if (sr != 0 || !S_ISDIR(st.st_mode)) {
    int e = sr != 0 ? errno : ENOTDIR;
    bool missing = e == ENOENT || e == ENOTDIR;
    gm__data_err(err, err_size,
                 "'%s' %s: run 'greenml data fetch cifar10 --dir %s' to "
                 "download CIFAR-10, or 'greenml data synth --dir %s' for a "
                 "synthetic stand-in",
                 dir,
                 e == ENOENT    ? "does not exist"
                 : e == ENOTDIR ? "is not a directory"
                                : strerror(e),
                 dir, dir);
    rc = missing ? GM_ERR_NOT_FOUND : gm__status_from_errno(e);
    goto fail;
  }
  rc = read_manifest(dir, &m, err, err_size);
  if (rc != GM_OK)
    goto fail;
  fix_text(fix, sizeof(fix), dir, &m);

  unsigned first_file = split == GM_CIFAR10_TRAIN ? 0 : GM_CIFAR10_TRAIN_FILES;
  unsigned nfiles = split == GM_CIFAR10_TRAIN ? GM_CIFAR10_TRAIN_FILES : 1;
  size_t per_file = GM_CIFAR10_FILE_RECORDS;
  if (m.present)
    per_file =
        (size_t)(split == GM_CIFAR10_TRAIN ? m.train_per_batch : m.test_count);

  /* Every file present first, so that a missing one is reported as such. */
  unsigned missing = 0;
  char first_missing[GM__DATA_PATH_MAX] = "";
  for (unsigned f = first_file; f < first_file + nfiles; f++) {
    rc = gm__data_path(path, sizeof(path), dir, file_names[f], err, err_size);
    if (rc != GM_OK)
      goto fail;
    if (stat(path, &st) != 0) {
      int e = errno;
      if (e != ENOENT) {
        gm__data_err(err, err_size, "cannot read '%s': %s", path, strerror(e));
        rc = gm__status_from_errno(e);
        goto fail;
      }
      if (missing++ == 0)
        gm__strlcpy(first_missing, path, sizeof(first_missing));
    }
  }
  if (missing) {
    if (m.present)
      gm__data_err(
          err, err_size, "'%s' does not exist (%u of %u %s missing): %s",
          first_missing, missing, nfiles, nfiles == 1 ? "file" : "files", fix);
    else
      gm__data_err(err, err_size,
                   "'%s' does not exist (%u of %u %s missing): run 'greenml "
                   "data fetch cifar10 --dir %s' to download CIFAR-10, or "
                   "'greenml data synth --dir %s' for a synthetic stand-in",
                   first_missing, missing, nfiles,
                   nfiles == 1 ? "file" : "files", dir, dir);
    rc = GM_ERR_NOT_FOUND;
    goto fail;
  }
  uint64_t want_bytes = (uint64_t)per_file * GM_CIFAR10_RECORD_BYTES;
  for (unsigned f = first_file; f < first_file + nfiles; f++) {
    gm__data_path(path, sizeof(path), dir, file_names[f], NULL, 0);
    if (stat(path, &st) != 0) {
      int e = errno;
      gm__data_err(err, err_size, "cannot read '%s': %s", path, strerror(e));
      rc = e == ENOENT ? GM_ERR_NOT_FOUND : gm__status_from_errno(e);
      goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
      gm__data_err(err, err_size, "'%s' is %s, not a regular file: %s", path,
                   gm__file_kind(st.st_mode), fix);
      rc = GM_ERR_PARSE;
      goto fail;
    }
    if ((uint64_t)st.st_size != want_bytes) {
      bool small = (uint64_t)st.st_size < want_bytes;
      const char *why = m.present ? (small ? "truncated?" : "too long?")
                        : small   ? "truncated download?"
                                  : "not a CIFAR-10 binary batch?";
      if (m.present)
        gm__data_err(err, err_size,
                     "'%s' is %lld bytes, expected %llu (%zu records, as "
                     "'%s/%s' says; %s): %s",
                     path, (long long)st.st_size,
                     (unsigned long long)want_bytes, per_file, dir,
                     GM_CIFAR10_MANIFEST, why, fix);
      else
        gm__data_err(
            err, err_size, "'%s' is %lld bytes, expected %llu (%s): %s", path,
            (long long)st.st_size, (unsigned long long)want_bytes, why, fix);
      rc = GM_ERR_PARSE;
      goto fail;
    }
  }

  ds = calloc(1, sizeof(*ds));
  if (!ds)
    goto nomem;
  ds->count = per_file * nfiles;
  ds->synthetic = m.present;
  ds->seed = m.present ? m.seed : 0;
  ds->split = split;
  ds->crc32 = (uint32_t)crc32_z(0, Z_NULL, 0);
  gm__strlcpy(ds->dir, dir, sizeof(ds->dir));
  ds->labels = malloc(ds->count);
  ds->pixels = malloc(ds->count * GM_CIFAR10_PIXELS);
  size_t chunk_records = 1000;
  chunk = malloc(chunk_records * GM_CIFAR10_RECORD_BYTES);
  if (!ds->labels || !ds->pixels || !chunk)
    goto nomem;
  for (unsigned f = 0; f < nfiles; f++) {
    gm__data_path(path, sizeof(path), dir, file_names[first_file + f], NULL, 0);
    rc = load_file(ds, (size_t)f * per_file, per_file, path, fix, chunk,
                   chunk_records, err, err_size);
    if (rc != GM_OK)
      goto fail;
  }
  free(chunk);
  *out = ds;
  return GM_OK;
nomem:
  gm__data_err(err, err_size, "out of memory loading '%s'", dir);
  rc = GM_ERR_NO_MEMORY;
fail:
  free(chunk);
  gm_cifar10_close(ds);
  return rc;
}

void gm_cifar10_close(struct gm_cifar10 *ds) {
  if (!ds)
    return;
  free(ds->labels);
  free(ds->pixels);
  free(ds);
}

size_t gm_cifar10_count(const struct gm_cifar10 *ds) {
  return ds ? ds->count : 0;
}

bool gm_cifar10_is_synthetic(const struct gm_cifar10 *ds) {
  return ds && ds->synthetic;
}

void gm_cifar10_identity(const struct gm_cifar10 *ds,
                         struct gm_cifar10_identity *out) {
  if (!out)
    return;
  memset(out, 0, sizeof(*out));
  if (!ds)
    return;
  out->split = ds->split;
  out->synthetic = ds->synthetic;
  out->seed = ds->seed;
  out->count = ds->count;
  out->crc32 = ds->crc32;
  gm__strlcpy(out->dir, ds->dir, sizeof(out->dir));
}

int gm_cifar10_label(const struct gm_cifar10 *ds, size_t i) {
  return ds && i < ds->count ? ds->labels[i] : 0;
}

const uint8_t *gm_cifar10_image(const struct gm_cifar10 *ds, size_t i) {
  return ds && i < ds->count ? ds->pixels + i * GM_CIFAR10_PIXELS : NULL;
}

void gm_cifar10_class_counts(const struct gm_cifar10 *ds,
                             size_t counts[GM_CIFAR10_CLASSES]) {
  if (!counts)
    return;
  memset(counts, 0, GM_CIFAR10_CLASSES * sizeof(counts[0]));
  if (!ds)
    return;
  for (size_t i = 0; i < ds->count; i++)
    counts[ds->labels[i]]++;
}

size_t gm_cifar10_replicated_count(const struct gm_cifar10 *ds,
                                   unsigned replicas) {
  return ds ? ds->count * replicas : 0;
}

uint32_t gm_cifar10_replicated_index(const struct gm_cifar10 *ds, size_t i) {
  return ds && ds->count ? (uint32_t)(i % ds->count) : 0;
}

/* ---- batches ----------------------------------------------------------- */

enum gm_status gm_cifar10_batch(const struct gm_cifar10 *ds,
                                const uint32_t *indices, size_t n, bool augment,
                                uint64_t *rng_state, float *out_nchw,
                                int32_t *labels) {
  if (!ds || (n > 0 && (!indices || !out_nchw)) || (augment && !rng_state))
    return GM_ERR_INVALID_ARG;
  for (size_t k = 0; k < n; k++)
    if (indices[k] >= ds->count)
      return GM_ERR_INVALID_ARG;

  static const double mean[GM_CIFAR10_CHANNELS] = {
      GM_CIFAR10_MEAN_R, GM_CIFAR10_MEAN_G, GM_CIFAR10_MEAN_B};
  static const double sd[GM_CIFAR10_CHANNELS] = {
      GM_CIFAR10_STD_R, GM_CIFAR10_STD_G, GM_CIFAR10_STD_B};
  float table[GM_CIFAR10_CHANNELS][256];
  for (int c = 0; c < GM_CIFAR10_CHANNELS; c++)
    for (int v = 0; v < 256; v++)
      table[c][v] = (float)(((double)v / 255.0 - mean[c]) / sd[c]);

  const int side = GM_CIFAR10_SIDE, pad = 4;
  for (size_t k = 0; k < n; k++) {
    const uint8_t *src = ds->pixels + (size_t)indices[k] * GM_CIFAR10_PIXELS;
    float *dst = out_nchw + k * GM_CIFAR10_PIXELS;
    if (labels)
      labels[k] = ds->labels[indices[k]];
    if (!augment) {
      for (int c = 0; c < GM_CIFAR10_CHANNELS; c++)
        for (int p = 0; p < GM_CIFAR10_PLANE; p++)
          dst[c * GM_CIFAR10_PLANE + p] =
              table[c][src[c * GM_CIFAR10_PLANE + p]];
      continue;
    }
    /* RandomCrop(32, padding=4): window at (dy, dx) of the 40 x 40 padded
     * image; then RandomHorizontalFlip(0.5). */
    int dy = (int)gm_data_rng_below(rng_state, 2 * pad + 1);
    int dx = (int)gm_data_rng_below(rng_state, 2 * pad + 1);
    bool flip = (gm_data_rng_next(rng_state) >> 63) != 0;
    for (int c = 0; c < GM_CIFAR10_CHANNELS; c++) {
      const uint8_t *plane = src + c * GM_CIFAR10_PLANE;
      float *oplane = dst + c * GM_CIFAR10_PLANE;
      for (int y = 0; y < side; y++) {
        int sy = y + dy - pad;
        for (int x = 0; x < side; x++) {
          int cx = flip ? side - 1 - x : x; /* column in the crop */
          int sx = cx + dx - pad;
          uint8_t v = 0;
          if (sy >= 0 && sy < side && sx >= 0 && sx < side)
            v = plane[sy * side + sx];
          oplane[y * side + x] = table[c][v];
        }
      }
    }
  }
  return GM_OK;
}

/* ---- the synthetic data set -------------------------------------------- */

/* Per class: the two colours the stripes run between (R, G, B). */
static const uint8_t synth_colours[GM_CIFAR10_CLASSES][2][3] = {
    {{200, 40, 40}, {250, 180, 180}}, {{40, 160, 40}, {180, 250, 180}},
    {{40, 60, 200}, {170, 190, 255}}, {{220, 200, 40}, {90, 80, 20}},
    {{200, 40, 200}, {60, 10, 60}},   {{40, 200, 200}, {10, 70, 70}},
    {{240, 140, 20}, {40, 40, 40}},   {{128, 128, 128}, {250, 250, 250}},
    {{120, 60, 20}, {220, 180, 140}}, {{20, 20, 90}, {240, 240, 120}},
};
/* Stripe period in pixels of classes 2j and 2j+1. */
static const int synth_periods[GM_CIFAR10_CLASSES / 2] = {4, 6, 8, 11, 16};

/* One image of class k into rec (label byte then 3072 pixels). Integer
 * arithmetic only: the bytes are the same on every machine. */
static void synth_image(uint8_t *rec, int k, uint64_t *rng) {
  rec[0] = (uint8_t)k;
  int period = synth_periods[k / 2];
  bool vertical = k % 2 == 1;
  int phase = (int)gm_data_rng_below(rng, 256);
  int jitter = (int)gm_data_rng_below(rng, 41) - 20;
  for (int y = 0; y < GM_CIFAR10_SIDE; y++) {
    for (int x = 0; x < GM_CIFAR10_SIDE; x++) {
      int coord = vertical ? x : y;
      int t = (coord * 256 / period + phase) & 255;
      int s = t < 128 ? 2 * t : 2 * (255 - t); /* triangle wave, 0..254 */
      for (int c = 0; c < GM_CIFAR10_CHANNELS; c++) {
        int a = synth_colours[k][0][c], b = synth_colours[k][1][c];
        int noise = (int)gm_data_rng_below(rng, 49) - 24;
        int v = a + (b - a) * s / 255 + jitter + noise;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        rec[1 + c * GM_CIFAR10_PLANE + y * GM_CIFAR10_SIDE + x] = (uint8_t)v;
      }
    }
  }
}

/* Writes `data` (len bytes) or, with data NULL, `count` synthetic records of
 * stream `stream` to dir/name through a temporary file. */
static enum gm_status synth_write(const char *dir, const char *name,
                                  uint64_t seed, unsigned stream, size_t count,
                                  const char *data, char *err,
                                  size_t err_size) {
  char path[GM__DATA_PATH_MAX], tmp[GM__DATA_PATH_MAX + 8];
  enum gm_status rc =
      gm__data_path(path, sizeof(path), dir, name, err, err_size);
  if (rc != GM_OK)
    return rc;
  gm__fmt(tmp, sizeof(tmp), "%s.tmp~", path);
  uint32_t *order = NULL;
  /* Created exclusively: a symlink planted at tmp is removed, never
   * followed. */
  int fd = gm__file_create(tmp, 0644);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    gm__data_err(err, err_size, "cannot create '%s': %s", tmp, strerror(e));
    return gm__data_write_status(e);
  }
  bool ok = true;
  if (data) {
    ok = fputs(data, f) >= 0;
  } else {
    order = malloc(count * sizeof(*order));
    if (!order) {
      fclose(f);
      unlink(tmp);
      gm__data_err(err, err_size, "out of memory writing '%s'", path);
      return GM_ERR_NO_MEMORY;
    }
    uint64_t rng = stream_state(seed, stream);
    for (size_t i = 0; i < count; i++)
      order[i] = (uint32_t)(i % GM_CIFAR10_CLASSES);
    gm_data_shuffle(order, count, &rng);
    uint8_t rec[GM_CIFAR10_RECORD_BYTES];
    for (size_t i = 0; ok && i < count; i++) {
      synth_image(rec, (int)order[i], &rng);
      ok = fwrite(rec, 1, sizeof(rec), f) == sizeof(rec);
    }
  }
  int e = ok ? 0 : errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    e = errno;
  }
  free(order);
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    unlink(tmp);
    gm__data_err(err, err_size, "cannot write '%s': %s", path, strerror(e));
    return gm__data_write_status(e);
  }
  return GM_OK;
}

enum gm_status gm_cifar10_synth(const char *dir, uint64_t seed,
                                size_t train_per_batch, size_t test_count,
                                char *err, size_t err_size) {
  gm__data_err(err, err_size, "%s", "");
  if (!dir) {
    gm__data_err(err, err_size, "gm_cifar10_synth: NULL directory");
    return GM_ERR_INVALID_ARG;
  }
  if (train_per_batch < 1 || train_per_batch > GM_CIFAR10_SYNTH_MAX ||
      test_count < 1 || test_count > GM_CIFAR10_SYNTH_MAX) {
    gm__data_err(err, err_size,
                 "synthetic record counts must be 1 to %d per file (got %zu "
                 "per training file, %zu test)",
                 GM_CIFAR10_SYNTH_MAX, train_per_batch, test_count);
    return GM_ERR_INVALID_ARG;
  }
  enum gm_status rc = gm__data_mkdir(dir, err, err_size);
  if (rc != GM_OK)
    return rc;
  for (unsigned f = 0; f <= GM_CIFAR10_TRAIN_FILES; f++) {
    size_t count = f < GM_CIFAR10_TRAIN_FILES ? train_per_batch : test_count;
    rc = synth_write(dir, file_names[f], seed, f, count, NULL, err, err_size);
    if (rc != GM_OK)
      return rc;
  }
  char text[512];
  gm__fmt(text, sizeof(text),
          "# A synthetic data set in the CIFAR-10 binary format, written by\n"
          "# greenml (gm_cifar10_synth): NOT CIFAR-10. Each class is stripes\n"
          "# of its own orientation and period between two colours of its\n"
          "# own, plus noise (docs/data.md).\n"
          "format %s\nseed %llu\ntrain_per_batch %zu\ntest_count %zu\n",
          MANIFEST_FORMAT, (unsigned long long)seed, train_per_batch,
          test_count);
  return synth_write(dir, GM_CIFAR10_MANIFEST, seed, 0, 0, text, err, err_size);
}
