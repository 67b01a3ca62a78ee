/* check.c: what a file is, found before SQLite opens it. Opening a WAL
 * database with SQLite recovers its -wal file into a -shm index (a file
 * made or written) and, from the last connection to close, checkpoints the
 * WAL into the database (the database written): a file greenml refuses
 * must not meet SQLite that way. So the header fields that decide
 * (application_id, user_version, the schema cookie) are read here with
 * plain reads, from the newest committed copy of page 1: the database
 * file's, or a later one in the -wal file (frames checked as SQLite checks
 * them: salts and cumulative checksums). The formats are those of
 * https://www.sqlite.org/fileformat.html. Only a database without greenml's
 * application_id (written by a greenml older than schema 3, or not
 * greenml's) has its table names read, through an immutable read-only
 * SQLite connection, which writes, locks and creates nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite/sqlite.h"

#define DB_MAGIC "SQLite format 3"     /* and a NUL: 16 bytes */
#define WAL_MAGIC UINT32_C(0x377f0682) /* | 1: big-endian checksums */
#define WAL_VERSION UINT32_C(3007000)
#define WAL_HDR 32
#define FRAME_HDR 24

/* What page 1 says. */
struct header {
  uint32_t application_id, user_version, schema_cookie;
  bool wal_frames; /* the -wal file holds committed frames */
};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
         (uint32_t)p[0];
}

/* SQLite's WAL checksum over n bytes (a multiple of 8), continuing s. */
static void wal_checksum(bool big_endian, const unsigned char *p, size_t n,
                         uint32_t s[2]) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint32_t a = big_endian ? be32(p + i) : le32(p + i);
    uint32_t b = big_endian ? be32(p + i + 4) : le32(p + i + 4);
    s[0] += a + s[1];
    s[1] += b + s[0];
  }
}

static bool read_full(int fd, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    got += (size_t)r;
  }
  return true;
}

static void header_of(const unsigned char *page1, struct header *h) {
  h->schema_cookie = be32(page1 + 40);
  h->user_version = be32(page1 + 60);
  h->application_id = be32(page1 + 68);
}

/* The page size a database header gives (1 stands for 65536); 0: invalid. */
static uint32_t page_size_of(const unsigned char *hdr) {
  uint32_t n = (uint32_t)hdr[16] << 8 | hdr[17];
  if (n == 1)
    return 65536;
  return n >= 512 && (n & (n - 1)) == 0 ? n : 0;
}

/* Page 1 as the committed frames of the -wal file have it, over *h. No
 * -wal file, or none with a committed page 1, leaves *h alone. */
static void read_wal(const char *path, struct header *h) {
  char wal[4096];
  if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
    return;
  int fd = open(wal, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  unsigned char hdr[WAL_HDR];
  unsigned char *frame = NULL, page1[100];
  bool have_page1 = false;
  if (!read_full(fd, hdr, sizeof(hdr)) ||
      (be32(hdr) & ~UINT32_C(1)) != WAL_MAGIC || be32(hdr + 4) != WAL_VERSION)
    goto out;
  bool big = be32(hdr) & 1;
  uint32_t page_size = be32(hdr + 8);
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)))
    goto out;
  uint32_t sum[2] = {0, 0};
  wal_checksum(big, hdr, 24, sum);
  if (sum[0] != be32(hdr + 24) || sum[1] != be32(hdr + 28))
    goto out;
  frame = malloc(FRAME_HDR + (size_t)page_size);
  if (!frame)
    goto out;
  unsigned char candidate[100];
  bool have_candidate = false;
  while (read_full(fd, frame, FRAME_HDR + (size_t)page_size)) {
    if (memcmp(frame + 8, hdr + 16, 8) != 0) /* salts of an older WAL */
      break;
    wal_checksum(big, frame, 8, sum);
    wal_checksum(big, frame + FRAME_HDR, page_size, sum);
    if (sum[0] != be32(frame + 16) || sum[1] != be32(frame + 20))
      break;
    if (be32(frame) == 1) {
      memcpy(candidate, frame + FRAME_HDR, sizeof(candidate));
      have_candidate = true;
    }
    if (be32(frame + 4) != 0) { /* a commit: what came before it counts */
      h->wal_frames = true;
      if (have_candidate) {
        memcpy(page1, candidate, sizeof(page1));
        have_page1 = true;
      }
    }
  }
  if (have_page1)
    header_of(page1, h);
out:
  free(frame);
  close(fd);
}

