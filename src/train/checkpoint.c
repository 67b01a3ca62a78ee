/* checkpoint.c: checkpoints with the configuration they were made with: the
 * engine's file at PATH (checksummed, engine.c) and a record of "key value"
 * lines at PATH.config (train.h): the protocol's settings and the identity
 * of the training data. The record is written after the engine's file and
 * both carry the epoch, so a save cut between the two is recognised on
 * loading. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"
#include "train/train_internal.h"

#define RECORD_MAGIC "greenml-train-config 1"
#define RECORD_MAX_BYTES ((size_t)64 << 10)

/* What a record holds. */
struct record {
  char model[64];
  uint32_t epoch;
  int batch_size;
  double lr, momentum, weight_decay;
  enum gm_train_schedule schedule;
  int epochs;
  uint64_t seed;
  long limit_batches;
  enum gm_nn_precision precision; /* "precision" line; absent: fp32 */
  bool have_data; /* the data lines (records since data identities) */
  struct gm_cifar10_identity data;
};

static const char *schedule_name(enum gm_train_schedule s) {
  return s == GM_TRAIN_LR_COSINE ? "cosine" : "constant";
}

static bool record_path(char *buf, size_t size, const char *path) {
  return gm__fmt(buf, size, "%s.config", path);
}

static enum gm_status write_record(struct gm_train *t, const char *path,
                                   uint32_t epoch) {
  char rp[4096], tmp[4200];
  if (!record_path(rp, sizeof(rp), path) ||
      !gm__fmt(tmp, sizeof(tmp), "%s.tmp~", rp)) {
    gm__fmt(t->err, sizeof(t->err), "checkpoint path too long");
    return GM_ERR_INVALID_ARG;
  }
  /* Created exclusively: a symlink planted at tmp is removed, never
   * written through. */
  int fd = gm__file_create(tmp, 0644);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    gm__fmt(t->err, sizeof(t->err), "cannot create '%s': %s", tmp, strerror(e));
    return gm__status_from_errno(e);
  }
  const struct gm_train_config *c = &t->cfg;
  fprintf(f,
          RECORD_MAGIC
          "\nmodel %s\nepoch %u\nbatch_size %d\nlr %.17g\n"
          "momentum %.17g\nweight_decay %.17g\nschedule %s\n"
          "epochs %d\nseed %llu\nlimit_batches %ld\nprecision %s\n",
          t->model, epoch, c->batch_size, c->lr, c->momentum, c->weight_decay,
          schedule_name(c->schedule), c->epochs, (unsigned long long)c->seed,
          c->limit_batches, gm_nn_precision_name(c->precision));
  if (t->have_data)
    fprintf(f,
            "data %s\ndata_seed %llu\ndata_images %zu\ndata_crc32 %08x\n"
            "data_dir %s\n",
            t->data.synthetic ? "synthetic" : "cifar10",
            (unsigned long long)t->data.seed, t->data.count, t->data.crc32,
            t->data.dir);
  bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
  int e = errno;
  ok = fclose(f) == 0 && ok;
  if (!ok) {
    gm__fmt(t->err, sizeof(t->err), "cannot write '%s': %s", tmp, strerror(e));
    unlink(tmp);
    return GM_ERR_IO;
  }
  if (rename(tmp, rp) != 0) {
    e = errno;
    gm__fmt(t->err, sizeof(t->err), "cannot rename '%s' to '%s': %s", tmp, rp,
            strerror(e));
    unlink(tmp);
    return GM_ERR_IO;
  }
  return GM_OK;
}

/* Parses one "key value" line of a record into r; `seen` collects the keys
 * (bits 0..9 the configuration, 10..14 the data). False for a malformed
 * line. */
