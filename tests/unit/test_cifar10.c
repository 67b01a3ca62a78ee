/* test_cifar10.c: the CIFAR-10 data module: the loader on official-format
 * files written here (sparse files of the exact official size), its errors,
 * batches (normalisation, crop, flip, determinism), replication, the epoch
 * order, the synthetic data set, and the parts of fetch that need no
 * network. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greenml/data.h"

/* ---- fixtures ------------------------------------------------------------ */

/* Creates dir/name as an official-size file of zeros (sparse: label 0, black
 * images) of `records` records. */
static void official_file(const char *dir, const char *name, size_t records) {
  char *p = gmt_path(dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)(records * GM_CIFAR10_RECORD_BYTES)),
                   0);
  close(fd);
  free(p);
}

/* Writes one record (label, then 3072 pixels, or a label byte alone when
 * pixels is NULL) at record index `rec` of dir/name. */
static void put_record(const char *dir, const char *name, size_t rec,
                       uint8_t label, const uint8_t *pixels) {
  char *p = gmt_path(dir, name);
  int fd = open(p, O_WRONLY);
  assert_true(fd >= 0);
  off_t off = (off_t)(rec * GM_CIFAR10_RECORD_BYTES);
  assert_int_equal(pwrite(fd, &label, 1, off), 1);
  if (pixels)
    assert_int_equal(pwrite(fd, pixels, GM_CIFAR10_PIXELS, off + 1),
                     GM_CIFAR10_PIXELS);
  close(fd);
  free(p);
}

static void official_split(const char *dir, enum gm_cifar10_split split) {
  unsigned first = split == GM_CIFAR10_TRAIN ? 0 : GM_CIFAR10_TRAIN_FILES;
  unsigned n = split == GM_CIFAR10_TRAIN ? GM_CIFAR10_TRAIN_FILES : 1;
  for (unsigned f = first; f < first + n; f++)
    official_file(dir, gm_cifar10_file_name(f), GM_CIFAR10_FILE_RECORDS);
}

/* A small data set with a manifest: `train` records per training file and
 * `test` test records, every record from rec(). */
typedef void (*record_fn)(unsigned file, size_t i, uint8_t *rec);

static void small_set(const char *dir, size_t train, size_t test,
                      record_fn fn) {
  for (unsigned f = 0; f <= GM_CIFAR10_TRAIN_FILES; f++) {
    size_t n = f < GM_CIFAR10_TRAIN_FILES ? train : test;
    uint8_t *buf = calloc(n, GM_CIFAR10_RECORD_BYTES);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
      fn(f, i, buf + i * GM_CIFAR10_RECORD_BYTES);
    gmt_write_bin(dir, gm_cifar10_file_name(f), buf,
                  n * GM_CIFAR10_RECORD_BYTES);
    free(buf);
  }
  gmt_write(dir, GM_CIFAR10_MANIFEST,
            "format greenml-synthetic-cifar10 1\nseed 0\ntrain_per_batch "
            "%zu\ntest_count %zu\n",
            train, test);
}

/* Label i % 10, pixels a hash of (file, i, byte). */
static void noisy_record(unsigned file, size_t i, uint8_t *rec) {
  rec[0] = (uint8_t)(i % 10);
  uint64_t s = ((uint64_t)file << 32) ^ i;
  for (size_t b = 0; b < GM_CIFAR10_PIXELS; b++)
    rec[1 + b] = (uint8_t)(gm_data_rng_next(&s) >> 56);
}

/* Every pixel 100 except R(5, 7) = 255; label 3. */
static void dot_record(unsigned file, size_t i, uint8_t *rec) {
  (void)file;
  (void)i;
  rec[0] = 3;
  memset(rec + 1, 100, GM_CIFAR10_PIXELS);
  rec[1 + 5 * 32 + 7] = 255;
}

static float norm(int c, int v) {
  static const double mean[3] = {0.4914, 0.4822, 0.4465};
  static const double sd[3] = {0.2023, 0.1994, 0.2010};
  return (float)(((double)v / 255.0 - mean[c]) / sd[c]);
}

/* ---- loader: official format -------------------------------------------- */

static void test_open_official_test_split(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TEST);
  uint8_t px[GM_CIFAR10_PIXELS];
  for (int i = 0; i < GM_CIFAR10_PIXELS; i++)
    px[i] = (uint8_t)(i * 7);
  put_record(dir, "test_batch.bin", 9999, 7, px);
  put_record(dir, "test_batch.bin", 1, 9, NULL);

  struct gm_cifar10 *ds = NULL;
  char err[512];
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_OK);
  assert_int_equal(gm_cifar10_count(ds), 10000);
  assert_false(gm_cifar10_is_synthetic(ds));
  assert_int_equal(gm_cifar10_label(ds, 0), 0);
  assert_int_equal(gm_cifar10_label(ds, 1), 9);
  assert_int_equal(gm_cifar10_label(ds, 9999), 7);
  assert_memory_equal(gm_cifar10_image(ds, 9999), px, GM_CIFAR10_PIXELS);
  assert_null(gm_cifar10_image(ds, 10000));
  size_t counts[GM_CIFAR10_CLASSES];
  gm_cifar10_class_counts(ds, counts);
  assert_int_equal(counts[0], 9998);
  assert_int_equal(counts[7], 1);
  assert_int_equal(counts[9], 1);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

