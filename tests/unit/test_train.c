/* test_train.c: the training protocol through include/greenml/train.h, on
 * LeNet and a small generated data set with the ref backend (deterministic):
 * its rules (seeds, schedule, epoch length), an interrupted run resumed from
 * its checkpoint giving the very losses and weights of one that never
 * stopped, checkpoints refused under another configuration or other data,
 * a flipped byte caught by the checksum, temporary files never written
 * through a planted symlink, the checkpoint path checked before any work,
 * weights loaded for inference, the observer. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greenml/train.h"
#include "helpers.h"

#define TRAIN_PER_FILE 16 /* 80 training images */
#define TEST_COUNT 20

struct fixture {
  char *dir;
  struct gm_cifar10 *train, *test;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  f->dir = gmt_mkdtemp();
  char err[512] = "";
  if (gm_cifar10_synth(f->dir, 3, TRAIN_PER_FILE, TEST_COUNT, err,
                       sizeof(err)) != GM_OK ||
      gm_cifar10_open(f->dir, GM_CIFAR10_TRAIN, &f->train, err, sizeof(err)) !=
          GM_OK ||
      gm_cifar10_open(f->dir, GM_CIFAR10_TEST, &f->test, err, sizeof(err)) !=
          GM_OK) {
    fprintf(stderr, "synthetic data: %s\n", err);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gm_cifar10_close(f->train);
  gm_cifar10_close(f->test);
  gmt_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

static struct gm_train_config lenet(void) {
  struct gm_train_config c = gm_train_config_default();
  c.model = "lenet"; /* any case */
  c.batch_size = 8;
  c.lr = 0.01;
  c.epochs = 3;
  c.seed = 5;
  c.limit_batches = 3;
  c.backend = "ref";
  c.threads = 1;
  return c;
}

static struct gm_train *make(const struct gm_train_config *c) {
  struct gm_train *t = NULL;
  char err[512] = "";
  enum gm_status rc = gm_train_create(c, &t, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_train_create: %s", err);
  return t;
}

static float *params(struct gm_train *t, size_t *n) {
  *n = gm_nn_engine_param_floats(gm_train_engine(t));
  float *p = malloc(*n * sizeof(float));
  assert_int_equal(gm_nn_engine_get_params(gm_train_engine(t), p, *n), GM_OK);
  return p;
}

/* ---- the rules ------------------------------------------------------------
 */

static void rules(void **state) {
  (void)state;
  assert_int_equal(gm_train_augment_seed(1, 0), 1000003);
  assert_int_equal(gm_train_augment_seed(7, 2), 7 * 1000003 + 2);
  assert_true(gm_train_dropout_seed(7, 2, 5) ==
              (7 ^ ((UINT64_C(2) << 32) | 5)));
  struct gm_train_config c = gm_train_config_default();
  assert_int_equal(c.batch_size, 128);
  assert_double_equal(c.lr, 0.001, 0);
  assert_double_equal(c.momentum, 0.9, 0);
  assert_double_equal(c.weight_decay, 5e-4, 0);
  c.batch_size = 8;
  assert_int_equal(gm_train_epoch_steps(&c, 80), 10);
  assert_int_equal(gm_train_epoch_steps(&c, 81), 11);
  c.limit_batches = 3;
  assert_int_equal(gm_train_epoch_steps(&c, 80), 3);
  c.limit_batches = 0;
  c.batch_size = 30;
  assert_int_equal(gm_train_epoch_steps(&c, 80), 3);
  /* PyTorch's CosineAnnealingLR(T_max = 4) from 0.01, per epoch */
  c.lr = 0.01;
  c.epochs = 4;
  assert_double_equal(gm_train_lr(&c, 3), 0.01, 0);
  c.schedule = GM_TRAIN_LR_COSINE;
  const double want[] = {0.01, 0.008535533905932738, 0.005,
                         0.0014644660940672626};
  for (uint32_t e = 0; e < 4; e++)
    assert_double_equal(gm_train_lr(&c, e), want[e], 1e-15);
}

static void bad_configurations(void **state) {
  (void)state;
  struct gm_train_config c = lenet();
  struct gm_train *t = NULL;
  char err[512] = "";
  c.model = "NoSuchNet";
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)), GM_ERR_NOT_FOUND);
  assert_null(t);
  assert_non_null(strstr(err, "NoSuchNet"));
  c = lenet();
  c.backend = "nosuch";
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)), GM_ERR_NOT_FOUND);
  c = lenet();
  c.batch_size = 0;
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  c = lenet();
  c.lr = NAN;
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
}

