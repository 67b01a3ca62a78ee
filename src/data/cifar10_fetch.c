/* cifar10_fetch.c: download of the CIFAR-10 binary archive (libcurl), its
 * MD5 (OpenSSL EVP) and the extraction of the six batch files (libarchive).
 * See gm_cifar10_fetch in include/greenml/data.h. */
#define _GNU_SOURCE
#include "data/cifar10_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"

#define N_MEMBERS (GM_CIFAR10_TRAIN_FILES + 2) /* six batches + manifest */
/* The staging directory's name in DIR, before mkdtemp's six characters. */
#define STAGING_PREFIX ".greenml-fetch-"

static const char *member_name(unsigned i) {
  return i <= GM_CIFAR10_TRAIN_FILES ? gm_cifar10_file_name(i)
                                     : GM_CIFAR10_MANIFEST;
}

/* The largest size accepted for member i. */
static uint64_t member_max(unsigned i) {
  return i <= GM_CIFAR10_TRAIN_FILES ? GM_CIFAR10_FILE_BYTES
                                     : GM_CIFAR10_MANIFEST_MAX_BYTES;
}

struct gm_cifar10_fetch_limits gm_cifar10_fetch_limits_default(void) {
  return (struct gm_cifar10_fetch_limits){.max_archive_bytes =
                                              GM_CIFAR10_MAX_ARCHIVE_BYTES,
                                          .connect_timeout_s = 30,
                                          .low_speed_bytes_per_s = 1024,
                                          .low_speed_time_s = 60};
}

static void hex(const unsigned char *d, unsigned n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < n; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[2 * n] = '\0';
}

/* ---- MD5 ----------------------------------------------------------------- */

static enum gm_status md5_begin(EVP_MD_CTX **ctx, char *err, size_t err_size) {
  *ctx = EVP_MD_CTX_new();
  if (!*ctx) {
    gm__data_err(err, err_size, "out of memory for an MD5 context");
    return GM_ERR_NO_MEMORY;
  }
  if (EVP_DigestInit_ex(*ctx, EVP_md5(), NULL) != 1) {
    EVP_MD_CTX_free(*ctx);
    *ctx = NULL;
    gm__data_err(err, err_size,
                 "OpenSSL has no MD5 here (FIPS mode?): cannot verify the "
                 "archive");
    return GM_ERR_UNAVAILABLE;
  }
  return GM_OK;
}

static void md5_end(EVP_MD_CTX *ctx, char out[33]) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx, d, &n);
  EVP_MD_CTX_free(ctx);
  hex(d, n > 16 ? 16 : n, out);
}

static enum gm_status md5_file(const char *path, char out[33], uint64_t *bytes,
                               char *err, size_t err_size) {
  EVP_MD_CTX *ctx = NULL;
  enum gm_status rc = md5_begin(&ctx, err, err_size);
  if (rc != GM_OK)
    return rc;
  *bytes = 0;
  int fd = -1;
  char why[128];
  rc = gm__file_open_regular(path, &fd, NULL, why, sizeof(why));
  if (rc != GM_OK) {
    EVP_MD_CTX_free(ctx);
    gm__data_err(err, err_size, "cannot read '%s': %s", path, why);
    return rc;
  }
  unsigned char *buf = malloc(1 << 16);
  if (!buf) {
    close(fd);
    EVP_MD_CTX_free(ctx);
    gm__data_err(err, err_size, "out of memory reading '%s'", path);
    return GM_ERR_NO_MEMORY;
  }
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 16);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      gm__data_err(err, err_size, "cannot read '%s': %s", path, strerror(e));
      rc = GM_ERR_IO;
      break;
    }
    if (n == 0)
      break;
    EVP_DigestUpdate(ctx, buf, (size_t)n);
    *bytes += (uint64_t)n;
  }
  free(buf);
  close(fd);
  if (rc != GM_OK) {
    EVP_MD_CTX_free(ctx);
    return rc;
  }
  md5_end(ctx, out);
  return GM_OK;
}

/* ---- download ------------------------------------------------------------ */