static void test_open_official_train_split(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TRAIN);
  put_record(dir, "data_batch_4.bin", 0, 5, NULL);
  put_record(dir, "data_batch_5.bin", 9999, 8, NULL);
  struct gm_cifar10 *ds = NULL;
  char err[512];
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_count(ds), 50000);
  /* files in order: data_batch_4 starts at 30000 */
  assert_int_equal(gm_cifar10_label(ds, 30000), 5);
  assert_int_equal(gm_cifar10_label(ds, 49999), 8);
  assert_int_equal(gm_cifar10_label(ds, 29999), 0);
  gm_cifar10_close(ds);
  /* the test split is absent: its own error */
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_null(ds);
  assert_non_null(strstr(err, "test_batch.bin' does not exist"));
  gmt_rmtree(dir);
  free(dir);
}

static void test_missing_file(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TRAIN);
  char *p = gmt_path(dir, "data_batch_3.bin");
  unlink(p);
  struct gm_cifar10 *ds = (struct gm_cifar10 *)&ds;
  char err[1024];
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, sizeof(err)),
      GM_ERR_NOT_FOUND);
  assert_null(ds);
  char want[1100];
  snprintf(want, sizeof(want), "'%s' does not exist (1 of 5 files missing)", p);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof(want), "run 'greenml data fetch cifar10 --dir %s'",
           dir);
  assert_non_null(strstr(err, want));
  free(p);

  /* no directory at all */
  p = gmt_path(dir, "nope");
  assert_int_equal(gm_cifar10_open(p, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "does not exist"));
  free(p);
  gmt_rmtree(dir);
  free(dir);
}

static void test_truncated_file(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TRAIN);
  official_file(dir, "data_batch_3.bin", 0);
  char *p = gmt_path(dir, "data_batch_3.bin");
  assert_int_equal(truncate(p, 1234), 0);
  struct gm_cifar10 *ds = NULL;
  char err[1024];
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, sizeof(err)),
      GM_ERR_PARSE);
  assert_null(ds);
  char want[1100];
  snprintf(want, sizeof(want),
           "'%s' is 1234 bytes, expected 30730000 (truncated download?): run "
           "'greenml data fetch cifar10 --dir %s'",
           p, dir);
  assert_string_equal(err, want);
  free(p);
  gmt_rmtree(dir);
  free(dir);
}

static void test_wrong_size(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  /* one record too many */
  official_file(dir, "test_batch.bin", GM_CIFAR10_FILE_RECORDS + 1);
  struct gm_cifar10 *ds = NULL;
  char err[1024];
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "is 30733073 bytes, expected 30730000"));
  assert_non_null(strstr(err, "test_batch.bin'"));
  /* not a multiple of the record size either */
  official_file(dir, "test_batch.bin", 0);
  char *p = gmt_path(dir, "test_batch.bin");
  assert_int_equal(truncate(p, 30730001), 0);
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "is 30730001 bytes"));
  /* a directory where the file should be */
  unlink(p);
  gmt_mkdirs(dir, "test_batch.bin");
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  char want[2048];
  snprintf(want, sizeof(want),
           "'%s' is a directory, not a regular file: run 'greenml data fetch "
           "cifar10 --dir %s'",
           p, dir);
  assert_string_equal(err, want);
  /* a FIFO (or a link to one): refused at once, never opened to block */
  rmdir(p);
  assert_int_equal(mkfifo(p, 0600), 0);
  alarm(10);
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  snprintf(want, sizeof(want),
           "'%s' is a FIFO, not a regular file: run 'greenml data fetch "
           "cifar10 --dir %s'",
           p, dir);
  assert_string_equal(err, want);
  /* a manifest that is a FIFO */
  unlink(p);
  official_file(dir, "test_batch.bin", 10);
  char *man = gmt_path(dir, GM_CIFAR10_MANIFEST);
  assert_int_equal(mkfifo(man, 0600), 0);
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  snprintf(want, sizeof(want),
           "cannot read '%s': a FIFO, not a regular file: run 'greenml data "
           "synth --dir %s' to regenerate it",
           man, dir);
  assert_string_equal(err, want);
  alarm(0);
  free(man);
  free(p);
  gmt_rmtree(dir);
  free(dir);
}

static void test_bad_label(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TEST);
  put_record(dir, "test_batch.bin", 4321, 10, NULL);
  struct gm_cifar10 *ds = NULL;
  char err[1024];
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_null(ds);
  char *p = gmt_path(dir, "test_batch.bin");
  char want[1100];
  snprintf(want, sizeof(want),
           "'%s' record 4321 (byte offset 13278433) has label 10, expected "
           "0..9",
           p);
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, "greenml data fetch cifar10"));
  free(p);

  /* in the middle of the training split: the file and its own index */
  official_split(dir, GM_CIFAR10_TRAIN);
  put_record(dir, "data_batch_2.bin", 1017, 255, NULL);
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, sizeof(err)),
      GM_ERR_PARSE);
  assert_non_null(strstr(err, "data_batch_2.bin' record 1017"));
  assert_non_null(strstr(err, "has label 255"));
  gmt_rmtree(dir);
  free(dir);
}