static bool parse_line(char *line, struct record *r, unsigned *seen) {
  char *sp = strchr(line, ' ');
  if (!sp || sp == line || sp[1] == '\0')
    return false;
  *sp = '\0';
  const char *key = line, *val = sp + 1;
  uint64_t u = 0;
  double d = 0;
  bool is_u = gm__parse_u64(val, &u), is_d = gm__parse_double(val, &d);
  if (strcmp(key, "model") == 0 && strlen(val) < sizeof(r->model)) {
    gm__strlcpy(r->model, val, sizeof(r->model));
    *seen |= 1u;
  } else if (strcmp(key, "epoch") == 0 && is_u && u <= UINT32_MAX) {
    r->epoch = (uint32_t)u;
    *seen |= 2u;
  } else if (strcmp(key, "batch_size") == 0 && is_u && u <= 65536) {
    r->batch_size = (int)u;
    *seen |= 4u;
  } else if (strcmp(key, "lr") == 0 && is_d) {
    r->lr = d;
    *seen |= 8u;
  } else if (strcmp(key, "momentum") == 0 && is_d) {
    r->momentum = d;
    *seen |= 16u;
  } else if (strcmp(key, "weight_decay") == 0 && is_d) {
    r->weight_decay = d;
    *seen |= 32u;
  } else if (strcmp(key, "schedule") == 0 &&
             (strcmp(val, "constant") == 0 || strcmp(val, "cosine") == 0)) {
    r->schedule =
        strcmp(val, "cosine") == 0 ? GM_TRAIN_LR_COSINE : GM_TRAIN_LR_CONSTANT;
    *seen |= 64u;
  } else if (strcmp(key, "epochs") == 0 && is_u && u <= 1u << 30) {
    r->epochs = (int)u;
    *seen |= 128u;
  } else if (strcmp(key, "seed") == 0 && is_u) {
    r->seed = u;
    *seen |= 256u;
  } else if (strcmp(key, "limit_batches") == 0 && is_u && u <= 1ull << 40) {
    r->limit_batches = (long)u;
    *seen |= 512u;
  } else if (strcmp(key, "precision") == 0) {
    /* optional (records before precisions are fp32); an unknown one is a
     * malformed record */
    if (gm_nn_precision_parse(val, &r->precision) != GM_OK)
      return false;
  } else if (strcmp(key, "data") == 0 &&
             (strcmp(val, "synthetic") == 0 || strcmp(val, "cifar10") == 0)) {
    r->data.synthetic = strcmp(val, "synthetic") == 0;
    *seen |= 1024u;
  } else if (strcmp(key, "data_seed") == 0 && is_u) {
    r->data.seed = u;
    *seen |= 2048u;
  } else if (strcmp(key, "data_images") == 0 && is_u && u <= SIZE_MAX) {
    r->data.count = (size_t)u;
    *seen |= 4096u;
  } else if (strcmp(key, "data_crc32") == 0 && strlen(val) == 8 &&
             strspn(val, "0123456789abcdef") == 8) {
    r->data.crc32 = (uint32_t)strtoul(val, NULL, 16);
    *seen |= 8192u;
  } else if (strcmp(key, "data_dir") == 0) {
    gm__strlcpy(r->data.dir, val, sizeof(r->data.dir));
    *seen |= 16384u;
  }
  /* other keys: written by a newer greenml, ignored */
  return true;
}

/* Reads the record of path. GM_ERR_NOT_FOUND when there is none. */
static enum gm_status read_record(struct gm_train *t, const char *path,
                                  struct record *r) {
  char rp[4096], why[128];
  if (!record_path(rp, sizeof(rp), path))
    return GM_ERR_NOT_FOUND;
  char *text = NULL;
  enum gm_status rc =
      gm__file_read_max(rp, RECORD_MAX_BYTES, &text, NULL, why, sizeof(why));
  if (rc != GM_OK) {
    if (errno == ENOENT)
      return GM_ERR_NOT_FOUND;
    gm__fmt(t->err, sizeof(t->err), "cannot read '%s': %s", rp, why);
    return rc;
  }
  memset(r, 0, sizeof(*r));
  unsigned seen = 0;
  bool ok = strncmp(text, RECORD_MAGIC "\n", sizeof(RECORD_MAGIC)) == 0;
  char *save = NULL;
  for (char *line = ok ? strtok_r(text + sizeof(RECORD_MAGIC), "\n", &save)
                       : NULL;
       ok && line; line = strtok_r(NULL, "\n", &save))
    ok = parse_line(line, r, &seen);
  free(text);
  if (!ok || (seen & 1023u) != 1023u ||
      ((seen & ~1023u) != 0 && (seen & ~1023u) != 31744u)) {
    gm__fmt(t->err, sizeof(t->err),
            "'%s' is not a greenml training record (malformed or incomplete)",
            rp);
    return GM_ERR_PARSE;
  }
  r->have_data = (seen & 31744u) == 31744u;
  r->data.split = GM_CIFAR10_TRAIN;
  return GM_OK;
}

/* "'DIR' (synthetic, seed 1, 5000 images, CRC-32 0123abcd)" */
static void describe_data(char *buf, size_t size,
                          const struct gm_cifar10_identity *d) {
  char kind[64];
  if (d->synthetic)
    gm__fmt(kind, sizeof(kind), "synthetic, seed %llu",
            (unsigned long long)d->seed);
  else
    gm__fmt(kind, sizeof(kind), "CIFAR-10");
  gm__fmt(buf, size, "'%s' (%s, %zu images, CRC-32 %08x)", d->dir, kind,
          d->count, d->crc32);
}