struct download {
  FILE *f;
  EVP_MD_CTX *md5;
  uint64_t bytes;
  uint64_t max_bytes;
  bool too_big; /* the body passed max_bytes: stopped */
  int write_errno;
  gm_cifar10_progress_fn progress;
  void *ctx;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
  struct download *d = ud;
  size_t n = size * nmemb;
  if (n > d->max_bytes - d->bytes) {
    d->too_big = true;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  if (n && fwrite(p, 1, n, d->f) != n) {
    d->write_errno = errno ? errno : EIO;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  EVP_DigestUpdate(d->md5, p, n);
  d->bytes += n;
  return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  (void)ultotal;
  (void)ulnow;
  struct download *d = ud;
  if (d->progress)
    d->progress(dlnow > 0 ? (uint64_t)dlnow : 0,
                dltotal > 0 ? (uint64_t)dltotal : 0, d->ctx);
  return 0;
}

/* The message of a body over the limit. */
static void too_big(char *err, size_t err_size, const char *url, uint64_t max,
                    uint64_t got, bool announced) {
  char seen[96] = "";
  if (!announced)
    gm__fmt(seen, sizeof(seen), " (stopped after %llu bytes)",
            (unsigned long long)got);
  gm__data_err(err, err_size,
               "'%s' is larger than the download limit of %llu bytes (%.0f "
               "MiB; the CIFAR-10 archive is 170052171 bytes)%s%s; the "
               "download was deleted (--max-filesize raises the limit)",
               url, (unsigned long long)max, (double)max / 1048576.0,
               announced ? ", as its Content-Length says" : "", seen);
}

/* Downloads url into part, computing its MD5 into md5 (hex); *failed is
 * set when the transfer itself fails (not when writing part does). */
static enum gm_status download(const char *url, const char *part,
                               const struct gm_cifar10_fetch_limits *lim,
                               gm_cifar10_progress_fn progress, void *ctx,
                               char md5[33], uint64_t *bytes, bool *failed,
                               char *err, size_t err_size) {
  struct download d = {
      .progress = progress, .ctx = ctx, .max_bytes = lim->max_archive_bytes};
  CURL *h = NULL;
  bool curl_inited = false;
  enum gm_status rc = md5_begin(&d.md5, err, err_size);
  if (rc != GM_OK)
    return rc;
  /* Created afresh: a symlink planted at part is removed, not followed. */
  int fd = gm__file_create(part, 0644);
  d.f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!d.f) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    gm__data_err(err, err_size, "cannot create '%s': %s", part, strerror(e));
    rc = gm__data_write_status(e);
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    gm__data_err(err, err_size, "cannot initialise libcurl");
    rc = GM_ERR_UNAVAILABLE;
    goto out;
  }
  curl_inited = true;
  h = curl_easy_init();
  if (!h) {
    gm__data_err(err, err_size, "cannot initialise libcurl");
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  char cerr[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &d);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, lim->connect_timeout_s);
  /* A stalled or trickling transfer is an error, not a hang. */
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, lim->low_speed_bytes_per_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, lim->low_speed_time_s);
  /* A Content-Length over the limit is refused before the body comes. */
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   (curl_off_t)(lim->max_archive_bytes > INT64_MAX
                                    ? INT64_MAX
                                    : lim->max_archive_bytes));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "greenml/" GM_VERSION_STRING);
#if LIBCURL_VERSION_NUM >= 0x075500
  /* file:// for an archive already on disk; a redirect never leads there */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (cc == CURLE_HTTP_RETURNED_ERROR) {
    *failed = true;
    gm__data_err(err, err_size,
                 "cannot download '%s': HTTP status %ld; check the URL (the "
                 "official one is %s)",
                 url, status, GM_CIFAR10_URL);
    rc = GM_ERR_IO;
    goto out;
  }
  if (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && d.too_big)) {
    too_big(err, err_size, url, lim->max_archive_bytes, d.bytes,
            cc == CURLE_FILESIZE_EXCEEDED);
    rc = GM_ERR_PARSE;
    goto out;
  }
  if (cc == CURLE_OPERATION_TIMEDOUT) {
    *failed = true;
    curl_off_t connect_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    if (connect_us > 0)
      gm__data_err(err, err_size,
                   "cannot download '%s': slower than the low-speed limit of "
                   "%ld bytes/s for %ld s (%llu bytes received): %s; the "
                   "download was deleted (--speed-limit and --speed-time "
                   "change the limit)",
                   url, lim->low_speed_bytes_per_s, lim->low_speed_time_s,
                   (unsigned long long)d.bytes,
                   cerr[0] ? cerr : curl_easy_strerror(cc));
    else
      gm__data_err(err, err_size,
                   "cannot download '%s': no connection within the %ld s "
                   "connect timeout: %s (--connect-timeout changes it)",
                   url, lim->connect_timeout_s,
                   cerr[0] ? cerr : curl_easy_strerror(cc));
    rc = GM_ERR_IO;
    goto out;
  }
  if (cc == CURLE_WRITE_ERROR && d.write_errno) {
    gm__data_err(err, err_size, "cannot write '%s': %s", part,
                 strerror(d.write_errno));
    rc = gm__data_write_status(d.write_errno);
    goto out;
  }
  if (cc != CURLE_OK) {
    *failed = true;
    gm__data_err(err, err_size, "cannot download '%s': %s", url,
                 cerr[0] ? cerr : curl_easy_strerror(cc));
    rc = GM_ERR_IO;
    goto out;
  }
  if (fflush(d.f) != 0 || fsync(fileno(d.f)) != 0) {
    int e = errno;
    gm__data_err(err, err_size, "cannot write '%s': %s", part, strerror(e));
    rc = gm__data_write_status(e);
    goto out;
  }
  *bytes = d.bytes;