static void test_bad_manifest(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  small_set(dir, 10, 10, noisy_record);
  gmt_write(dir, GM_CIFAR10_MANIFEST,
            "format greenml-synthetic-cifar10 1\nseed 0\ntrain_per_batch "
            "ten\ntest_count 10\n");
  struct gm_cifar10 *ds = NULL;
  char err[1024];
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "greenml-synthetic.txt' line 3"));
  gmt_write(dir, GM_CIFAR10_MANIFEST, "seed 0\ntrain_per_batch 10\n");
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "lacks the 'format' line"));
  /* a manifest whose counts disagree with the files */
  gmt_write(dir, GM_CIFAR10_MANIFEST,
            "format greenml-synthetic-cifar10 1\nseed 0\ntrain_per_batch "
            "10\ntest_count 11\n");
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "is 30730 bytes, expected 33803 (11 records"));
  assert_non_null(strstr(err, "greenml data synth --dir"));
  /* without the manifest the official size is required */
  char *p = gmt_path(dir, GM_CIFAR10_MANIFEST);
  unlink(p);
  free(p);
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "expected 30730000"));
  gmt_rmtree(dir);
  free(dir);
}

static void test_invalid_args(void **state) {
  (void)state;
  struct gm_cifar10 *ds = NULL;
  char err[256];
  assert_int_equal(
      gm_cifar10_open(NULL, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
      GM_ERR_INVALID_ARG);
  assert_int_equal(gm_cifar10_open("/tmp", GM_CIFAR10_TEST, NULL, NULL, 0),
                   GM_ERR_INVALID_ARG);
  gm_cifar10_close(NULL);
  assert_int_equal(gm_cifar10_count(NULL), 0);
  assert_null(gm_cifar10_file_name(6));
  assert_string_equal(gm_cifar10_file_name(0), "data_batch_1.bin");
  assert_string_equal(gm_cifar10_file_name(5), "test_batch.bin");
}

/* ---- batches ------------------------------------------------------------- */

static struct gm_cifar10 *open_small(const char *dir, size_t train, size_t test,
                                     record_fn fn,
                                     enum gm_cifar10_split split) {
  small_set(dir, train, test, fn);
  struct gm_cifar10 *ds = NULL;
  char err[512];
  enum gm_status rc = gm_cifar10_open(dir, split, &ds, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("open: %s", err);
  return ds;
}

static void known_pixels(unsigned file, size_t i, uint8_t *rec) {
  (void)file;
  rec[0] = (uint8_t)(i + 2);
  for (int p = 0; p < GM_CIFAR10_PLANE; p++) {
    rec[1 + p] = 255;                        /* R */
    rec[1 + GM_CIFAR10_PLANE + p] = 0;       /* G */
    rec[1 + 2 * GM_CIFAR10_PLANE + p] = 128; /* B */
  }
  rec[1 + 2 * GM_CIFAR10_PLANE + 31 * 32 + 31] = (uint8_t)(10 * i);
}

static void test_batch_normalisation(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  struct gm_cifar10 *ds = open_small(dir, 1, 3, known_pixels, GM_CIFAR10_TEST);
  uint32_t idx[2] = {2, 0};
  float out[2 * GM_CIFAR10_PIXELS];
  int32_t labels[2];
  assert_int_equal(gm_cifar10_batch(ds, idx, 2, false, NULL, out, labels),
                   GM_OK);
  assert_int_equal(labels[0], 4);
  assert_int_equal(labels[1], 2);
  /* the exact values: R 255 -> (1 - 0.4914) / 0.2023 = 2.514088... */
  assert_double_equal(out[0], 2.5140880, 1e-6);
  assert_double_equal(out[GM_CIFAR10_PLANE + 100], -0.4822 / 0.1994, 1e-6);
  assert_double_equal(out[2 * GM_CIFAR10_PLANE + 5],
                      (128.0 / 255.0 - 0.4465) / 0.2010, 1e-6);
  /* the last pixel of B of image 2 is 20, of image 0 is 0 */
  assert_double_equal(out[3 * GM_CIFAR10_PLANE - 1], norm(2, 20), 1e-7);
  assert_double_equal(out[GM_CIFAR10_PIXELS + 3 * GM_CIFAR10_PLANE - 1],
                      norm(2, 0), 1e-7);
  /* NCHW: the second image starts at 3072 */
  assert_double_equal(out[GM_CIFAR10_PIXELS], norm(0, 255), 1e-7);
  /* labels may be NULL; an index out of range writes nothing */
  assert_int_equal(gm_cifar10_batch(ds, idx, 2, false, NULL, out, NULL), GM_OK);
  uint32_t bad[2] = {0, 3};
  out[0] = 42.0f;
  assert_int_equal(gm_cifar10_batch(ds, bad, 2, false, NULL, out, labels),
                   GM_ERR_INVALID_ARG);
  assert_double_equal(out[0], 42.0, 0);
  assert_int_equal(gm_cifar10_batch(ds, idx, 2, true, NULL, out, labels),
                   GM_ERR_INVALID_ARG);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

static void test_augmentation_determinism(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  struct gm_cifar10 *ds = open_small(dir, 1, 16, noisy_record, GM_CIFAR10_TEST);
  uint32_t idx[16];
  for (uint32_t i = 0; i < 16; i++)
    idx[i] = i;
  size_t n = 16 * GM_CIFAR10_PIXELS;
  float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)),
        *c = malloc(n * sizeof(float)), *plain = malloc(n * sizeof(float));
  assert_true(a && b && c && plain);
  uint64_t s1 = 42, s2 = 42, s3 = 43;
  assert_int_equal(gm_cifar10_batch(ds, idx, 16, true, &s1, a, NULL), GM_OK);
  assert_int_equal(gm_cifar10_batch(ds, idx, 16, true, &s2, b, NULL), GM_OK);
  assert_int_equal(gm_cifar10_batch(ds, idx, 16, true, &s3, c, NULL), GM_OK);
  assert_memory_equal(a, b, n * sizeof(float));
  assert_true(s1 == s2 && s1 != 42);
  assert_true(memcmp(a, c, n * sizeof(float)) != 0);
  /* the next batch from the advanced state differs from the first */
  assert_int_equal(gm_cifar10_batch(ds, idx, 16, true, &s1, b, NULL), GM_OK);
  assert_true(memcmp(a, b, n * sizeof(float)) != 0);
  /* without augmentation the state is not touched */
  uint64_t s4 = 7;
  assert_int_equal(gm_cifar10_batch(ds, idx, 16, false, &s4, plain, NULL),
                   GM_OK);
  assert_true(s4 == 7);
  free(a);
  free(b);
  free(c);
  free(plain);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

/* Crop and flip, image by image: the bright pixel R(5, 7) lands where the
 * drawn (dy, dx, flip) say, padded pixels are normalised zeros, everything
 * else is the image's 100. */
static void test_crop_and_flip(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  enum { N = 400 };
  struct gm_cifar10 *ds = open_small(dir, 1, 1, dot_record, GM_CIFAR10_TEST);
  uint32_t *idx = calloc(N, sizeof(uint32_t));
  float *out = malloc((size_t)N * GM_CIFAR10_PIXELS * sizeof(float));
  assert_true(idx && out);
  uint64_t st = 2024, replay = 2024;
  assert_int_equal(gm_cifar10_batch(ds, idx, N, true, &st, out, NULL), GM_OK);
  int seen_dy[9] = {0}, seen_dx[9] = {0}, flips = 0;
  for (int k = 0; k < N; k++) {
    int dy = (int)gm_data_rng_below(&replay, 9);
    int dx = (int)gm_data_rng_below(&replay, 9);
    bool flip = gm_data_rng_next(&replay) >> 63;
    seen_dy[dy]++;
    seen_dx[dx]++;
    flips += flip;
    /* where R(5, 7) goes: row 5 + 4 - dy; column 7 + 4 - dx, mirrored */
    int by = 5 + 4 - dy, bx = 7 + 4 - dx;
    if (flip)
      bx = 31 - bx;
    const float *img = out + (size_t)k * GM_CIFAR10_PIXELS;
    int bright = 0, pads = 0;
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          float v = img[c * 1024 + y * 32 + x];
          /* the source column of output x, before the flip */
          int cx = flip ? 31 - x : x;
          int sy = y + dy - 4, sx = cx + dx - 4;
          bool padded = sy < 0 || sy > 31 || sx < 0 || sx > 31;
          if (c == 0 && y == by && x == bx) {
            assert_true(v == norm(0, 255));
            bright++;
          } else if (padded) {
            assert_true(v == norm(c, 0));
            pads++;
          } else {
            assert_true(v == norm(c, 100));
          }
        }
      }
    }
    assert_int_equal(bright, 1); /* 5 and 7 are > 4: never cropped away */
    int rows = abs(dy - 4), cols = abs(dx - 4);
    assert_int_equal(pads, 3 * (rows * 32 + cols * 32 - rows * cols));
  }
  assert_true(st == replay); /* three draws per image, nothing else */
  for (int i = 0; i < 9; i++) {
    assert_true(seen_dy[i] > 0);
    assert_true(seen_dx[i] > 0);
  }
  assert_true(flips > N / 4 && flips < 3 * N / 4);
  free(idx);
  free(out);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

