/* data.h: the CIFAR-10 data set in its official binary format: loading with
 * validation, conversion of images into normalised float batches (with the
 * usual training augmentation), a synthetic stand-in in the same format, and
 * the download of the official archive.
 *
 * The format (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
 * data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin (test),
 * each a sequence of 3073-byte records: one label byte (0..9), then 3072
 * pixel bytes: 1024 red, 1024 green, 1024 blue, each plane 32 x 32 row-major
 * (the first 32 bytes are the red values of the top row). The official
 * files hold 10000 records each (30730000 bytes).
 *
 * A directory may instead hold a synthetic data set written by
 * gm_cifar10_synth(): the same files, fewer records, and a manifest
 * (GM_CIFAR10_MANIFEST) giving the record counts. The loader accepts those
 * counts only when the manifest is there; without it every file must have
 * exactly 10000 records. docs/data.md has the details.
 *
 * Random numbers: splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014; the constants of Vigna's
 * reference implementation), one 64-bit state word owned by the caller.
 * Every result is a function of the seed alone, on every machine.
 *
 * Errors: every fallible function returns enum gm_status; those that take an
 * (err, err_size) buffer write a message there (lowercase, the file named,
 * the fix). The library never prints and never exits. A struct gm_cifar10 is
 * immutable once opened: concurrent readers need no locking.
 */
#ifndef GREENML_DATA_H
#define GREENML_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/status.h"

#define GM_CIFAR10_CLASSES 10
#define GM_CIFAR10_SIDE 32     /* pixels, width = height */
#define GM_CIFAR10_CHANNELS 3  /* R, G, B */
#define GM_CIFAR10_PLANE 1024  /* pixels (bytes) per channel plane */
#define GM_CIFAR10_PIXELS 3072 /* bytes per image: 3 planes */
#define GM_CIFAR10_RECORD_BYTES 3073
#define GM_CIFAR10_FILE_RECORDS 10000     /* records per official file */
#define GM_CIFAR10_FILE_BYTES 30730000ULL /* bytes per official file */
#define GM_CIFAR10_TRAIN_FILES 5
/* The paper replicates the test set five times: 50000 inference samples. */
#define GM_CIFAR10_INFERENCE_REPLICAS 5

/* The official binary archive and its MD5, as published on
 * https://www.cs.toronto.edu/~kriz/cifar.html (162 MB, 170052171 bytes). */
#define GM_CIFAR10_URL "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
#define GM_CIFAR10_MD5 "c32a1d4ab5d03f1284b67883e8d87530"
/* Name of the archive while and after it is downloaded into DIR. */
#define GM_CIFAR10_ARCHIVE "cifar-10-binary.tar.gz"
/* The manifest of a synthetic data set, in DIR. */
#define GM_CIFAR10_MANIFEST "greenml-synthetic.txt"
/* Largest record count per file of a synthetic data set. */
#define GM_CIFAR10_SYNTH_MAX 10000

/* Per-channel normalisation applied by gm_cifar10_batch() after scaling the
 * bytes to [0, 1]: (x - mean) / std, channels R, G, B. */
#define GM_CIFAR10_MEAN_R 0.4914
#define GM_CIFAR10_MEAN_G 0.4822
#define GM_CIFAR10_MEAN_B 0.4465
#define GM_CIFAR10_STD_R 0.2023
#define GM_CIFAR10_STD_G 0.1994
#define GM_CIFAR10_STD_B 0.2010

enum gm_cifar10_split {
  GM_CIFAR10_TRAIN, /* data_batch_1.bin .. data_batch_5.bin, in that order */
  GM_CIFAR10_TEST   /* test_batch.bin */
};

/* A split loaded into memory (labels and pixels, 3072 bytes per image). */
struct gm_cifar10;

/* "data_batch_1.bin" for file 0 .. 4, "test_batch.bin" for file 5; NULL
 * beyond. Static storage. */
GM_API const char *gm_cifar10_file_name(unsigned file);