/* Appends "what A, here B" to the list of differences in buf. */
static void differ(char *buf, size_t size, size_t *n, const char *what,
                   const char *then, const char *now) {
  size_t len = strlen(buf);
  if (len < size)
    snprintf(buf + len, size - len, "%s%s %s (here %s)", *n ? "; " : "", what,
             then, now);
  (*n)++;
}

/* Compares a record with t's configuration; the differences go into buf. */
static size_t compare(const struct gm_train *t, const struct record *r,
                      char *buf, size_t size) {
  const struct gm_train_config *c = &t->cfg;
  size_t n = 0;
  char a[64], b[64];
  buf[0] = '\0';
  if (strcasecmp(r->model, t->model) != 0)
    differ(buf, size, &n, "model", r->model, t->model);
  if (r->batch_size != c->batch_size) {
    snprintf(a, sizeof(a), "%d", r->batch_size);
    snprintf(b, sizeof(b), "%d", c->batch_size);
    differ(buf, size, &n, "batch size", a, b);
  }
  const struct {
    const char *name;
    double then, now;
  } reals[] = {{"learning rate", r->lr, c->lr},
               {"momentum", r->momentum, c->momentum},
               {"weight decay", r->weight_decay, c->weight_decay}};
  for (size_t i = 0; i < sizeof(reals) / sizeof(*reals); i++)
    if (reals[i].then != reals[i].now) {
      snprintf(a, sizeof(a), "%g", reals[i].then);
      snprintf(b, sizeof(b), "%g", reals[i].now);
      differ(buf, size, &n, reals[i].name, a, b);
    }
  if (r->schedule != c->schedule)
    differ(buf, size, &n, "schedule", schedule_name(r->schedule),
           schedule_name(c->schedule));
  else if (c->schedule == GM_TRAIN_LR_COSINE && r->epochs != c->epochs) {
    snprintf(a, sizeof(a), "%d", r->epochs);
    snprintf(b, sizeof(b), "%d", c->epochs);
    differ(buf, size, &n, "cosine schedule over epochs", a, b);
  }
  if (r->seed != c->seed) {
    snprintf(a, sizeof(a), "%llu", (unsigned long long)r->seed);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)c->seed);
    differ(buf, size, &n, "seed", a, b);
  }
  if (r->precision != c->precision)
    differ(buf, size, &n, "precision", gm_nn_precision_name(r->precision),
           gm_nn_precision_name(c->precision));
  if (r->limit_batches != c->limit_batches) {
    snprintf(a, sizeof(a), "%ld", r->limit_batches);
    snprintf(b, sizeof(b), "%ld", c->limit_batches);
    differ(buf, size, &n, "batches per epoch limited to", a, b);
  }
  /* The data: the same bytes wherever they are. */
  if (r->have_data && t->have_data &&
      (r->data.synthetic != t->data.synthetic || r->data.seed != t->data.seed ||
       r->data.count != t->data.count || r->data.crc32 != t->data.crc32)) {
    char then[1200], now[1200];
    describe_data(then, sizeof(then), &r->data);
    describe_data(now, sizeof(now), &t->data);
    differ(buf, size, &n, "data set", then, now);
  }
  return n;
}

enum gm_status gm_train_save(struct gm_train *t, const char *path,
                             uint32_t epochs_done) {
  if (!t || !path)
    return GM_ERR_INVALID_ARG;
  struct gm_nn_checkpoint_info info = {.epoch = epochs_done,
                                       .seed = t->cfg.seed};
  gm__strlcpy(info.model, t->model, sizeof(info.model));
  enum gm_status rc = t->torch ? gm__torch_save(t, path, epochs_done)
                               : gm_nn_checkpoint_save(t->eng, path, &info,
                                                       t->err, sizeof(t->err));
  if (rc != GM_OK)
    return rc;
  return write_record(t, path, epochs_done);
}

/* Loads path into the engine. */
static enum gm_status load(struct gm_train *t, const char *path,
                           struct gm_nn_checkpoint_info *info) {
  if (t->torch)
    return gm__torch_load(t, path, info);
  return gm_nn_checkpoint_load(t->eng, path, info, t->err, sizeof(t->err));
}