/* ---- resuming gives the same run --------------------------------------------
 */

static void resumed_run_is_bit_identical(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  char *ckpt = gmt_path(f->dir, "lenet.ckpt");

  /* three epochs in one go */
  struct gm_train *a = make(&c);
  assert_string_equal(gm_train_config_of(a)->model, "LeNet");
  assert_int_equal(gm_train_init(a), GM_OK);
  struct gm_train_result ra[3];
  for (uint32_t e = 0; e < 3; e++) {
    assert_int_equal(gm_train_epoch(a, f->train, e, 0, NULL, &ra[e]), GM_OK);
    assert_int_equal(ra[e].steps, 3);
    assert_int_equal(ra[e].samples, 24);
    assert_false(ra[e].cut);
    assert_true(isfinite(ra[e].loss) && ra[e].loss > 0);
    assert_true(ra[e].accuracy >= 0 && ra[e].accuracy <= 1);
    assert_double_equal(ra[e].lr, 0.01, 0);
  }
  size_t na, nb;
  float *pa = params(a, &na);

  /* one epoch, a checkpoint, a new process (handle), two more */
  struct gm_train *b = make(&c);
  assert_int_equal(gm_train_init(b), GM_OK);
  struct gm_train_result rb;
  assert_int_equal(gm_train_epoch(b, f->train, 0, 0, NULL, &rb), GM_OK);
  assert_true(rb.loss == ra[0].loss);
  assert_int_equal(gm_train_save(b, ckpt, 1), GM_OK);
  gm_train_destroy(b);
  b = make(&c);
  uint32_t done = 0;
  assert_int_equal(gm_train_resume(b, ckpt, &done), GM_OK);
  assert_int_equal(done, 1);
  for (uint32_t e = done; e < 3; e++) {
    assert_int_equal(gm_train_epoch(b, f->train, e, 0, NULL, &rb), GM_OK);
    /* bit for bit: the same floating-point operations in the same order */
    assert_true(rb.loss == ra[e].loss);
    assert_true(rb.accuracy == ra[e].accuracy);
  }
  float *pb = params(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(pa, pb, na * sizeof(float));

  /* and inference on both agrees too */
  struct gm_train_result ia, ib;
  assert_int_equal(gm_train_infer(a, f->test, 0, 30, NULL, &ia), GM_OK);
  assert_int_equal(gm_train_infer(b, f->test, 0, 30, NULL, &ib), GM_OK);
  assert_int_equal(ia.samples, 30); /* the 20 test images, replicated */
  assert_int_equal(ia.steps, 4);
  assert_true(isnan(ia.lr));
  assert_true(ia.loss == ib.loss && ia.accuracy == ib.accuracy);
  /* samples 20..29 are images 0..9 again */
  struct gm_train_result i0, i20;
  assert_int_equal(gm_train_infer(a, f->test, 0, 8, NULL, &i0), GM_OK);
  assert_int_equal(gm_train_infer(a, f->test, 20, 8, NULL, &i20), GM_OK);
  assert_true(i0.loss == i20.loss);

  free(pa);
  free(pb);
  gm_train_destroy(a);
  gm_train_destroy(b);
  free(ckpt);
}

/* ---- checkpoints and their configuration ------------------------------------
 */

static void checkpoint_of_another_configuration_is_refused(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  char *ckpt = gmt_path(f->dir, "conf.ckpt");
  struct gm_train *t = make(&c);
  assert_int_equal(gm_train_init(t), GM_OK);
  struct gm_train_result r;
  assert_int_equal(gm_train_epoch(t, f->train, 0, 0, NULL, &r), GM_OK);
  assert_int_equal(gm_train_save(t, ckpt, 1), GM_OK);
  size_t n;
  float *saved = params(t, &n);
  gm_train_destroy(t);

  /* another seed, learning rate and batch size */
  struct gm_train_config other = c;
  other.seed = 6;
  other.lr = 0.02;
  other.batch_size = 16;
  t = make(&other);
  assert_int_equal(gm_train_init(t), GM_OK);
  size_t n0;
  float *before = params(t, &n0);
  uint32_t done = 99;
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_INVALID_ARG);
  assert_int_equal(done, 99);
  const char *msg = gm_train_last_error(t);
  assert_non_null(strstr(msg, "conf.ckpt"));
  assert_non_null(strstr(msg, "batch size 8 (here 16)"));
  assert_non_null(strstr(msg, "learning rate 0.01 (here 0.02)"));
  assert_non_null(strstr(msg, "seed 5 (here 6)"));
  assert_null(strstr(msg, "momentum"));
  /* nothing was loaded */
  size_t n1;
  float *after = params(t, &n1);
  assert_memory_equal(before, after, n0 * sizeof(float));
  free(before);
  free(after);

  /* weights for inference are taken whatever the configuration */
  assert_int_equal(gm_train_load_weights(t, ckpt), GM_OK);
  float *loaded = params(t, &n1);
  assert_memory_equal(saved, loaded, n * sizeof(float));
  free(loaded);
  gm_train_destroy(t);

  /* the epoch count matters only to a cosine schedule */
  other = c;
  other.epochs = 7;
  t = make(&other);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_OK);
  assert_int_equal(done, 1);
  gm_train_destroy(t);
  other.schedule = GM_TRAIN_LR_COSINE;
  t = make(&other);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_train_last_error(t), "schedule constant"));
  gm_train_destroy(t);

  /* a record that disagrees with its checkpoint: a save cut short */
  char *rec = gmt_path(f->dir, "conf.ckpt.config");
  FILE *fp = fopen(rec, "r+");
  assert_non_null(fp);
  char text[1024];
  size_t len = fread(text, 1, sizeof(text) - 1, fp);
  text[len] = '\0';
  char *ep = strstr(text, "epoch 1\n");
  assert_non_null(ep);
  ep[6] = '2';
  rewind(fp);
  fwrite(text, 1, len, fp);
  fclose(fp);
  t = make(&c);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t), "cut short"));
  gm_train_destroy(t);

  /* absent */
  t = make(&c);
  char *none = gmt_path(f->dir, "none.ckpt");
  assert_int_equal(gm_train_resume(t, none, &done), GM_ERR_NOT_FOUND);
  assert_non_null(strstr(gm_train_last_error(t), "cannot open checkpoint"));
  assert_int_equal(gm_train_load_weights(t, none), GM_ERR_NOT_FOUND);
  gm_train_checkpoint_remove(ckpt);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_NOT_FOUND);
  gm_train_destroy(t);
  free(saved);
  free(rec);
  free(none);
  free(ckpt);
}