/* "file:PATH" with the characters a URI gives meaning to escaped. */
static bool uri_of(const char *path, char *buf, size_t size) {
  size_t n = 0;
  int w = snprintf(buf, size, "file:");
  n = (size_t)w;
  for (const char *c = path; *c; c++) {
    bool esc = *c == '%' || *c == '?' || *c == '#';
    if (n + 4 >= size)
      return false;
    if (esc)
      n += (size_t)snprintf(buf + n, size - n, "%%%02X", (unsigned char)*c);
    else
      buf[n++] = *c;
  }
  buf[n] = '\0';
  return snprintf(buf + n, size - n, "?immutable=1") < (int)(size - n);
}

/* The tables of the database file itself (its -wal ignored), through an
 * immutable connection: whether greenml's first ones are there, and the
 * first few names for a message. false when SQLite cannot read them. */
static bool file_tables(const char *path, bool *greenml, char *names,
                        size_t size, int *n_tables) {
  char uri[4200];
  *greenml = false;
  *n_tables = 0;
  names[0] = '\0';
  if (!uri_of(path, uri, sizeof(uri)))
    return false;
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  bool ok = false;
  if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_master WHERE type='table' "
                         "ORDER BY name",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  int found = 0, step;
  size_t len = 0;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if (!name)
      continue;
    if (strcmp(name, "hosts") == 0 || strcmp(name, "runs") == 0 ||
        strcmp(name, "samples") == 0)
      found++;
    if (*n_tables < 3 && len < size)
      len += (size_t)snprintf(names + len, size - len, "%s%s",
                              *n_tables ? ", " : "", name);
    else if (*n_tables == 3 && len < size)
      len += (size_t)snprintf(names + len, size - len, ", ...");
    (*n_tables)++;
  }
  ok = step == SQLITE_DONE;
  *greenml = found == 3;
out:
  sqlite3_finalize(s);
  sqlite3_close(db);
  return ok;
}

enum gm_status gm__sq_check_file(struct gm_store *st, const char *path,
                                 int known) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return GM_OK; /* a new database (read-only opens refused it before) */
    return gm__store_error(st, GM_ERR_IO, "cannot read the database '%s': %s",
                           path, strerror(errno));
  }
  struct stat sb;
  unsigned char page1[100];
  bool empty = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0;
  bool is_sqlite = !empty && read_full(fd, page1, sizeof(page1)) &&
                   memcmp(page1, DB_MAGIC, sizeof(DB_MAGIC)) == 0 &&
                   page_size_of(page1) != 0;
  close(fd);
  if (empty)
    return GM_OK; /* SQLite makes a database of it */
  if (!is_sqlite)
    return gm__store_error(st, GM_ERR_PARSE,
                           "'%s' is not an SQLite database, so not greenml's; "
                           "it was left untouched: pass --db with another "
                           "file",
                           path);
  struct header h = {0};
  header_of(page1, &h);
  read_wal(path, &h);
  if (h.application_id != 0 && h.application_id != GM__SQ_APPLICATION_ID)
    return gm__store_error(
        st, GM_ERR_PARSE,
        "'%s' is another program's SQLite database (application_id "
        "0x%08x), not greenml's; it was left untouched: pass --db with "
        "another file",
        path, (unsigned)h.application_id);
  if (h.user_version > (uint32_t)known)
    return gm__store_error(st, GM_ERR_SCHEMA_NEWER,
                           "database '%s' has schema version %u but this "
                           "greenml knows up to %d; it was left untouched: "
                           "use a newer greenml, or --db with another file",
                           path, (unsigned)h.user_version, known);
  if (h.application_id == GM__SQ_APPLICATION_ID)
    return GM_OK;
  /* No application_id: a database without schema, one of a greenml older
   * than the application_id, or another program's. */
  if (h.user_version == 0 && h.schema_cookie == 0)
    return GM_OK;
  bool greenml = false;
  char names[160];
  int n_tables = 0;
  bool read = file_tables(path, &greenml, names, sizeof(names), &n_tables);
  if (h.user_version > 0 && read && greenml)
    return GM_OK;
  if (n_tables)
    return gm__store_error(
        st, GM_ERR_PARSE,
        "'%s' is another program's SQLite database (tables: %s), not "
        "greenml's; it was left untouched: pass --db with another file",
        path, names);
  /* Its tables may be in the -wal file alone, where they cannot be read
   * without SQLite: as for an older greenml that is writing a new database
   * now (it checkpoints when it ends). */
  return gm__store_error(
      st, GM_ERR_PARSE,
      "'%s' is an SQLite database without greenml's application_id or "
      "tables (schema version %u%s); it was left untouched: pass --db with "
      "another file%s",
      path, (unsigned)h.user_version,
      h.wal_frames ? ", its tables only in its -wal file" : "",
      h.wal_frames ? ", or try again when the program writing it is done" : "");
}