enum gm_status gm_train_resume(struct gm_train *t, const char *path,
                               uint32_t *epochs_done) {
  if (!t || !path)
    return GM_ERR_INVALID_ARG;
  struct record r;
  enum gm_status rc = read_record(t, path, &r);
  bool have = rc == GM_OK;
  if (rc != GM_OK && rc != GM_ERR_NOT_FOUND)
    return rc;
  char diff[3072];
  if (have && compare(t, &r, diff, sizeof(diff)) > 0) {
    gm__fmt(t->err, sizeof(t->err),
            "'%s' was made with another configuration: %s; resume with the "
            "same settings or start afresh",
            path, diff);
    return GM_ERR_INVALID_ARG;
  }
  struct gm_nn_checkpoint_info info;
  rc = load(t, path, &info);
  if (rc != GM_OK)
    return rc;
  if (have && r.epoch != info.epoch) {
    gm__fmt(t->err, sizeof(t->err),
            "'%s' holds epoch %u but its record says %u: its save was cut "
            "short; resume from an earlier checkpoint or start afresh",
            path, info.epoch, r.epoch);
    return GM_ERR_PARSE;
  }
  if (!have &&
      (strcasecmp(info.model, t->model) != 0 || info.seed != t->cfg.seed)) {
    gm__fmt(t->err, sizeof(t->err),
            "'%s' was made with another configuration: model %s, seed %llu "
            "(here %s, seed %llu); resume with the same settings or start "
            "afresh",
            path, info.model, (unsigned long long)info.seed, t->model,
            (unsigned long long)t->cfg.seed);
    return GM_ERR_INVALID_ARG;
  }
  if (epochs_done)
    *epochs_done = info.epoch;
  return GM_OK;
}

enum gm_status gm_train_load_weights(struct gm_train *t, const char *path) {
  if (!t || !path)
    return GM_ERR_INVALID_ARG;
  struct gm_nn_checkpoint_info info;
  return load(t, path, &info);
}

void gm_train_use_data(struct gm_train *t, const struct gm_cifar10 *ds) {
  if (!t)
    return;
  t->have_data = ds != NULL;
  gm_cifar10_identity(ds, &t->data);
}

enum gm_status gm_train_check_checkpoint_path(const char *path, char *err,
                                              size_t err_size) {
  char dir[4096], probe[4200];
  if (!path || !*path) {
    if (err)
      gm__fmt(err, err_size, "no checkpoint path");
    return GM_ERR_INVALID_ARG;
  }
  const char *slash = strrchr(path, '/');
  if (!slash)
    gm__strlcpy(dir, ".", sizeof(dir));
  else if (slash == path)
    gm__strlcpy(dir, "/", sizeof(dir));
  else if (!gm__fmt(dir, sizeof(dir), "%.*s", (int)(slash - path), path)) {
    if (err)
      gm__fmt(err, err_size, "checkpoint path '%s' is too long", path);
    return GM_ERR_INVALID_ARG;
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    int e = errno;
    if (err)
      gm__fmt(err, err_size,
              "the checkpoint directory '%s' %s: create it (mkdir -p '%s') or "
              "choose another --checkpoint",
              dir, e == ENOENT ? "does not exist" : strerror(e), dir);
    return e == ENOENT || e == ENOTDIR ? GM_ERR_NOT_FOUND
                                       : gm__status_from_errno(e);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (err)
      gm__fmt(err, err_size,
              "the checkpoint directory '%s' is %s, not a directory", dir,
              gm__file_kind(st.st_mode));
    return GM_ERR_NOT_FOUND;
  }
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
    if (err)
      gm__fmt(err, err_size, "the checkpoint '%s' is %s, not a regular file",
              path, gm__file_kind(st.st_mode));
    return GM_ERR_INVALID_ARG;
  }
  /* The one test that holds for root and read-only file systems alike:
   * creating a file there. */
  if (!gm__fmt(probe, sizeof(probe), "%s/.greenml-write-test-%ld", dir,
               (long)getpid())) {
    if (err)
      gm__fmt(err, err_size, "checkpoint path '%s' is too long", path);
    return GM_ERR_INVALID_ARG;
  }
  int fd = gm__file_create(probe, 0600);
  if (fd < 0) {
    int e = errno;
    if (err)
      gm__fmt(err, err_size,
              "cannot write in the checkpoint directory '%s': %s", dir,
              strerror(e));
    return gm__status_from_errno(e);
  }
  close(fd);
  unlink(probe);
  return GM_OK;
}

void gm_train_checkpoint_remove(const char *path) {
  char rp[4096];
  if (!path)
    return;
  unlink(path);
  if (record_path(rp, sizeof(rp), path))
    unlink(rp);
}