/* The first seed whose first image draws (dy, dx, flip). */
static uint64_t seed_for(int want_dy, int want_dx, bool want_flip) {
  for (uint64_t seed = 0;; seed++) {
    uint64_t s = seed;
    int dy = (int)gm_data_rng_below(&s, 9), dx = (int)gm_data_rng_below(&s, 9);
    bool flip = gm_data_rng_next(&s) >> 63;
    if (dy == want_dy && dx == want_dx && flip == want_flip)
      return seed;
    assert_true(seed < 100000);
  }
}

/* Hand-picked cases: the identity (dy = dx = 4, no flip), and dy = 0, dx = 8
 * (the window at the top right of the padded image) with a flip. */
static void test_crop_by_hand(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  struct gm_cifar10 *ds = open_small(dir, 1, 1, dot_record, GM_CIFAR10_TEST);
  float plain[GM_CIFAR10_PIXELS], same[GM_CIFAR10_PIXELS];
  uint32_t zero = 0;
  assert_int_equal(gm_cifar10_batch(ds, &zero, 1, false, NULL, plain, NULL),
                   GM_OK);
  uint64_t seed = seed_for(4, 4, false);
  assert_int_equal(gm_cifar10_batch(ds, &zero, 1, true, &seed, same, NULL),
                   GM_OK);
  assert_memory_equal(plain, same, sizeof(plain));
  seed = seed_for(0, 8, true);
  float out[GM_CIFAR10_PIXELS];
  assert_int_equal(gm_cifar10_batch(ds, &zero, 1, true, &seed, out, NULL),
                   GM_OK);
  /* Crop rows -4..27, columns 4..35 of the image; the bright pixel (5, 7)
   * is at crop (9, 3), after the flip at (9, 28). The top 4 rows and, after
   * the flip, the left 4 columns are padding. */
  assert_true(out[9 * 32 + 28] == norm(0, 255));
  assert_true(out[0] == norm(0, 0));
  assert_true(out[3 * 32 + 20] == norm(0, 0));
  assert_true(out[4 * 32 + 3] == norm(0, 0));
  assert_true(out[4 * 32 + 4] == norm(0, 100));
  assert_true(out[31 * 32 + 31] == norm(0, 100));
  assert_true(out[2048 + 31 * 32 + 0] == norm(2, 0));
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

/* ---- random numbers, order, replication ---------------------------------- */

static void test_splitmix64_reference(void **state) {
  (void)state;
  /* Reference outputs for seed 1234567 (Vigna's splitmix64.c, as listed by
   * Rosetta Code "Pseudo-random numbers/Splitmix64"). */
  static const uint64_t want[5] = {
      UINT64_C(6457827717110365317), UINT64_C(3203168211198807973),
      UINT64_C(9817491932198370423), UINT64_C(4593380528125082431),
      UINT64_C(16408922859458223821)};
  uint64_t s = 1234567;
  for (int i = 0; i < 5; i++)
    assert_true(gm_data_rng_next(&s) == want[i]);
  uint64_t counts[7] = {0};
  s = 9;
  for (int i = 0; i < 7000; i++) {
    uint64_t v = gm_data_rng_below(&s, 7);
    assert_true(v < 7);
    counts[v]++;
  }
  for (int i = 0; i < 7; i++)
    assert_true(counts[i] > 800 && counts[i] < 1200);
  assert_true(gm_data_rng_below(&s, 0) == 0);
  assert_true(gm_data_rng_below(&s, 1) == 0);
}

static void test_epoch_order(void **state) {
  (void)state;
  enum { N = 1000 };
  uint32_t a[N], b[N], c[N];
  gm_cifar10_epoch_order(a, N, 5, 0);
  gm_cifar10_epoch_order(b, N, 5, 0);
  gm_cifar10_epoch_order(c, N, 5, 1);
  assert_memory_equal(a, b, sizeof(a));
  assert_true(memcmp(a, c, sizeof(a)) != 0);
  gm_cifar10_epoch_order(c, N, 6, 0);
  assert_true(memcmp(a, c, sizeof(a)) != 0);
  /* a permutation, not the identity */
  bool seen[N] = {false};
  int fixed = 0;
  for (int i = 0; i < N; i++) {
    assert_true(a[i] < N);
    assert_false(seen[a[i]]);
    seen[a[i]] = true;
    fixed += a[i] == (uint32_t)i;
  }
  assert_true(fixed < 20);
  /* Fisher-Yates as documented, replayed by hand */
  uint32_t d[5] = {0, 1, 2, 3, 4}, e[5] = {0, 1, 2, 3, 4};
  uint64_t s1 = 77, s2 = 77;
  gm_data_shuffle(d, 5, &s1);
  for (size_t i = 4; i > 0; i--) {
    size_t j = (size_t)gm_data_rng_below(&s2, i + 1);
    uint32_t t = e[i];
    e[i] = e[j];
    e[j] = t;
  }
  assert_memory_equal(d, e, sizeof(d));
  gm_cifar10_epoch_order(a, 0, 1, 1); /* n = 0: nothing */
}

static void test_replication(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  official_split(dir, GM_CIFAR10_TEST);
  put_record(dir, "test_batch.bin", 9999, 6, NULL);
  struct gm_cifar10 *ds = NULL;
  char err[512];
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_OK);
  size_t n = gm_cifar10_replicated_count(ds, GM_CIFAR10_INFERENCE_REPLICAS);
  assert_int_equal(n, 50000);
  assert_int_equal(gm_cifar10_replicated_index(ds, 0), 0);
  assert_int_equal(gm_cifar10_replicated_index(ds, 9999), 9999);
  assert_int_equal(gm_cifar10_replicated_index(ds, 10000), 0);
  assert_int_equal(gm_cifar10_replicated_index(ds, 23456), 3456);
  assert_int_equal(gm_cifar10_replicated_index(ds, 49999), 9999);
  /* every one of the 10000 images exactly five times */
  uint8_t *times = calloc(10000, 1);
  assert_non_null(times);
  for (size_t i = 0; i < n; i++)
    times[gm_cifar10_replicated_index(ds, i)]++;
  for (size_t i = 0; i < 10000; i++)
    assert_int_equal(times[i], 5);
  free(times);
  assert_int_equal(gm_cifar10_label(ds, gm_cifar10_replicated_index(ds, 49999)),
                   6);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

/* ---- the synthetic data set ---------------------------------------------- */

static void test_synth_round_trip(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  char *d1 = gmt_path(root, "a"), *d2 = gmt_path(root, "b"),
       *d3 = gmt_path(root, "c");
  char err[512];
  assert_int_equal(gm_cifar10_synth(d1, 42, 25, 30, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_synth(d2, 42, 25, 30, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_synth(d3, 43, 25, 30, err, sizeof(err)), GM_OK);

  struct gm_cifar10 *tr = NULL, *te = NULL;
  assert_int_equal(gm_cifar10_open(d1, GM_CIFAR10_TRAIN, &tr, err, sizeof(err)),
                   GM_OK);
  assert_int_equal(gm_cifar10_open(d1, GM_CIFAR10_TEST, &te, err, sizeof(err)),
                   GM_OK);
  assert_true(gm_cifar10_is_synthetic(tr));
  assert_int_equal(gm_cifar10_count(tr), 125);
  assert_int_equal(gm_cifar10_count(te), 30);
  /* balance: 25 per file -> 2 or 3 per class and file */
  size_t counts[GM_CIFAR10_CLASSES];
  gm_cifar10_class_counts(te, counts);
  for (int k = 0; k < GM_CIFAR10_CLASSES; k++)
    assert_int_equal(counts[k], 3);
  gm_cifar10_class_counts(tr, counts);
  size_t total = 0;
  for (int k = 0; k < GM_CIFAR10_CLASSES; k++) {
    assert_true(counts[k] >= 10 && counts[k] <= 15);
    total += counts[k];
  }
  assert_int_equal(total, 125);
  for (unsigned f = 0; f < GM_CIFAR10_TRAIN_FILES; f++) {
    size_t per[GM_CIFAR10_CLASSES] = {0};
    for (size_t i = 0; i < 25; i++)
      per[gm_cifar10_label(tr, f * 25 + i)]++;
    for (int k = 0; k < GM_CIFAR10_CLASSES; k++)
      assert_true(per[k] == 2 || per[k] == 3);
  }
  /* labels are shuffled, not 0, 1, 2, ... */
  int in_order = 0;
  for (size_t i = 0; i < 30; i++)
    in_order += gm_cifar10_label(te, i) == (int)(i % 10);
  assert_true(in_order < 30);

  /* the same seed gives the same bytes, another seed others */
  for (unsigned f = 0; f <= GM_CIFAR10_TRAIN_FILES; f++) {
    char *p1 = gmt_path(d1, gm_cifar10_file_name(f));
    char *p2 = gmt_path(d2, gm_cifar10_file_name(f));
    char *p3 = gmt_path(d3, gm_cifar10_file_name(f));
    FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb"), *f3 = fopen(p3, "rb");
    assert_true(f1 && f2 && f3);
    static uint8_t b1[30 * 3073 + 16], b2[30 * 3073 + 16], b3[30 * 3073 + 16];
    size_t n1 = fread(b1, 1, sizeof(b1), f1), n2 = fread(b2, 1, sizeof(b2), f2);
    size_t n3 = fread(b3, 1, sizeof(b3), f3);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, n3);
    assert_memory_equal(b1, b2, n1);
    assert_true(memcmp(b1, b3, n1) != 0);
    fclose(f1);
    fclose(f2);
    fclose(f3);
    free(p1);
    free(p2);
    free(p3);
  }
  /* the manifest says what was written */
  char *mp = gmt_path(d1, GM_CIFAR10_MANIFEST);
  FILE *mf = fopen(mp, "r");
  assert_non_null(mf);
  char text[1024];
  size_t tn = fread(text, 1, sizeof(text) - 1, mf);
  text[tn] = '\0';
  fclose(mf);
  free(mp);
  assert_non_null(strstr(text, "\nseed 42\n"));
  assert_non_null(strstr(text, "\ntrain_per_batch 25\n"));
  assert_non_null(strstr(text, "\ntest_count 30\n"));
  assert_non_null(strstr(text, "NOT CIFAR-10"));

  gm_cifar10_close(tr);
  gm_cifar10_close(te);
  gmt_rmtree(root);
  free(d1);
  free(d2);
  free(d3);
  free(root);
}

/* Learnable: a nearest-centroid classifier on the raw pixels, fitted on the
 * training split, is far above chance (10 %) on the test split. */
static void test_synth_learnable(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char err[512];
  assert_int_equal(gm_cifar10_synth(dir, 7, 100, 200, err, sizeof(err)), GM_OK);
  struct gm_cifar10 *tr = NULL, *te = NULL;
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &tr, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &te, err, sizeof(err)),
                   GM_OK);
  /* features: the mean of each channel (colour) */
  double centroid[GM_CIFAR10_CLASSES][3] = {{0}};
  size_t n[GM_CIFAR10_CLASSES] = {0};
  for (size_t i = 0; i < gm_cifar10_count(tr); i++) {
    const uint8_t *img = gm_cifar10_image(tr, i);
    int k = gm_cifar10_label(tr, i);
    for (int c = 0; c < 3; c++) {
      double s = 0;
      for (int p = 0; p < 1024; p++)
        s += img[c * 1024 + p];
      centroid[k][c] += s / 1024;
    }
    n[k]++;
  }
  for (int k = 0; k < GM_CIFAR10_CLASSES; k++)
    for (int c = 0; c < 3; c++)
      centroid[k][c] /= (double)n[k];
  size_t right = 0;
  for (size_t i = 0; i < gm_cifar10_count(te); i++) {
    const uint8_t *img = gm_cifar10_image(te, i);
    double f[3];
    for (int c = 0; c < 3; c++) {
      double s = 0;
      for (int p = 0; p < 1024; p++)
        s += img[c * 1024 + p];
      f[c] = s / 1024;
    }
    int best = 0;
    double bestd = 1e300;
    for (int k = 0; k < GM_CIFAR10_CLASSES; k++) {
      double d = 0;
      for (int c = 0; c < 3; c++)
        d += (f[c] - centroid[k][c]) * (f[c] - centroid[k][c]);
      if (d < bestd) {
        bestd = d;
        best = k;
      }
    }
    right += best == gm_cifar10_label(te, i);
  }
  print_message("nearest colour centroid: %zu of %zu test images right\n",
                right, gm_cifar10_count(te));
  assert_true(right * 2 > gm_cifar10_count(te));
  gm_cifar10_close(tr);
  gm_cifar10_close(te);
  gmt_rmtree(dir);
  free(dir);
}