/* Loads one split from the directory dir (not retained). Checks that every
 * file of the split exists, is a regular file (a FIFO or a device is
 * refused, never opened) and has the expected size (30730000 bytes, or the
 * manifest's count x 3073 for a synthetic set) and that every label is < 10;
 * the CRC-32 of the bytes is computed on the way (gm_cifar10_identity).
 * On success *out is a new handle owned by the caller (gm_cifar10_close).
 * Statuses: GM_ERR_NOT_FOUND when a file is missing; GM_ERR_PARSE when a file
 * has the wrong size, a bad label or the manifest is malformed;
 * GM_ERR_PERMISSION or GM_ERR_IO when a file cannot be read;
 * GM_ERR_NO_MEMORY; GM_ERR_INVALID_ARG. On failure *out is NULL and err
 * (err_size bytes, may be NULL/0) holds the message, naming the file and the
 * command that fixes it. */
GM_API enum gm_status gm_cifar10_open(const char *dir,
                                      enum gm_cifar10_split split,
                                      struct gm_cifar10 **out, char *err,
                                      size_t err_size);
/* Releases a handle; NULL is a no-op. Images returned by gm_cifar10_image()
 * are invalid afterwards. */
GM_API void gm_cifar10_close(struct gm_cifar10 *ds);

/* Number of images (50000 or 10000 for the official set). */
GM_API size_t gm_cifar10_count(const struct gm_cifar10 *ds);
/* True when the directory held a synthetic data set (a manifest). */
GM_API bool gm_cifar10_is_synthetic(const struct gm_cifar10 *ds);
/* What identifies the data a split was loaded from: a checkpoint records
 * it, and resuming compares it (train.h). */
struct gm_cifar10_identity {
  enum gm_cifar10_split split;
  bool synthetic; /* a manifest was there */
  uint64_t seed;  /* the manifest's seed; 0 for CIFAR-10 */
  size_t count;   /* images */
  uint32_t crc32; /* CRC-32 (zlib's) of the split's files, in file order:
                     every byte loaded */
  char dir[1024]; /* the directory given to gm_cifar10_open (not compared:
                     the same files elsewhere are the same data) */
};
/* Fills *out for ds (all zero for NULL). The CRC is computed while loading,
 * so this costs nothing. */
GM_API void gm_cifar10_identity(const struct gm_cifar10 *ds,
                                struct gm_cifar10_identity *out);

/* Label 0..9 of image i (i < count; 0 beyond). */
GM_API int gm_cifar10_label(const struct gm_cifar10 *ds, size_t i);
/* The 3072 pixel bytes of image i (R plane, G plane, B plane, row-major),
 * borrowed from ds; NULL when i >= count. */
GM_API const uint8_t *gm_cifar10_image(const struct gm_cifar10 *ds, size_t i);
/* Number of images of each class into counts[0..9]. */
GM_API void gm_cifar10_class_counts(const struct gm_cifar10 *ds,
                                    size_t counts[GM_CIFAR10_CLASSES]);

/* Replication: the sample i of the test set repeated `replicas` times is
 * image i % count (the paper's 50000 inference samples are i = 0 .. 49999
 * with GM_CIFAR10_INFERENCE_REPLICAS). gm_cifar10_replicated_count returns
 * count x replicas. */
GM_API size_t gm_cifar10_replicated_count(const struct gm_cifar10 *ds,
                                          unsigned replicas);
GM_API uint32_t gm_cifar10_replicated_index(const struct gm_cifar10 *ds,
                                            size_t i);

/* Converts the n images indices[0..n-1] (each < count) into out_nchw, n x 3
 * x 32 x 32 floats (caller-owned, n * 3072 floats), NCHW, each byte scaled to
 * [0, 1] and normalised per channel with the GM_CIFAR10_MEAN_x/STD_x above;
 * labels[k] (caller-owned, n entries; may be NULL) receives the label of
 * indices[k].
 *
 * With augment, each image is transformed as torchvision's
 * RandomCrop(32, padding=4) followed by RandomHorizontalFlip(0.5): the image
 * is padded with 4 zero bytes on each side (40 x 40; a padded pixel becomes
 * (0 - mean) / std after normalisation), a 32 x 32 window at row offset dy
 * and column offset dx (each 0..8) is kept, and mirrored left-right when the
 * flip is drawn. Draws per image, in order, from *rng_state (splitmix64,
 * advanced in place): dy = gm_data_rng_below(9), dx = gm_data_rng_below(9),
 * flip = top bit of gm_data_rng_next. rng_state may be NULL without augment.
 * GM_ERR_INVALID_ARG (nothing written) for an index out of range or a NULL
 * pointer. */