out:
  if (h)
    curl_easy_cleanup(h);
  if (curl_inited)
    curl_global_cleanup();
  if (d.f && fclose(d.f) != 0 && rc == GM_OK) {
    int e = errno;
    gm__data_err(err, err_size, "cannot write '%s': %s", part, strerror(e));
    rc = gm__data_write_status(e);
  }
  if (rc == GM_OK)
    md5_end(d.md5, md5);
  else
    EVP_MD_CTX_free(d.md5);
  return rc;
}

/* ---- extraction ---------------------------------------------------------- */

/* Index of the member whose base name is `base`, or -1. */
static int member_index(const char *base) {
  for (unsigned i = 0; i < N_MEMBERS; i++)
    if (strcmp(base, member_name(i)) == 0)
      return (int)i;
  return -1;
}

/* Removes the staging directory dir and the members in it. */
static void remove_staging(const char *dir) {
  char path[GM__DATA_PATH_MAX + 64];
  for (unsigned i = 0; i < N_MEMBERS; i++)
    if (gm__fmt(path, sizeof(path), "%s/%s", dir, member_name(i)))
      unlink(path);
  rmdir(dir);
}

/* Removes the staging directories an interrupted run left in dir: ours
 * only (a directory, not a link, owned by this user). */
static void sweep_staging(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  char path[GM__DATA_PATH_MAX + 64];
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(de->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) != 0 ||
        !gm__fmt(path, sizeof(path), "%s/%s", dir, de->d_name) ||
        lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
      continue;
    remove_staging(path);
  }
  closedir(d);
}

/* Copies the current entry's data, of at most max bytes, into path. */
static enum gm_status extract_entry(struct archive *a, const char *archive,
                                    const char *name, const char *path,
                                    uint64_t max, char *buf, size_t size,
                                    char *err, size_t err_size) {
  int fd = gm__file_create(path, 0644);
  if (fd < 0) {
    int e = errno;
    gm__data_err(err, err_size, "cannot create '%s': %s", path, strerror(e));
    return gm__data_write_status(e);
  }
  enum gm_status rc = GM_OK;
  uint64_t total = 0;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, size);
    if (n < 0) {
      gm__data_err(err, err_size, "cannot extract '%s': %s (corrupt archive?)",
                   archive, archive_error_string(a));
      rc = GM_ERR_PARSE;
      break;
    }
    if (n == 0)
      break;
    if ((uint64_t)n > max - total) {
      gm__data_err(err, err_size,
                   "'%s' holds a '%s' of more than %llu bytes, the size of a "
                   "CIFAR-10 %s: refused while extracting",
                   archive, name, (unsigned long long)max,
                   max == GM_CIFAR10_FILE_BYTES ? "batch file"
                                                : "greenml manifest");
      rc = GM_ERR_PARSE;
      break;
    }
    total += (uint64_t)n;
    size_t off = 0;
    while (off < (size_t)n) {
      ssize_t w = write(fd, buf + off, (size_t)n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        int e = errno;
        gm__data_err(err, err_size, "cannot write '%s': %s", path, strerror(e));
        rc = gm__data_write_status(e);
        break;
      }
      off += (size_t)w;
    }
    if (rc != GM_OK)
      break;
  }
  if (close(fd) != 0 && rc == GM_OK) {
    int e = errno;
    gm__data_err(err, err_size, "cannot write '%s': %s", path, strerror(e));
    rc = gm__data_write_status(e);
  }
  if (rc != GM_OK)
    unlink(path);
  return rc;
}