static void test_synth_errors(void **state) {
  (void)state;
  char err[512];
  char *dir = gmt_mkdtemp();
  assert_int_equal(gm_cifar10_synth(dir, 1, 0, 10, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_cifar10_synth(dir, 1, 10, 10001, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "1 to 10000"));
  assert_int_equal(gm_cifar10_synth(NULL, 1, 10, 10, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  /* a regular file where the directory should be */
  gmt_write(dir, "file", "x");
  char *p = gmt_path(dir, "file/sub");
  enum gm_status rc = gm_cifar10_synth(p, 1, 10, 10, err, sizeof(err));
  assert_true(rc == GM_ERR_IO || rc == GM_ERR_PERMISSION);
  assert_non_null(strstr(err, "cannot create the directory"));
  free(p);
  /* replacing an official-size data set with a synthetic one */
  official_split(dir, GM_CIFAR10_TEST);
  assert_int_equal(gm_cifar10_synth(dir, 1, 10, 10, err, sizeof(err)), GM_OK);
  struct gm_cifar10 *ds = NULL;
  assert_int_equal(gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, sizeof(err)),
                   GM_OK);
  assert_int_equal(gm_cifar10_count(ds), 10);
  gm_cifar10_close(ds);
  gmt_rmtree(dir);
  free(dir);
}

/* A symlink another user planted at a temporary file's name is removed,
 * never written through: its target is unchanged. */
static void test_synth_planted_symlink(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *outside = gmt_mkdtemp();
  gmt_write(outside, "victim", "precious\n");
  char *victim = gmt_path(outside, "victim");
  char *tmp1 = gmt_path(dir, "data_batch_1.bin.tmp~");
  char *tmpm = gmt_path(dir, GM_CIFAR10_MANIFEST ".tmp~");
  assert_int_equal(symlink(victim, tmp1), 0);
  assert_int_equal(symlink(victim, tmpm), 0);
  char err[1024];
  assert_int_equal(gm_cifar10_synth(dir, 1, 10, 10, err, sizeof(err)), GM_OK);
  FILE *f = fopen(victim, "r");
  assert_non_null(f);
  char buf[64] = "";
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "precious\n");
  struct stat st;
  assert_int_equal(lstat(tmp1, &st), -1);
  assert_int_equal(lstat(tmpm, &st), -1);
  struct gm_cifar10 *ds = NULL;
  assert_int_equal(
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, sizeof(err)), GM_OK);
  gm_cifar10_close(ds);
  free(victim);
  free(tmp1);
  free(tmpm);
  gmt_rmtree(dir);
  gmt_rmtree(outside);
  free(dir);
  free(outside);
}

