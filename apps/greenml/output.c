/* output.c: see output.h. Files written beside their name and renamed when
 * complete; the standard streams guarded at the start and checked at the
 * end of main. */
#define _GNU_SOURCE
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "text.h"

/* ---- files ----------------------------------------------------------------
 */

/* Six letters and digits for a temporary name; unpredictable enough that
 * O_EXCL rarely has to retry. */
static void random_suffix(char out[7]) {
  static const char alphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static unsigned counter;
  unsigned char r[6];
  if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^
                 ((uint64_t)++counter << 40);
    for (size_t i = 0; i < sizeof(r); i++, x >>= 7)
      r[i] = (unsigned char)(x ^ (x >> 31));
  }
  for (size_t i = 0; i < sizeof(r); i++)
    out[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
  out[6] = '\0';
}

/* Best effort: the rename itself reaches the disk with the directory. */
static void sync_dir_of(const char *path) {
  char dir[1024];
  gm_cli_text_copy(dir, path, sizeof(dir));
  char *slash = strrchr(dir, '/');
  if (!slash)
    gm_cli_text_copy(dir, ".", sizeof(dir));
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

int gm_cli_file_open(struct gm_cli_file *o, const char *path) {
  memset(o, 0, sizeof(*o));
  if (!path || !*path)
    return EINVAL;
  if (!gm_cli_text_fmt(o->path, sizeof(o->path), "%s", path))
    return ENAMETOOLONG;
  struct stat st;
  bool exists = lstat(path, &st) == 0;
  if (!exists && errno != ENOENT)
    return errno;
  int fd = -1;
  if (exists && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return EISDIR;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0)
      return errno;
  } else {
    for (int tries = 0; fd < 0; tries++) {
      char suffix[7];
      random_suffix(suffix);
      if (!gm_cli_text_fmt(o->tmp, sizeof(o->tmp), "%s.tmp-%s", path, suffix))
        return ENAMETOOLONG;
      fd = open(o->tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                0666);
      if (fd < 0 && (errno != EEXIST || tries == 99)) {
        int e = errno;
        o->tmp[0] = '\0';
        return e;
      }
    }
    if (exists) /* the file it replaces keeps its permissions */
      (void)fchmod(fd, st.st_mode & 07777);
  }
  o->f = fdopen(fd, "w");
  if (!o->f) {
    int e = errno;
    close(fd);
    if (o->tmp[0])
      unlink(o->tmp);
    o->tmp[0] = '\0';
    return e;
  }
  return 0;
}

int gm_cli_file_commit(struct gm_cli_file *o) {
  if (!o->f)
    return EBADF;
  int err = 0;
  if (fflush(o->f) != 0)
    err = errno;
  if (!err && ferror(o->f))
    err = EIO;
  if (!err && o->tmp[0] && fsync(fileno(o->f)) != 0 && errno != EINVAL)
    err = errno;
  if (fclose(o->f) != 0 && !err)
    err = errno;
  o->f = NULL;
  if (o->tmp[0]) {
    if (!err && rename(o->tmp, o->path) != 0)
      err = errno;
    if (err)
      unlink(o->tmp);
    else
      sync_dir_of(o->path);
    o->tmp[0] = '\0';
  }
  return err;
}

void gm_cli_file_abort(struct gm_cli_file *o) {
  if (o->f)
    fclose(o->f);
  o->f = NULL;
  if (o->tmp[0])
    unlink(o->tmp);
  o->tmp[0] = '\0';
}

int gm_cli_file_write(const char *path, const void *bytes, size_t len) {
  struct gm_cli_file o;
  int err = gm_cli_file_open(&o, path);
  if (err)
    return err;
  errno = 0;
  if (len && fwrite(bytes, 1, len, o.f) != len) {
    err = errno ? errno : EIO;
    gm_cli_file_abort(&o);
    return err;
  }
  return gm_cli_file_commit(&o);
}

/* ---- the standard streams -------------------------------------------------
 */

/* Which of fds 0, 1, 2 were closed at the start (bit fd). Set once, before
 * any thread exists; read in forked children. */
static unsigned closed_std;

static void on_sigpipe(int sig) { (void)sig; }

void gm_cli_streams_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigpipe;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    /* the lowest free descriptor: fd itself */
    int placeholder =
        open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_NOCTTY);
    if (placeholder == fd)
      closed_std |= 1u << fd;
    else if (placeholder >= 0)
      close(placeholder);
  }
}

void gm_cli_streams_for_child(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (closed_std & (1u << fd))
      close(fd);
}

int gm_cli_streams_finish(const char *cmd, int ec) {
  bool lost = ferror(stdout) != 0;
  int err = 0;
  if (fflush(stdout) != 0) {
    lost = true;
    err = errno;
  }
  /* closing a descriptor closed all along loses nothing when nothing was
   * written to it */
  if (fclose(stdout) != 0 && !lost && errno != EBADF) {
    lost = true;
    err = errno;
  }
  if (lost) {
    const char *why = closed_std & 2u ? "it is closed"
                      : err           ? strerror(err)
                                      : "a write failed";
    fprintf(stderr, "greenml%s%s: cannot write to standard output: %s\n",
            cmd ? " " : "", cmd ? cmd : "", why);
    if (ec == 0)
      ec = GM_EXIT_IOERR;
  }
  fflush(stderr);
  return ec;
}