GM_API enum gm_status gm_cifar10_batch(const struct gm_cifar10 *ds,
                                       const uint32_t *indices, size_t n,
                                       bool augment, uint64_t *rng_state,
                                       float *out_nchw, int32_t *labels);

/* splitmix64: advances *state and returns the next 64-bit output. */
GM_API uint64_t gm_data_rng_next(uint64_t *state);
/* A uniform integer in [0, n) (n > 0; 0 when n is 0), unbiased (rejection
 * of the top partial range). */
GM_API uint64_t gm_data_rng_below(uint64_t *state, uint64_t n);
/* Fisher-Yates (Durstenfeld) shuffle of order[0..n-1] in place: for i from
 * n-1 down to 1, swap order[i] with order[gm_data_rng_below(i + 1)]. */
GM_API void gm_data_shuffle(uint32_t *order, size_t n, uint64_t *rng_state);
/* The visiting order of an epoch: order[0..n-1] (caller-owned) is filled with
 * 0..n-1 and shuffled with a state derived from (seed, epoch) only, so an
 * epoch's order does not depend on how many numbers augmentation drew. */
GM_API void gm_cifar10_epoch_order(uint32_t *order, size_t n, uint64_t seed,
                                   uint64_t epoch);

/* Writes a synthetic data set into dir (created if missing, one level):
 * train_per_batch records (1 .. GM_CIFAR10_SYNTH_MAX) in each of the five
 * training files, test_count (1 .. GM_CIFAR10_SYNTH_MAX) in test_batch.bin,
 * and the manifest. Class k's images are stripes of a class-specific
 * orientation (horizontal for even k, vertical for odd k) and period, between
 * two class-specific colours, with a random phase, a random brightness offset
 * and per-pixel noise; labels are balanced (counts differ by at most one per
 * file) in a shuffled order. The bytes depend on seed only. Existing files
 * of the same names are replaced (each written under a temporary name, then
 * renamed; the temporary file is created exclusively, so a symlink planted
 * at its name is removed, never written through). GM_ERR_INVALID_ARG for a
 * count out of range; GM_ERR_PERMISSION or GM_ERR_IO when dir or a file
 * cannot be created or written. */
GM_API enum gm_status gm_cifar10_synth(const char *dir, uint64_t seed,
                                       size_t train_per_batch,
                                       size_t test_count, char *err,
                                       size_t err_size);

/* The limits of a download. The archive is 170052171 bytes; a batch file
 * 30730000. */
#define GM_CIFAR10_MAX_ARCHIVE_BYTES ((uint64_t)256 << 20) /* 256 MiB */
#define GM_CIFAR10_MAX_EXPANDED_BYTES ((uint64_t)512 << 20)
#define GM_CIFAR10_MANIFEST_MAX_BYTES ((uint64_t)64 << 10)
struct gm_cifar10_fetch_limits {
  /* Largest body accepted: a larger Content-Length is refused before the
   * transfer, a longer body stopped when it passes the limit. */
  uint64_t max_archive_bytes;
  long connect_timeout_s; /* to establish the connection */
  /* A transfer slower than low_speed_bytes_per_s for low_speed_time_s
   * seconds in a row is abandoned (libcurl's LOW_SPEED_LIMIT/TIME). */
  long low_speed_bytes_per_s;
  long low_speed_time_s;
};
/* 256 MiB, 30 s, 1024 bytes/s over 60 s. */
GM_API struct gm_cifar10_fetch_limits gm_cifar10_fetch_limits_default(void);

/* Progress of a download: done_bytes received so far, total_bytes expected
 * (0 while unknown). Called from the thread running gm_cifar10_fetch. */
typedef void (*gm_cifar10_progress_fn)(uint64_t done_bytes,
                                       uint64_t total_bytes, void *ctx);

