/* mark_listener.c: the meter's side of the marker channel (mark.h): a
 * private FIFO and a reader thread that turns "B <t_ns> NAME" / "E <t_ns>"
 * lines into phases of a meter. The client side and the line format are
 * mark.c; the phases themselves are the meter's (meter.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/mark.h"

/* A line longer than this is no marker ("B", 19 digits, 63 bytes of name). */
#define LINE_MAX_BYTES 4096
/* The reader also wakes this often to look at the stop flag, in case the
 * wake-up byte could not be written. */
#define POLL_MS 100

struct gm_mark_listener {
  struct gm_meter *m; /* borrowed, from start to stop */
  char dir[512];
  char path[520];
  int fd;      /* the FIFO, O_RDWR: never at end of file */
  int wake[2]; /* written by stop */
  pthread_t thread;
  bool started, stopped;
  atomic_bool stop;
  atomic_uint bad_lines;
  /* reader state: touched by the reader thread only while it runs */
  char buf[LINE_MAX_BYTES + 1];
  size_t have;
  bool skipping; /* inside a line too long to be a marker */
  char err[256];
};

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...) {
  if (!err || size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

static void apply_line(struct gm_mark_listener *l, const char *line) {
  int begin;
  long long t;
  char name[GM_MARK_NAME_MAX + 1];
  if (gm_mark_parse(line, &begin, &t, name, sizeof(name)) != GM_OK) {
    atomic_fetch_add(&l->bad_lines, 1);
    return;
  }
  /* A marker the meter refuses (an end without a phase) changes nothing. */
  if (begin)
    gm_meter_phase_begin(l->m, name, (int64_t)t);
  else
    gm_meter_phase_end(l->m, (int64_t)t);
}

/* Applies the complete lines in buf and keeps the incomplete tail. */
static void take_lines(struct gm_mark_listener *l) {
  char *line = l->buf, *nl;
  while ((nl = memchr(line, '\n', l->have - (size_t)(line - l->buf)))) {
    *nl = '\0';
    if (l->skipping)
      l->skipping = false; /* the end of the over-long line */
    else
      apply_line(l, line);
    line = nl + 1;
  }
  l->have -= (size_t)(line - l->buf);
  memmove(l->buf, line, l->have);
  if (l->have == LINE_MAX_BYTES) {
    if (!l->skipping)
      atomic_fetch_add(&l->bad_lines, 1);
    l->skipping = true;
    l->have = 0;
  }
}

/* Reads what the FIFO holds now. */
static void drain(struct gm_mark_listener *l) {
  for (;;) {
    ssize_t n = read(l->fd, l->buf + l->have, LINE_MAX_BYTES - l->have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; /* EAGAIN: empty */
    l->have += (size_t)n;
    take_lines(l);
  }
}

static void *reader_main(void *arg) {
  struct gm_mark_listener *l = arg;
  for (;;) {
    struct pollfd p[2] = {{l->fd, POLLIN, 0}, {l->wake[0], POLLIN, 0}};
    if (poll(p, 2, POLL_MS) < 0 && errno != EINTR)
      break;
    /* The flag is read before draining: whatever was written before stop
     * was called is in the pipe by then. */
    bool stopping = atomic_load(&l->stop);
    drain(l);
    if (stopping)
      break;
  }
  if (l->have > 0 && !l->skipping)
    atomic_fetch_add(&l->bad_lines, 1); /* a line without its newline */
  l->have = 0;
  return NULL;
}

enum gm_status gm_mark_listener_open(const char *dir,
                                     struct gm_mark_listener **out, char *err,
                                     size_t err_size) {
  set_err(err, err_size, "%s", "");
  if (out)
    *out = NULL;
  if (!out) {
    set_err(err, err_size, "a marker listener needs an output");
    return GM_ERR_INVALID_ARG;
  }
  const char *parent = dir;
  if (!parent) {
    parent = getenv("TMPDIR");
    if (!parent || !*parent || strlen(parent) > 400)
      parent = "/tmp";
  }
  struct gm_mark_listener *l = calloc(1, sizeof(*l));
  if (!l) {
    set_err(err, err_size, "out of memory");
    return GM_ERR_NO_MEMORY;
  }
  l->fd = l->wake[0] = l->wake[1] = -1;
  atomic_init(&l->stop, false);
  atomic_init(&l->bad_lines, 0);
  enum gm_status rc;
  if (!gm__fmt(l->dir, sizeof(l->dir), "%s/greenml-XXXXXX", parent)) {
    set_err(err, err_size, "marker directory '%s' is too long", parent);
    l->dir[0] = '\0';
    rc = GM_ERR_INVALID_ARG;
    goto fail;
  }
  if (!mkdtemp(l->dir)) {
    rc = gm__status_from_errno(errno);
    set_err(err, err_size, "cannot create a directory in '%s': %s", parent,
            strerror(errno));
    l->dir[0] = '\0';
    goto fail;
  }
  gm__fmt(l->path, sizeof(l->path), "%s/mark", l->dir);
  if (mkfifo(l->path, 0600) != 0) {
    rc = gm__status_from_errno(errno);
    set_err(err, err_size, "cannot create the FIFO '%s': %s", l->path,
            strerror(errno));
    l->path[0] = '\0';
    goto fail;
  }
  l->fd = open(l->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (l->fd < 0) {
    rc = gm__status_from_errno(errno);
    set_err(err, err_size, "cannot open the FIFO '%s': %s", l->path,
            strerror(errno));
    goto fail;
  }
  *out = l;
  return GM_OK;
fail:
  gm_mark_listener_close(l);
  return rc;
}

const char *gm_mark_listener_path(const struct gm_mark_listener *l) {
  return l ? l->path : "";
}

enum gm_status gm_mark_listener_start(struct gm_mark_listener *l,
                                      struct gm_meter *m) {
  if (!l || !m)
    return GM_ERR_INVALID_ARG;
  if (l->started) {
    gm__fmt(l->err, sizeof(l->err), "the marker listener was already started");
    return GM_ERR_STATE;
  }
  if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    gm__fmt(l->err, sizeof(l->err), "cannot create the wake-up pipe: %s",
            strerror(errno));
    l->wake[0] = l->wake[1] = -1;
    return GM_ERR_SYSTEM;
  }
  l->m = m;
  int e = pthread_create(&l->thread, NULL, reader_main, l);
  if (e != 0) {
    gm__fmt(l->err, sizeof(l->err), "cannot start the marker reader: %s",
            strerror(e));
    close(l->wake[0]);
    close(l->wake[1]);
    l->wake[0] = l->wake[1] = -1;
    return GM_ERR_SYSTEM;
  }
  l->started = true;
  return GM_OK;
}

enum gm_status gm_mark_listener_stop(struct gm_mark_listener *l) {
  if (!l)
    return GM_ERR_INVALID_ARG;
  if (!l->started || l->stopped)
    return GM_OK;
  atomic_store(&l->stop, true);
  ssize_t n;
  do {
    n = write(l->wake[1], "x", 1);
  } while (n < 0 && errno == EINTR);
  /* Had the byte not gone through, the reader sees the flag within
   * POLL_MS. */
  pthread_join(l->thread, NULL);
  l->stopped = true;
  return GM_OK;
}

unsigned gm_mark_listener_bad_lines(const struct gm_mark_listener *l) {
  return l ? atomic_load(&l->bad_lines) : 0;
}

const char *gm_mark_listener_last_error(const struct gm_mark_listener *l) {
  return l ? l->err : "";
}

void gm_mark_listener_close(struct gm_mark_listener *l) {
  if (!l)
    return;
  gm_mark_listener_stop(l);
  if (l->fd >= 0)
    close(l->fd);
  for (int i = 0; i < 2; i++)
    if (l->wake[i] >= 0)
      close(l->wake[i]);
  if (l->path[0])
    unlink(l->path);
  if (l->dir[0])
    rmdir(l->dir);
  free(l);
}