/* ---- checkpoints are verified -------------------------------------------- */

/* The whole file at path into a malloc'ed buffer. */
static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  rewind(fp);
  char *b = malloc((size_t)n + 1);
  assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
  b[n] = '\0';
  fclose(fp);
  *len = (size_t)n;
  return b;
}

static void put_bytes(const char *path, const void *b, size_t len) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(b, 1, len, fp), len);
  fclose(fp);
}

static void flipped_byte_is_refused(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  char *ckpt = gmt_path(f->dir, "flip.ckpt");
  struct gm_train *t = make(&c);
  assert_int_equal(gm_train_init(t), GM_OK);
  struct gm_train_result r;
  assert_int_equal(gm_train_epoch(t, f->train, 0, 0, NULL, &r), GM_OK);
  assert_int_equal(gm_train_save(t, ckpt, 1), GM_OK);
  gm_train_destroy(t);

  size_t len;
  char *good = slurp(ckpt, &len);
  assert_true(len > 4096);
  /* one bit of one parameter, in the middle of the payload */
  char *bad = malloc(len);
  memcpy(bad, good, len);
  bad[len / 2] ^= 0x10;
  put_bytes(ckpt, bad, len);
  t = make(&c);
  uint32_t done = 77;
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_PARSE);
  assert_int_equal(done, 77);
  const char *msg = gm_train_last_error(t);
  assert_non_null(strstr(msg, "flip.ckpt' fails its checksum (CRC-32 "));
  assert_non_null(strstr(msg, "the file is corrupt; nothing was loaded"));
  assert_int_equal(gm_train_load_weights(t, ckpt), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t), "fails its checksum"));
  gm_train_destroy(t);

  /* a flipped header byte (the epoch) too */
  memcpy(bad, good, len);
  bad[8 + 8 + 64] ^= 0x01;
  put_bytes(ckpt, bad, len);
  t = make(&c);
  assert_int_equal(gm_train_load_weights(t, ckpt), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t), "fails its checksum"));
  gm_train_destroy(t);

  /* version 1 (no checksum) is refused, saying why */
  memcpy(bad, good, len);
  bad[8] = 1;
  put_bytes(ckpt, bad, len);
  t = make(&c);
  assert_int_equal(gm_train_load_weights(t, ckpt), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t),
                         "is a version 1 checkpoint; this greenml reads "
                         "version 2 only (version 1 had no checksum"));
  gm_train_destroy(t);

  /* the intact file loads */
  put_bytes(ckpt, good, len);
  t = make(&c);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_OK);
  assert_int_equal(done, 1);
  gm_train_destroy(t);

  /* a FIFO is refused at once (a blocking open would hang) */
  char *fifo = gmt_path(f->dir, "fifo.ckpt");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  alarm(10);
  t = make(&c);
  assert_int_equal(gm_train_load_weights(t, fifo), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t),
                         "fifo.ckpt' is a FIFO, not a regular file"));
  gm_train_destroy(t);
  alarm(0);
  unlink(fifo);
  free(fifo);
  free(good);
  free(bad);
  gm_train_checkpoint_remove(ckpt);
  free(ckpt);
}