/* Extracts the batch files (and a manifest) of archive into the staging
 * directory stage; written[i] tells which members were there. */
static enum gm_status extract(const char *archive, const char *stage,
                              bool written[N_MEMBERS], char *err,
                              size_t err_size) {
  enum gm_status rc = GM_OK;
  char *buf = malloc(1 << 16);
  struct archive *a = archive_read_new();
  uint64_t expanded = 0;
  if (!buf || !a) {
    gm__data_err(err, err_size, "out of memory extracting '%s'", archive);
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, archive, 1 << 16) != ARCHIVE_OK) {
    gm__data_err(err, err_size, "cannot open '%s' as a gzip'ed tar archive: %s",
                 archive, archive_error_string(a));
    rc = GM_ERR_PARSE;
    goto out;
  }
  struct archive_entry *e;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
         r == ARCHIVE_WARN) {
    const char *name = archive_entry_pathname(e);
    int idx = -1;
    if (name && archive_entry_filetype(e) == AE_IFREG) {
      const char *slash = strrchr(name, '/');
      idx = member_index(slash ? slash + 1 : name);
    }
    const char *base = idx >= 0 ? member_name((unsigned)idx) : NULL;
    uint64_t max = idx >= 0 ? member_max((unsigned)idx) : 0;
    if (base && archive_entry_size_is_set(e) &&
        (uint64_t)archive_entry_size(e) > max) {
      gm__data_err(err, err_size,
                   "'%s' holds a '%s' of %lld bytes, more than %llu, the size "
                   "of a CIFAR-10 %s: refused",
                   archive, base, (long long)archive_entry_size(e),
                   (unsigned long long)max,
                   idx <= GM_CIFAR10_TRAIN_FILES ? "batch file"
                                                 : "greenml manifest");
      rc = GM_ERR_PARSE;
      goto out;
    }
    /* Every member counts, extracted or skipped: skipping one still
     * decompresses it. */
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
      expanded += (uint64_t)archive_entry_size(e);
    if (expanded > GM_CIFAR10_MAX_EXPANDED_BYTES) {
      gm__data_err(err, err_size,
                   "'%s' expands to more than %llu bytes (the CIFAR-10 "
                   "archive holds about 184 MB): refused while extracting",
                   archive, (unsigned long long)GM_CIFAR10_MAX_EXPANDED_BYTES);
      rc = GM_ERR_PARSE;
      goto out;
    }
    if (!base)
      continue;
    if (written[idx]) {
      gm__data_err(err, err_size, "'%s' holds '%s' twice", archive, base);
      rc = GM_ERR_PARSE;
      goto out;
    }
    char path[GM__DATA_PATH_MAX + 64];
    if (!gm__fmt(path, sizeof(path), "%s/%s", stage, base)) {
      gm__data_err(err, err_size, "path '%s' is too long", stage);
      rc = GM_ERR_INVALID_ARG;
      goto out;
    }
    rc =
        extract_entry(a, archive, base, path, max, buf, 1 << 16, err, err_size);
    if (rc != GM_OK)
      goto out;
    written[idx] = true;
  }
  if (r != ARCHIVE_EOF) {
    gm__data_err(err, err_size, "cannot extract '%s': %s (corrupt archive?)",
                 archive, archive_error_string(a));
    rc = GM_ERR_PARSE;
    goto out;
  }
  for (unsigned i = 0; i <= GM_CIFAR10_TRAIN_FILES; i++) {
    if (!written[i]) {
      gm__data_err(err, err_size,
                   "'%s' has no '%s' (not the CIFAR-10 binary archive? it "
                   "should hold cifar-10-batches-bin/%s)",
                   archive, member_name(i), member_name(i));
      rc = GM_ERR_PARSE;
      goto out;
    }
  }
out:
  if (a)
    archive_read_free(a);
  free(buf);
  return rc;
}

/* ---- the whole procedure --------------------------------------------------
 */

static bool valid_md5(const char *s) {
  if (strlen(s) != 32)
    return false;
  for (const char *p = s; *p; p++)
    if (!isxdigit((unsigned char)*p))
      return false;
  return true;
}

/* Both splits load. */
static enum gm_status validate(const char *dir, bool *synthetic, char *err,
                               size_t err_size) {
  struct gm_cifar10 *ds = NULL;
  enum gm_status rc =
      gm_cifar10_open(dir, GM_CIFAR10_TRAIN, &ds, err, err_size);
  if (rc == GM_OK) {
    *synthetic = gm_cifar10_is_synthetic(ds);
    gm_cifar10_close(ds);
    ds = NULL;
    rc = gm_cifar10_open(dir, GM_CIFAR10_TEST, &ds, err, err_size);
    gm_cifar10_close(ds);
  }
  return rc;
}

