/* cifar10_fetch.c: download of the CIFAR-10 binary archive (libcurl), its
 * MD5 (OpenSSL EVP) and the extraction of the six batch files (libarchive).
 * See gm_cifar10_fetch in include/greenml/data.h. */
#define _GNU_SOURCE
#include "data/cifar10_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define N_MEMBERS (GM_CIFAR10_TRAIN_FILES + 2) /* six batches + manifest */

static const char *member_name(unsigned i) {
  return i <= GM_CIFAR10_TRAIN_FILES ? gm_cifar10_file_name(i)
                                     : GM_CIFAR10_MANIFEST;
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
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    EVP_MD_CTX_free(ctx);
    gm__data_err(err, err_size, "cannot read '%s': %s", path, strerror(e));
    return gm__status_from_errno(e);
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
  int write_errno;
  gm_cifar10_progress_fn progress;
  void *ctx;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud) {
  struct download *d = ud;
  size_t n = size * nmemb;
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

/* Downloads url into part, computing its MD5 into md5 (hex); *failed is
 * set when the transfer itself fails (not when writing part does). */
static enum gm_status download(const char *url, const char *part,
                               gm_cifar10_progress_fn progress, void *ctx,
                               char md5[33], uint64_t *bytes, bool *failed,
                               char *err, size_t err_size) {
  struct download d = {.progress = progress, .ctx = ctx};
  CURL *h = NULL;
  bool curl_inited = false;
  enum gm_status rc = md5_begin(&d.md5, err, err_size);
  if (rc != GM_OK)
    return rc;
  d.f = fopen(part, "wb");
  if (!d.f) {
    int e = errno;
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
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (under 1 byte/s for 60 s) is an error, not a hang. */
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
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

static void remove_temporaries(const char *dir, const bool *written) {
  char path[GM__DATA_PATH_MAX + 8];
  for (unsigned i = 0; i < N_MEMBERS; i++)
    if (written[i] &&
        gm__fmt(path, sizeof(path), "%s/%s.part", dir, member_name(i)))
      unlink(path);
}

/* Copies the current entry's data into path. */
static enum gm_status extract_entry(struct archive *a, const char *archive,
                                    const char *path, char *buf, size_t size,
                                    char *err, size_t err_size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    gm__data_err(err, err_size, "cannot create '%s': %s", path, strerror(e));
    return gm__data_write_status(e);
  }
  enum gm_status rc = GM_OK;
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
  return rc;
}

/* Extracts the batch files (and a manifest) of archive into dir: each to
 * NAME.part first, renamed once every batch file is out. */
static enum gm_status extract(const char *archive, const char *dir, char *err,
                              size_t err_size) {
  bool written[N_MEMBERS] = {false};
  enum gm_status rc = GM_OK;
  char *buf = malloc(1 << 16);
  struct archive *a = archive_read_new();
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
    if (!name || archive_entry_filetype(e) != AE_IFREG)
      continue;
    const char *slash = strrchr(name, '/');
    int idx = member_index(slash ? slash + 1 : name);
    if (idx < 0)
      continue;
    if (written[idx]) {
      gm__data_err(err, err_size, "'%s' holds '%s' twice", archive,
                   member_name((unsigned)idx));
      rc = GM_ERR_PARSE;
      goto out;
    }
    char path[GM__DATA_PATH_MAX + 8];
    if (!gm__fmt(path, sizeof(path), "%s/%s.part", dir,
                 member_name((unsigned)idx))) {
      gm__data_err(err, err_size, "path '%s' is too long", dir);
      rc = GM_ERR_INVALID_ARG;
      goto out;
    }
    written[idx] = true;
    rc = extract_entry(a, archive, path, buf, 1 << 16, err, err_size);
    if (rc != GM_OK)
      goto out;
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
  /* Install: a manifest left by an earlier synthetic set would make the
   * loader expect its counts, so it goes unless the archive has one. */
  char from[GM__DATA_PATH_MAX + 8], to[GM__DATA_PATH_MAX];
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
    gm__fmt(from, sizeof(from), "%s.part", to);
    if (rename(from, to) != 0) {
      int en = errno;
      gm__data_err(err, err_size, "cannot rename '%s' to '%s': %s", from, to,
                   strerror(en));
      rc = gm__data_write_status(en);
      goto out;
    }
    written[i] = false;
  }
out:
  if (a)
    archive_read_free(a);
  free(buf);
  remove_temporaries(dir, written);
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

enum gm_status gm_cifar10_fetch(const char *url, const char *dir,
                                const char *expected_md5,
                                gm_cifar10_progress_fn progress, void *ctx,
                                struct gm_cifar10_fetch_info *info, char *err,
                                size_t err_size) {
  struct gm_cifar10_fetch_info local;
  if (!info)
    info = &local;
  memset(info, 0, sizeof(*info));
  gm__data_err(err, err_size, "%s", "");
  if (!url)
    url = GM_CIFAR10_URL;
  if (!expected_md5)
    expected_md5 = GM_CIFAR10_MD5;
  if (!dir) {
    gm__data_err(err, err_size, "gm_cifar10_fetch: NULL directory");
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
  if (access(archive, F_OK) == 0 &&
      md5_file(archive, got, &bytes, NULL, 0) == GM_OK &&
      strcmp(got, want) == 0) {
    info->reused_archive = true;
  } else {
    unlink(archive);
    rc = download(url, part, progress, ctx, got, &bytes, &info->transfer_failed,
                  err, err_size);
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

  rc = extract(archive, dir, err, err_size);
  if (rc != GM_OK) {
    /* A verified archive that cannot be read will not improve: it goes. One
     * that could not be written out (a full disk) is kept for the next run,
     * which uses it without downloading. */
    size_t len = err ? strlen(err) : 0;
    if (rc == GM_ERR_PARSE || rc == GM_ERR_INVALID_ARG) {
      unlink(archive);
      if (err && len < err_size)
        gm__data_err(err + len, err_size - len, "; the archive was deleted");
    } else if (err && len < err_size) {
      gm__data_err(err + len, err_size - len,
                   "; the verified archive '%s' is kept for the next run",
                   archive);
    }
    return rc;
  }
  unlink(archive);
  return validate(dir, &synthetic, err, err_size);
}