static void other_data_is_refused(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  char *ckpt = gmt_path(f->dir, "data.ckpt");
  struct gm_train *t = make(&c);
  assert_int_equal(gm_train_init(t), GM_OK);
  struct gm_train_result r;
  assert_int_equal(gm_train_epoch(t, f->train, 0, 0, NULL, &r), GM_OK);
  assert_int_equal(gm_train_save(t, ckpt, 1), GM_OK);
  gm_train_destroy(t);
  struct gm_cifar10_identity id;
  gm_cifar10_identity(f->train, &id);
  assert_true(id.synthetic);
  assert_int_equal(id.seed, 3);
  assert_int_equal(id.count, 5 * TRAIN_PER_FILE);
  assert_string_equal(id.dir, f->dir);
  char *rec = gmt_path(f->dir, "data.ckpt.config");
  size_t len;
  char *text = slurp(rec, &len);
  char want[1400];
  snprintf(want, sizeof(want),
           "data synthetic\ndata_seed 3\ndata_images 80\ndata_crc32 %08x\n"
           "data_dir %s\n",
           id.crc32, f->dir);
  assert_non_null(strstr(text, want));
  free(text);

  /* the same data in another directory: the same bytes, accepted */
  char *copy = gmt_mkdtemp();
  char err[512];
  assert_int_equal(
      gm_cifar10_synth(copy, 3, TRAIN_PER_FILE, TEST_COUNT, err, sizeof(err)),
      GM_OK);
  struct gm_cifar10 *same = NULL, *other = NULL;
  assert_int_equal(
      gm_cifar10_open(copy, GM_CIFAR10_TRAIN, &same, err, sizeof(err)), GM_OK);
  t = make(&c);
  gm_train_use_data(t, same);
  uint32_t done = 0;
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_OK);
  assert_int_equal(done, 1);
  gm_train_destroy(t);

  /* another seed of the generator: refused, both sets described */
  assert_int_equal(
      gm_cifar10_synth(copy, 4, TRAIN_PER_FILE, TEST_COUNT, err, sizeof(err)),
      GM_OK);
  assert_int_equal(
      gm_cifar10_open(copy, GM_CIFAR10_TRAIN, &other, err, sizeof(err)), GM_OK);
  struct gm_cifar10_identity oid;
  gm_cifar10_identity(other, &oid);
  assert_int_not_equal(oid.crc32, id.crc32);
  t = make(&c);
  gm_train_use_data(t, other);
  done = 99;
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_INVALID_ARG);
  assert_int_equal(done, 99);
  snprintf(want, sizeof(want),
           "data set '%s' (synthetic, seed 3, 80 images, CRC-32 %08x) (here "
           "'%s' (synthetic, seed 4, 80 images, CRC-32 %08x))",
           f->dir, id.crc32, copy, oid.crc32);
  assert_non_null(strstr(gm_train_last_error(t), want));
  gm_train_destroy(t);

  /* the same seed and counts but one byte changed: the CRC tells */
  gm_cifar10_close(other);
  char *b3 = gmt_path(copy, "data_batch_3.bin");
  assert_int_equal(
      gm_cifar10_synth(copy, 3, TRAIN_PER_FILE, TEST_COUNT, err, sizeof(err)),
      GM_OK);
  int fd = open(b3, O_RDWR);
  assert_true(fd >= 0);
  unsigned char px;
  assert_int_equal(pread(fd, &px, 1, 100), 1);
  px ^= 1;
  assert_int_equal(pwrite(fd, &px, 1, 100), 1);
  close(fd);
  assert_int_equal(
      gm_cifar10_open(copy, GM_CIFAR10_TRAIN, &other, err, sizeof(err)), GM_OK);
  t = make(&c);
  gm_train_use_data(t, other);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_train_last_error(t), "(synthetic, seed 3, 80 "
                                                 "images, CRC-32 "));
  /* with another seed as well: every difference is listed */
  gm_train_destroy(t);
  struct gm_train_config c6 = c;
  c6.seed = 6;
  t = make(&c6);
  gm_train_use_data(t, other);
  assert_int_equal(gm_train_resume(t, ckpt, &done), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_train_last_error(t), "seed 5 (here 6); data set"));
  gm_train_destroy(t);

  free(b3);
  gm_cifar10_close(same);
  gm_cifar10_close(other);
  gmt_rmtree(copy);
  free(copy);
  free(rec);
  gm_train_checkpoint_remove(ckpt);
  free(ckpt);
}