/* The identity a checkpoint records: the CRC of every byte loaded. */
static void test_identity(void **state) {
  (void)state;
  char *a = gmt_mkdtemp(), *b = gmt_mkdtemp();
  char err[1024];
  assert_int_equal(gm_cifar10_synth(a, 7, 20, 10, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_synth(b, 7, 20, 10, err, sizeof(err)), GM_OK);
  struct gm_cifar10 *da = NULL, *db = NULL;
  assert_int_equal(gm_cifar10_open(a, GM_CIFAR10_TRAIN, &da, err, sizeof(err)),
                   GM_OK);
  assert_int_equal(gm_cifar10_open(b, GM_CIFAR10_TRAIN, &db, err, sizeof(err)),
                   GM_OK);
  struct gm_cifar10_identity ia, ib;
  gm_cifar10_identity(da, &ia);
  gm_cifar10_identity(db, &ib);
  assert_int_equal(ia.split, GM_CIFAR10_TRAIN);
  assert_true(ia.synthetic);
  assert_int_equal(ia.seed, 7);
  assert_int_equal(ia.count, 100);
  assert_string_equal(ia.dir, a);
  assert_int_equal(ia.crc32, ib.crc32); /* same bytes, another place */
  /* the CRC is the standard CRC-32 (zlib's) of the files' bytes, in
   * order: computed here bit by bit */
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned f = 0; f < GM_CIFAR10_TRAIN_FILES; f++) {
    char *p = gmt_path(a, gm_cifar10_file_name(f));
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
      for (size_t i = 0; i < n; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++)
          crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
      }
    fclose(fp);
    free(p);
  }
  assert_int_equal(ia.crc32, crc ^ 0xFFFFFFFFu);
  gm_cifar10_close(db);
  assert_int_equal(gm_cifar10_synth(b, 8, 20, 10, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_open(b, GM_CIFAR10_TRAIN, &db, err, sizeof(err)),
                   GM_OK);
  gm_cifar10_identity(db, &ib);
  assert_int_equal(ib.seed, 8);
  assert_int_not_equal(ia.crc32, ib.crc32);
  gm_cifar10_identity(NULL, &ib);
  assert_int_equal(ib.count, 0);
  gm_cifar10_close(da);
  gm_cifar10_close(db);
  gmt_rmtree(a);
  gmt_rmtree(b);
  free(a);
  free(b);
}