/* What gm_cifar10_fetch did. */
struct gm_cifar10_fetch_info {
  bool already_present;    /* dir already held a valid official data set */
  bool reused_archive;     /* a complete archive in dir was used, no download */
  uint64_t archive_bytes;  /* size of the archive checked */
  char md5[33];            /* its MD5, lowercase hex ("" when not computed) */
  char archive_path[1024]; /* DIR/cifar-10-binary.tar.gz */
  bool transfer_failed;    /* the URL could not be read (network, HTTP status,
                              missing file): nothing was downloaded */
};

/* Downloads the binary archive and installs the data set into dir:
 *
 * 1. when dir already holds a valid official set (both splits load, no
 *    manifest) nothing is done: info->already_present;
 * 2. when DIR/GM_CIFAR10_ARCHIVE exists with the expected MD5 it is used;
 *    otherwise url (NULL: GM_CIFAR10_URL; http or https, redirects followed
 *    to http or https only; or file:// for an archive already on disk) is
 *    downloaded with libcurl into DIR/cifar-10-binary.tar.gz.part (created
 *    afresh and exclusively: whatever stood at that path, a symlink
 *    included, is removed, never written through), its MD5 computed on the
 *    way, and renamed to DIR/cifar-10-binary.tar.gz when it equals
 *    expected_md5 (NULL: GM_CIFAR10_MD5; 32 hex digits, any case). The
 *    transfer is bounded by limits (NULL: gm_cifar10_fetch_limits_default):
 *    a body over max_archive_bytes, a connection not made within
 *    connect_timeout_s, and a transfer below low_speed_bytes_per_s for
 *    low_speed_time_s are errors naming the limit, and the .part is
 *    deleted;
 * 3. the six .bin files (and GM_CIFAR10_MANIFEST when the archive has one)
 *    are extracted with libarchive, by base name, from any directory of the
 *    archive (the official one holds cifar-10-batches-bin/), into a private
 *    staging directory DIR/.greenml-fetch-XXXXXX (mode 0700); no path from
 *    the archive is used. A batch file over GM_CIFAR10_FILE_BYTES, a
 *    manifest over GM_CIFAR10_MANIFEST_MAX_BYTES, or an archive whose
 *    members add up to more than GM_CIFAR10_MAX_EXPANDED_BYTES is refused
 *    while extracting;
 * 4. both splits are loaded from the staging directory to validate them;
 *    only then are the files renamed into dir (a stale manifest in dir is
 *    removed when the archive has none), and the archive deleted. A data set
 *    that does not validate leaves dir as it was: the staging directory and
 *    the archive are deleted.
 *
 * dir is created when missing (one level). progress (may be NULL) is called
 * as bytes arrive, ctx passed through. info (may be NULL) receives what was
 * done. Statuses: GM_ERR_IO for network failures, HTTP errors (the message
 * names the URL and the HTTP status code), timeouts (naming the limit) and
 * write failures (a verified archive is then kept for step 2 of the next
 * call); GM_ERR_PARSE for a checksum mismatch (the download is deleted,
 * nothing is extracted), a body over max_archive_bytes, an archive that is
 * not a gzip'ed tar, lacks a batch file or has a member over its limit (the
 * archive is deleted), and a data set that does not validate;
 * GM_ERR_PERMISSION when dir or a file in it cannot be created;
 * GM_ERR_INVALID_ARG for a bad expected_md5, URL scheme or limit;
 * GM_ERR_UNAVAILABLE when libcurl cannot be initialised or OpenSSL has no
 * MD5 (FIPS mode); GM_ERR_NO_MEMORY.
 *
 * Blocks until done (minutes for the official 162 MB). Calls
 * curl_global_init/curl_global_cleanup around the transfer: with a libcurl
 * older than 7.84 do not call it while another thread uses libcurl. */
GM_API enum gm_status gm_cifar10_fetch(const char *url, const char *dir,
                                       const char *expected_md5,
                                       gm_cifar10_progress_fn progress,
                                       void *ctx,
                                       struct gm_cifar10_fetch_info *info,
                                       char *err, size_t err_size);
/* The same with explicit limits (NULL: the defaults; every field > 0). */
GM_API enum gm_status
gm_cifar10_fetch_ex(const char *url, const char *dir, const char *expected_md5,
                    const struct gm_cifar10_fetch_limits *limits,
                    gm_cifar10_progress_fn progress, void *ctx,
                    struct gm_cifar10_fetch_info *info, char *err,
                    size_t err_size);

#endif