static void planted_symlinks_are_not_followed(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  char *ckpt = gmt_path(f->dir, "safe.ckpt");
  char *victim = gmt_path(f->dir, "victim.txt");
  char *tmp = gmt_path(f->dir, "safe.ckpt.tmp~");
  char *rtmp = gmt_path(f->dir, "safe.ckpt.config.tmp~");
  gmt_write(f->dir, "victim.txt", "precious\n");
  assert_int_equal(symlink(victim, tmp), 0);
  assert_int_equal(symlink(victim, rtmp), 0);
  struct gm_train *t = make(&c);
  assert_int_equal(gm_train_init(t), GM_OK);
  assert_int_equal(gm_train_save(t, ckpt, 0), GM_OK);
  gm_train_destroy(t);
  size_t len;
  char *text = slurp(victim, &len);
  assert_string_equal(text, "precious\n");
  free(text);
  struct stat st;
  assert_int_equal(lstat(tmp, &st), -1);
  assert_int_equal(lstat(rtmp, &st), -1);
  assert_int_equal(lstat(ckpt, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  t = make(&c);
  assert_int_equal(gm_train_load_weights(t, ckpt), GM_OK);
  gm_train_destroy(t);
  unlink(victim);
  gm_train_checkpoint_remove(ckpt);
  free(ckpt);
  free(victim);
  free(tmp);
  free(rtmp);
}

static void checkpoint_path_is_checked_first(void **state) {
  struct fixture *f = *state;
  char err[1024];
  char *ok = gmt_path(f->dir, "x.ckpt");
  assert_int_equal(gm_train_check_checkpoint_path(ok, err, sizeof(err)), GM_OK);
  /* nothing is left behind */
  char probe[1200];
  snprintf(probe, sizeof(probe), "%s/.greenml-write-test-%ld", f->dir,
           (long)getpid());
  assert_int_equal(access(probe, F_OK), -1);
  char *missing = gmt_path(f->dir, "no/such/x.ckpt");
  assert_int_equal(gm_train_check_checkpoint_path(missing, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  char want[1400];
  snprintf(want, sizeof(want),
           "the checkpoint directory '%s/no/such' does not exist: create it "
           "(mkdir -p '%s/no/such') or choose another --checkpoint",
           f->dir, f->dir);
  assert_string_equal(err, want);
  gmt_mkdirs(f->dir, "adir.ckpt");
  char *adir = gmt_path(f->dir, "adir.ckpt");
  assert_int_equal(gm_train_check_checkpoint_path(adir, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  snprintf(want, sizeof(want),
           "the checkpoint '%s' is a directory, not a regular file", adir);
  assert_string_equal(err, want);
  gmt_write(f->dir, "afile", "x");
  char *under = gmt_path(f->dir, "afile/x.ckpt");
  assert_int_equal(gm_train_check_checkpoint_path(under, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "afile' is a regular file, not a directory"));
  /* a file system that takes no writes */
  assert_int_equal(
      gm_train_check_checkpoint_path("/proc/x.ckpt", err, sizeof(err)),
      gm_train_check_checkpoint_path("/proc/x.ckpt", NULL, 0));
  assert_non_null(strstr(err, "cannot write in the checkpoint directory "
                              "'/proc': "));
  rmdir(adir);
  free(ok);
  free(missing);
  free(adir);
  free(under);
}

/* ---- the observer ---------------------------------------------------------
 */

struct seen {
  int begins, batches;
  enum gm_train_pass pass;
  long planned;
  long stop_after;
  double last_loss;
};

static void begin_cb(void *ctx, enum gm_train_pass pass, uint32_t epoch,
                     long batches) {
  struct seen *s = ctx;
  s->begins++;
  s->pass = pass;
  s->planned = batches;
  assert_int_equal(epoch, pass == GM_TRAIN_PASS_TRAIN ? 1 : 0);
}

static bool batch_cb(void *ctx, const struct gm_train_batch *b) {
  struct seen *s = ctx;
  s->batches++;
  assert_int_equal(b->batch, s->batches);
  assert_int_equal(b->batches, s->planned);
  assert_true(b->batch_s >= 0 && b->pass_s >= b->batch_s);
  assert_int_equal(b->pass_samples, (long)s->batches * 8);
  s->last_loss = b->loss;
  return s->batches < s->stop_after;
}

static void observer_sees_and_ends_passes(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet();
  c.limit_batches = 0; /* the whole epoch: 10 steps */
  struct gm_train *t = make(&c);
  assert_int_equal(gm_train_init(t), GM_OK);
  struct seen s = {.stop_after = 4};
  struct gm_train_observer obs = {
      .ctx = &s, .pass_begin = begin_cb, .batch_done = batch_cb};
  struct gm_train_result r;
  assert_int_equal(gm_train_epoch(t, f->train, 1, 0, &obs, &r), GM_OK);
  assert_int_equal(s.begins, 1);
  assert_int_equal(s.planned, 10);
  assert_int_equal(s.batches, 4);
  assert_true(r.cut);
  assert_int_equal(r.steps, 4);
  assert_int_equal(r.samples, 32);
  assert_true(r.loss == s.last_loss);
  /* max_steps caps the pass; ending on its last batch is no cut */
  s = (struct seen){.stop_after = 2};
  assert_int_equal(gm_train_epoch(t, f->train, 1, 2, &obs, &r), GM_OK);
  assert_int_equal(s.planned, 2);
  assert_false(r.cut);
  assert_int_equal(r.steps, 2);
  s = (struct seen){.stop_after = 100};
  assert_int_equal(gm_train_infer(t, f->test, 0, 16, &obs, &r), GM_OK);
  assert_int_equal(s.pass, GM_TRAIN_PASS_INFER);
  assert_int_equal(s.batches, 2);
  gm_train_destroy(t);
}

/* ---- the PyTorch engine ----------------------------------------------------
 * The same protocol executed by PyTorch in a worker process (torch.c and
 * python/greenml/torch_engine.py), through the production path: the
 * installed interpreter with Debian's python3-torch. */

static struct gm_train_config lenet_torch(void) {
  struct gm_train_config c = lenet();
  c.backend = NULL;
  c.engine = "torch";
  c.device = "cpu";
  return c;
}

static void torch_engine_trains_saves_and_resumes(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet_torch();
  struct gm_train *a = make(&c);
  assert_true(strncmp(gm_train_engine_name(a), "torch ", 6) == 0);
  assert_non_null(strstr(gm_train_engine_name(a), " cpu"));
  assert_null(gm_train_engine(a)); /* no C engine behind it */
  assert_int_equal(gm_train_init(a), GM_OK);
  struct gm_train_result r1, r2, ri;
  assert_int_equal(gm_train_epoch(a, f->train, 0, 0, NULL, &r1), GM_OK);
  assert_int_equal(r1.steps, 3);
  assert_int_equal(r1.samples, 24);
  assert_true(isfinite(r1.loss) && r1.loss > 0);
  assert_true(r1.accuracy >= 0 && r1.accuracy <= 1);
  char *ck = gmt_path(f->dir, "torch.ckpt");
  assert_int_equal(gm_train_save(a, ck, 1), GM_OK);
  char *rec = gmt_path(f->dir, "torch.ckpt.config");
  struct stat sb;
  assert_int_equal(stat(ck, &sb), 0);
  assert_int_equal(stat(rec, &sb), 0); /* the protocol's own record */
  assert_int_equal(gm_train_epoch(a, f->train, 1, 0, NULL, &r2), GM_OK);
  assert_int_equal(gm_train_infer(a, f->test, 0, 30, NULL, &ri), GM_OK);
  assert_int_equal(ri.samples, 30);
  assert_int_equal(ri.steps, 4);
  assert_true(isfinite(ri.loss));
  gm_train_destroy(a);

  /* resumed from epoch 1, epoch 2 gives the same loss (1 CPU thread) */
  struct gm_train *b = make(&c);
  uint32_t done = 0;
  gm_train_use_data(b, f->train);
  assert_int_equal(gm_train_resume(b, ck, &done), GM_OK);
  assert_int_equal(done, 1);
  struct gm_train_result r2b;
  assert_int_equal(gm_train_epoch(b, f->train, 1, 0, NULL, &r2b), GM_OK);
  assert_double_equal(r2b.loss, r2.loss, 1e-6 * r2.loss);
  gm_train_destroy(b);

  /* another configuration: refused by the shared record, nothing loaded */
  struct gm_train_config other = c;
  other.lr = 0.05;
  struct gm_train *o = make(&other);
  assert_int_equal(gm_train_resume(o, ck, &done), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_train_last_error(o), "learning rate"));
  gm_train_destroy(o);
  /* the C engine cannot read PyTorch's file, nor PyTorch the C engine's */
  struct gm_train_config cc = lenet();
  struct gm_train *g = make(&cc);
  assert_int_equal(gm_train_resume(g, ck, &done), GM_ERR_PARSE);
  assert_int_equal(gm_train_init(g), GM_OK);
  char *ck2 = gmt_path(f->dir, "c.ckpt");
  assert_int_equal(gm_train_save(g, ck2, 1), GM_OK);
  gm_train_destroy(g);
  struct gm_train *t2 = make(&c);
  assert_int_equal(gm_train_resume(t2, ck2, &done), GM_ERR_PARSE);
  assert_non_null(strstr(gm_train_last_error(t2), "not a checkpoint of the "
                                                  "PyTorch engine"));
  gm_train_destroy(t2);
  free(ck);
  free(ck2);
  free(rec);
}

static void torch_engine_that_cannot_start_is_named(void **state) {
  struct fixture *f = *state;
  struct gm_train_config c = lenet_torch();
  struct gm_train *t = NULL;
  char err[1024] = "";
  /* no worker script */
  char *missing = gmt_path(f->dir, "nowhere/torch_engine.py");
  gmt_setenv("GREENML_TORCH_WORKER", missing);
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)), GM_ERR_NOT_FOUND);
  assert_null(t);
  assert_non_null(strstr(err, "GREENML_TORCH_WORKER"));
  /* a worker that exits at once */
  gmt_write(f->dir, "dies.py", "import sys\nsys.exit(3)\n");
  char *dies = gmt_path(f->dir, "dies.py");
  gmt_setenv("GREENML_TORCH_WORKER", dies);
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(err, "exited (status 3)"));
  assert_non_null(strstr(err, "needs python3 with torch"));
  /* no interpreter */
  unsetenv("GREENML_TORCH_WORKER");
  char *nopy = gmt_path(f->dir, "no-python3");
  gmt_setenv("GREENML_PYTHON", nopy);
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(err, "needs python3 with torch"));
  unsetenv("GREENML_PYTHON");
  /* a device PyTorch does not have here */
  c.device = "cuda";
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(err, "PyTorch sees no CUDA device"));
  /* the engine's own settings: no backend, a device only for torch */
  c.device = "cpu";
  c.backend = "ref";
  assert_int_equal(gm_train_create(&c, &t, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  struct gm_train_config g = lenet();
  g.device = "cpu";
  assert_int_equal(gm_train_create(&g, &t, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  g.device = NULL;
  g.engine = "tensorflow";
  assert_int_equal(gm_train_create(&g, &t, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  free(missing);
  free(dies);
  free(nopy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rules),
      cmocka_unit_test(bad_configurations),
      cmocka_unit_test(resumed_run_is_bit_identical),
      cmocka_unit_test(checkpoint_of_another_configuration_is_refused),
      cmocka_unit_test(flipped_byte_is_refused),
      cmocka_unit_test(other_data_is_refused),
      cmocka_unit_test(planted_symlinks_are_not_followed),
      cmocka_unit_test(checkpoint_path_is_checked_first),
      cmocka_unit_test(observer_sees_and_ends_passes),
      cmocka_unit_test(torch_engine_trains_saves_and_resumes),
      cmocka_unit_test(torch_engine_that_cannot_start_is_named),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