/* ---- fetch without a network --------------------------------------------- */

static void test_fetch_offline(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char err[1024];
  struct gm_cifar10_fetch_info info;
  assert_int_equal(
      gm_cifar10_fetch(NULL, dir, "1234", NULL, NULL, &info, err, sizeof(err)),
      GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "'1234' is not an MD5"));
  assert_int_equal(gm_cifar10_fetch("ftp://example.org/x.tar.gz", dir, NULL,
                                    NULL, NULL, &info, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "not an http://, https:// or file:// URL"));
  assert_false(info.transfer_failed);

  /* port 1 on loopback: connection refused, nothing left behind */
  assert_int_equal(gm_cifar10_fetch("http://127.0.0.1:1/x.tar.gz", dir, NULL,
                                    NULL, NULL, &info, err, sizeof(err)),
                   GM_ERR_IO);
  assert_non_null(strstr(err, "cannot download 'http://127.0.0.1:1/x.tar.gz'"));
  assert_true(info.transfer_failed);
  /* a file:// URL of a missing archive: the same failure */
  assert_int_equal(gm_cifar10_fetch("file:///nonexistent/greenml/x.tar.gz", dir,
                                    NULL, NULL, NULL, &info, err, sizeof(err)),
                   GM_ERR_IO);
  assert_non_null(
      strstr(err, "cannot download 'file:///nonexistent/greenml/x.tar.gz'"));
  assert_true(info.transfer_failed);
  char *part = gmt_path(dir, GM_CIFAR10_ARCHIVE ".part");
  assert_int_equal(access(part, F_OK), -1);
  free(part);

  /* a valid official set: nothing to do, not even a connection */
  official_split(dir, GM_CIFAR10_TRAIN);
  official_split(dir, GM_CIFAR10_TEST);
  assert_int_equal(gm_cifar10_fetch("http://127.0.0.1:1/x.tar.gz", dir, NULL,
                                    NULL, NULL, &info, err, sizeof(err)),
                   GM_OK);
  assert_true(info.already_present);

  /* a synthetic set is replaced, not kept: the download is attempted */
  assert_int_equal(gm_cifar10_synth(dir, 1, 10, 10, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_cifar10_fetch("http://127.0.0.1:1/x.tar.gz", dir, NULL,
                                    NULL, NULL, &info, err, sizeof(err)),
                   GM_ERR_IO);
  assert_false(info.already_present);
  gmt_rmtree(dir);
  free(dir);
}