/* Replaces every occurrence of from in s (size bytes) by to. */
static void replace_all(char *s, size_t size, const char *from,
                        const char *to) {
  size_t lf = strlen(from), lt = strlen(to);
  if (lf == 0)
    return;
  char *p = s;
  while ((p = strstr(p, from)) != NULL) {
    size_t tail = strlen(p + lf);
    size_t at = (size_t)(p - s);
    if (at + lt + tail + 1 > size)
      return;
    memmove(p + lt, p + lf, tail + 1);
    memcpy(p, to, lt);
    p += lt;
  }
}

/* Appends text to err. */
static void append(char *err, size_t err_size, const char *text) {
  size_t len = err ? strlen(err) : 0;
  if (err && len < err_size)
    gm__data_err(err + len, err_size - len, "%s", text);
}

/* Extracts archive into a staging directory of dir, validates the data set
 * there and installs it into dir. */
static enum gm_status install(const char *archive, const char *dir, char *err,
                              size_t err_size) {
  char stage[GM__DATA_PATH_MAX];
  if (!gm__fmt(stage, sizeof(stage), "%s/" STAGING_PREFIX "XXXXXX", dir)) {
    gm__data_err(err, err_size, "path '%s' is too long", dir);
    return GM_ERR_INVALID_ARG;
  }
  if (!mkdtemp(stage)) {
    int e = errno;
    gm__data_err(err, err_size, "cannot create a directory in '%s': %s", dir,
                 strerror(e));
    return gm__data_write_status(e);
  }
  bool written[N_MEMBERS] = {false};
  enum gm_status rc = extract(archive, stage, written, err, err_size);
  if (rc != GM_OK)
    goto out;
  bool synthetic = false;
  rc = validate(stage, &synthetic, err, err_size);
  if (rc != GM_OK) {
    /* the files are named as they would have been installed */
    replace_all(err, err_size, stage, dir);
    append(err, err_size, "; nothing was installed");
    if (rc == GM_ERR_NOT_FOUND)
      rc = GM_ERR_PARSE;
    goto out;
  }
  /* Install: a manifest left by an earlier synthetic set would make the
   * loader expect its counts, so it goes unless the archive has one. */
  char from[GM__DATA_PATH_MAX + 64], to[GM__DATA_PATH_MAX];
  for (unsigned i = 0; i < N_MEMBERS; i++) {
    if (!gm__fmt(to, sizeof(to), "%s/%s", dir, member_name(i))) {
      gm__data_err(err, err_size, "path '%s' is too long", dir);
      rc = GM_ERR_INVALID_ARG;
      goto out;
    }
    if (!written[i]) {
      if (unlink(to) != 0 && errno != ENOENT) {
        int en = errno;
        gm__data_err(err, err_size, "cannot remove the stale '%s': %s", to,
                     strerror(en));
        rc = gm__data_write_status(en);
        goto out;
      }
      continue;
    }
    gm__fmt(from, sizeof(from), "%s/%s", stage, member_name(i));
    if (rename(from, to) != 0) {
      int en = errno;
      gm__data_err(err, err_size, "cannot rename '%s' to '%s': %s", from, to,
                   strerror(en));
      rc = gm__data_write_status(en);
      goto out;
    }
  }
out:
  remove_staging(stage);
  return rc;
}

enum gm_status gm_cifar10_fetch(const char *url, const char *dir,
                                const char *expected_md5,
                                gm_cifar10_progress_fn progress, void *ctx,
                                struct gm_cifar10_fetch_info *info, char *err,
                                size_t err_size) {
  return gm_cifar10_fetch_ex(url, dir, expected_md5, NULL, progress, ctx, info,
                             err, err_size);
}

