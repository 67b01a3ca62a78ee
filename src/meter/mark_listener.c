/* mark_listener.c: the meter's side of the marker channel (mark.h): a
 * private FIFO and a reader thread that turns "B <t_ns> NAME" / "E <t_ns>"
 * lines into phases of a meter. The client side and the line format are
 * mark.c; the phases themselves, their order and the rules on timestamps
 * are the meter's (meter.c). */
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
#include "meter/meter_internal.h"

#define LINE_MAX_BYTES GM_MARK_LINE_MAX
/* The most markers one buffer can hold: the shortest is "E 1\n". */
#define BATCH_MAX (LINE_MAX_BYTES / 4)

/* A marker parsed from a line, before the meter has it. */
struct parsed {
  long long t_ns;
  unsigned seq; /* its place in the batch: equal stamps keep their order */
  int begin;
  char name[GM_MARK_NAME_MAX + 1];
};

struct gm_mark_listener {
  struct gm_meter *m; /* borrowed, from start to stop */
  char dir[512];
  char path[520];
  int fd;      /* the FIFO, O_RDWR: never at end of file */
  int wake[2]; /* written and closed by stop: the reader never has to wake
                 up on its own to look at the flag */
  pthread_t thread;
  bool started, stopped;
  atomic_bool stop;
  atomic_uint bad_lines;
  atomic_uint before_start, out_of_order, in_future; /* refused markers */
  /* reader state: touched by the reader thread only while it runs */
  char buf[LINE_MAX_BYTES + 1];
  size_t have;
  bool skipping; /* inside a line too long to be a marker */
  struct parsed batch[BATCH_MAX];
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

static int by_time(const void *a, const void *b) {
  const struct parsed *x = a, *y = b;
  if (x->t_ns != y->t_ns)
    return x->t_ns < y->t_ns ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the markers of one read to the meter, oldest first (lines written
 * by several threads or processes may arrive in another order), and counts
 * those it refuses. One the meter takes but that changes nothing (an end
 * with no phase open) is not counted. */
static void apply_batch(struct gm_mark_listener *l, size_t n) {
  qsort(l->batch, n, sizeof(l->batch[0]), by_time);
  for (size_t i = 0; i < n; i++) {
    const struct parsed *p = &l->batch[i];
    enum gm__mark_verdict why;
    gm__meter_mark(l->m, p->begin, p->name, (int64_t)p->t_ns, &why);
    if (why == GM__MARK_BEFORE_START)
      atomic_fetch_add(&l->before_start, 1);
    else if (why == GM__MARK_OUT_OF_ORDER)
      atomic_fetch_add(&l->out_of_order, 1);
    else if (why == GM__MARK_IN_FUTURE)
      atomic_fetch_add(&l->in_future, 1);
  }
}

/* Parses the complete lines in buf, applies their markers and keeps the
 * incomplete tail. A line holding a NUL byte is no marker (a C string's
 * terminator would otherwise hide the rest of its line); a line longer than
 * LINE_MAX_BYTES is discarded whole, up to its newline, and counted once. */
static void take_lines(struct gm_mark_listener *l) {
  size_t n = 0;
  char *line = l->buf, *nl;
  while ((nl = memchr(line, '\n', l->have - (size_t)(line - l->buf)))) {
    size_t len = (size_t)(nl - line);
    *nl = '\0';
    struct parsed *p = &l->batch[n];
    if (l->skipping) {
      l->skipping = false; /* the end of the over-long line */
    } else if (memchr(line, '\0', len) ||
               gm_mark_parse(line, &p->begin, &p->t_ns, p->name,
                             sizeof(p->name)) != GM_OK) {
      atomic_fetch_add(&l->bad_lines, 1);
    } else {
      p->seq = (unsigned)n++;
    }
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
  apply_batch(l, n);
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

/* Sleeps until a marker arrives or stop hangs up the wake-up pipe: no
 * timeout, so an unmarked run costs no wake-up at all. */
static void *reader_main(void *arg) {
  struct gm_mark_listener *l = arg;
  pthread_setname_np(pthread_self(), "gm-marks"); /* seen in /proc */
  for (;;) {
    struct pollfd p[2] = {{l->fd, POLLIN, 0}, {l->wake[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR)
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
  atomic_init(&l->before_start, 0);
  atomic_init(&l->out_of_order, 0);
  atomic_init(&l->in_future, 0);
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
  /* A byte in the empty pipe wakes the reader; so does closing the write
   * end (its read end then polls as hung up) unless a child forked
   * meanwhile holds a copy: either way the reader sees the flag. */
  ssize_t n;
  do {
    n = write(l->wake[1], "x", 1);
  } while (n < 0 && errno == EINTR);
  close(l->wake[1]);
  l->wake[1] = -1;
  pthread_join(l->thread, NULL);
  l->stopped = true;
  return GM_OK;
}

unsigned gm_mark_listener_bad_lines(const struct gm_mark_listener *l) {
  return l ? atomic_load(&l->bad_lines) : 0;
}

void gm_mark_listener_rejected(const struct gm_mark_listener *l,
                               struct gm_mark_rejected *out) {
  if (!out)
    return;
  memset(out, 0, sizeof(*out));
  if (!l)
    return;
  out->before_start = atomic_load(&l->before_start);
  out->out_of_order = atomic_load(&l->out_of_order);
  out->in_future = atomic_load(&l->in_future);
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