/* A local file:// "download": the .part path is created afresh (a planted
 * symlink there is removed, its target unchanged) and the size limit holds
 * whatever the source. */
static void test_fetch_part_and_limits(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *src = gmt_mkdtemp();
  char *outside = gmt_mkdtemp();
  char blob[3000];
  memset(blob, 'z', sizeof(blob));
  gmt_write_bin(src, "x.tar.gz", blob, sizeof(blob));
  gmt_write(outside, "victim", "precious\n");
  char *victim = gmt_path(outside, "victim");
  char *part = gmt_path(dir, GM_CIFAR10_ARCHIVE ".part");
  assert_int_equal(symlink(victim, part), 0);
  char url[1200];
  snprintf(url, sizeof(url), "file://%s/x.tar.gz", src);
  char err[2048];
  struct gm_cifar10_fetch_info info;
  /* a wrong MD5: the file went through .part and was deleted */
  assert_int_equal(gm_cifar10_fetch(url, dir,
                                    "00000000000000000000000000000000", NULL,
                                    NULL, &info, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "checksum mismatch"));
  assert_non_null(strstr(err, "(3000 bytes)"));
  FILE *f = fopen(victim, "r");
  char buf[64] = "";
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "precious\n");
  struct stat st;
  assert_int_equal(lstat(part, &st), -1);

  /* over the size limit: refused, the limit named, nothing left */
  struct gm_cifar10_fetch_limits lim = gm_cifar10_fetch_limits_default();
  assert_int_equal(lim.max_archive_bytes, 268435456);
  assert_int_equal(lim.connect_timeout_s, 30);
  assert_int_equal(lim.low_speed_bytes_per_s, 1024);
  assert_int_equal(lim.low_speed_time_s, 60);
  lim.max_archive_bytes = 1000;
  assert_int_equal(symlink(victim, part), 0);
  assert_int_equal(gm_cifar10_fetch_ex(url, dir, NULL, &lim, NULL, NULL, &info,
                                       err, sizeof(err)),
                   GM_ERR_PARSE);
  char want[1400];
  snprintf(want, sizeof(want),
           "'%s' is larger than the download limit of 1000 bytes", url);
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, "the download was deleted (--max-filesize "
                              "raises the limit)"));
  assert_int_equal(lstat(part, &st), -1);
  f = fopen(victim, "r");
  assert_non_null(fgets(buf, sizeof(buf), f));
  fclose(f);
  assert_string_equal(buf, "precious\n");
  /* limits must be positive */
  lim = gm_cifar10_fetch_limits_default();
  lim.low_speed_time_s = 0;
  assert_int_equal(gm_cifar10_fetch_ex(url, dir, NULL, &lim, NULL, NULL, &info,
                                       err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "every download limit must be positive"));

  free(victim);
  free(part);
  gmt_rmtree(dir);
  gmt_rmtree(src);
  gmt_rmtree(outside);
  free(dir);
  free(src);
  free(outside);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_official_test_split),
      cmocka_unit_test(test_open_official_train_split),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_truncated_file),
      cmocka_unit_test(test_wrong_size),
      cmocka_unit_test(test_bad_label),
      cmocka_unit_test(test_bad_manifest),
      cmocka_unit_test(test_invalid_args),
      cmocka_unit_test(test_batch_normalisation),
      cmocka_unit_test(test_augmentation_determinism),
      cmocka_unit_test(test_crop_and_flip),
      cmocka_unit_test(test_crop_by_hand),
      cmocka_unit_test(test_splitmix64_reference),
      cmocka_unit_test(test_epoch_order),
      cmocka_unit_test(test_replication),
      cmocka_unit_test(test_synth_round_trip),
      cmocka_unit_test(test_synth_learnable),
      cmocka_unit_test(test_synth_errors),
      cmocka_unit_test(test_synth_planted_symlink),
      cmocka_unit_test(test_identity),
      cmocka_unit_test(test_fetch_offline),
      cmocka_unit_test(test_fetch_part_and_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