enum gm_status gm_cifar10_fetch_ex(const char *url, const char *dir,
                                   const char *expected_md5,
                                   const struct gm_cifar10_fetch_limits *limits,
                                   gm_cifar10_progress_fn progress, void *ctx,
                                   struct gm_cifar10_fetch_info *info,
                                   char *err, size_t err_size) {
  struct gm_cifar10_fetch_info local;
  if (!info)
    info = &local;
  memset(info, 0, sizeof(*info));
  gm__data_err(err, err_size, "%s", "");
  struct gm_cifar10_fetch_limits lim =
      limits ? *limits : gm_cifar10_fetch_limits_default();
  if (!url)
    url = GM_CIFAR10_URL;
  if (!expected_md5)
    expected_md5 = GM_CIFAR10_MD5;
  if (!dir) {
    gm__data_err(err, err_size, "gm_cifar10_fetch: NULL directory");
    return GM_ERR_INVALID_ARG;
  }
  if (lim.max_archive_bytes == 0 || lim.connect_timeout_s <= 0 ||
      lim.low_speed_bytes_per_s <= 0 || lim.low_speed_time_s <= 0) {
    gm__data_err(err, err_size,
                 "gm_cifar10_fetch: every download limit must be positive");
    return GM_ERR_INVALID_ARG;
  }
  if (!valid_md5(expected_md5)) {
    gm__data_err(err, err_size, "'%s' is not an MD5 (32 hexadecimal digits)",
                 expected_md5);
    return GM_ERR_INVALID_ARG;
  }
  if (strncasecmp(url, "http://", 7) != 0 &&
      strncasecmp(url, "https://", 8) != 0 &&
      strncasecmp(url, "file://", 7) != 0) {
    gm__data_err(err, err_size,
                 "'%s' is not an http://, https:// or file:// URL", url);
    return GM_ERR_INVALID_ARG;
  }
  char want[33];
  for (int i = 0; i < 33; i++)
    want[i] = (char)tolower((unsigned char)expected_md5[i]);

  enum gm_status rc = gm__data_mkdir(dir, err, err_size);
  if (rc != GM_OK)
    return rc;
  bool synthetic = false;
  if (validate(dir, &synthetic, NULL, 0) == GM_OK && !synthetic) {
    info->already_present = true;
    return GM_OK;
  }
  sweep_staging(dir);

  char archive[GM__DATA_PATH_MAX], part[GM__DATA_PATH_MAX + 8];
  rc = gm__data_path(archive, sizeof(archive), dir, GM_CIFAR10_ARCHIVE, err,
                     err_size);
  if (rc != GM_OK)
    return rc;
  gm__fmt(part, sizeof(part), "%s.part", archive);
  gm__strlcpy(info->archive_path, archive, sizeof(info->archive_path));

  /* An archive left by an interrupted install is used when it checks out. */
  char got[33] = "";
  uint64_t bytes = 0;
  struct stat st;
  if (lstat(archive, &st) == 0 && S_ISREG(st.st_mode) &&
      md5_file(archive, got, &bytes, NULL, 0) == GM_OK &&
      strcmp(got, want) == 0) {
    info->reused_archive = true;
  } else {
    unlink(archive);
    rc = download(url, part, &lim, progress, ctx, got, &bytes,
                  &info->transfer_failed, err, err_size);
    if (rc != GM_OK) {
      unlink(part);
      return rc;
    }
    if (strcmp(got, want) != 0) {
      unlink(part);
      gm__data_err(err, err_size,
                   "checksum mismatch: '%s' (%llu bytes) has MD5 %s, expected "
                   "%s; the download was deleted and nothing was installed "
                   "(retry; or check --url and --md5)",
                   url, (unsigned long long)bytes, got, want);
      info->archive_bytes = bytes;
      gm__strlcpy(info->md5, got, sizeof(info->md5));
      return GM_ERR_PARSE;
    }
    if (rename(part, archive) != 0) {
      int e = errno;
      unlink(part);
      gm__data_err(err, err_size, "cannot rename '%s' to '%s': %s", part,
                   archive, strerror(e));
      return gm__data_write_status(e);
    }
  }
  info->archive_bytes = bytes;
  gm__strlcpy(info->md5, got, sizeof(info->md5));

  rc = install(archive, dir, err, err_size);
  if (rc != GM_OK) {
    /* A verified archive that cannot be read, or holds no valid data set,
     * will not improve: it goes. One that could not be written out (a full
     * disk) is kept for the next run, which uses it without downloading. */
    if (rc == GM_ERR_PARSE || rc == GM_ERR_INVALID_ARG) {
      unlink(archive);
      append(err, err_size, "; the archive was deleted");
    } else {
      char note[GM__DATA_PATH_MAX + 64];
      gm__fmt(note, sizeof(note),
              "; the verified archive '%s' is kept for the next run", archive);
      append(err, err_size, note);
    }
    return rc;
  }
  unlink(archive);
  return GM_OK;
}
