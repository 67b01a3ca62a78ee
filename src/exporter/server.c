/* server.c: the HTTP side of the exporter (exporter.h): the listen socket
 * (bound here, so that an address in use is named with its cause), one
 * libmicrohttpd thread polling with epoll, and the routes. Each /metrics
 * request takes a snapshot of the meter's live view and renders it
 * (snapshot.c, render.c): a scrape costs a copy and some text, never a
 * reading. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>

#include "base/util.h"
#include "exporter_internal.h"
#include "greenml/exporter.h"

/* Connections the kernel keeps waiting while max_connections are served. */
#define LISTEN_BACKLOG 4096
/* The most a request's line and headers may take; more is answered 431. */
#define CONNECTION_MEMORY_BYTES (64 * 1024)

struct gm_exporter {
  struct MHD_Daemon *d;
  struct gm_meter *m;
  const struct gm_idle_baseline *base;
  double interval_s;
  char address[300];
  unsigned port;
  atomic_uint_fast64_t scrapes, failures;
  /* the HTTP library's last message (start-up failures): written on the
   * caller's thread during start, on the server's thread after */
  pthread_mutex_t log_mu;
  char log[256];
  struct gm__watch *watch; /* NULL: attributes to nothing */
};

static const char index_page[] =
    "greenml exporter\n"
    "\n"
    "/metrics   live energy and power per component, their health, the\n"
    "           idle baseline and utilisation, in the Prometheus text\n"
    "           format (OpenMetrics when asked for)\n";

struct gm_exporter_config gm_exporter_config_default(void) {
  return (struct gm_exporter_config){
      .listen = GM_EXPORTER_DEFAULT_LISTEN,
      .max_connections = GM_EXPORTER_DEFAULT_CONNECTIONS,
      .timeout_s = GM_EXPORTER_DEFAULT_TIMEOUT_S};
}

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t size, const char *fmt, ...) {
  if (!err || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

/* ---- the listen address ------------------------------------------------- */

bool gm__listen_parse(const char *listen, struct gm__listen *out, char *err,
                      size_t err_size) {
  memset(out, 0, sizeof(*out));
  if (!listen || !*listen) {
    set_err(err, err_size, "an empty listen address: give HOST:PORT, e.g. %s",
            GM_EXPORTER_DEFAULT_LISTEN);
    return false;
  }
  const char *colon;
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    if (!close || close[1] != ':' || close == listen + 1) {
      set_err(err, err_size,
              "listen address '%s' is not HOST:PORT (an IPv6 address is "
              "written [ADDRESS]:PORT)",
              listen);
      return false;
    }
    size_t n = (size_t)(close - listen - 1);
    if (n >= sizeof(out->host)) {
      set_err(err, err_size, "listen address '%.64s...' is too long", listen);
      return false;
    }
    memcpy(out->host, listen + 1, n);
    out->host[n] = '\0';
    out->bracketed = true;
    colon = close + 1;
  } else {
    colon = strrchr(listen, ':');
    if (!colon) {
      set_err(err, err_size,
              "listen address '%s' has no port: give HOST:PORT, e.g. %s",
              listen, GM_EXPORTER_DEFAULT_LISTEN);
      return false;
    }
    size_t n = (size_t)(colon - listen);
    if (memchr(listen, ':', n)) {
      set_err(err, err_size,
              "listen address '%s': write an IPv6 address in brackets, "
              "[ADDRESS]:PORT",
              listen);
      return false;
    }
    if (n >= sizeof(out->host)) {
      set_err(err, err_size, "listen address '%.64s...' is too long", listen);
      return false;
    }
    memcpy(out->host, listen, n);
    out->host[n] = '\0';
  }
  const char *port = colon + 1;
  uint64_t v;
  if (!gm__parse_u64(port, &v) || v > 65535) {
    set_err(err, err_size,
            "listen address '%s': the port '%s' is not a number from 0 to "
            "65535",
            listen, port);
    return false;
  }
  out->port = (unsigned)v;
  return true;
}

enum gm_status gm_exporter_listen_check(const char *listen, char *err,
                                        size_t err_size) {
  struct gm__listen l;
  set_err(err, err_size, "%s", "");
  return gm__listen_parse(listen, &l, err, err_size) ? GM_OK
                                                     : GM_ERR_INVALID_ARG;
}

/* Binds and listens on the address; the socket, or -1 with err set. */
static int bind_listen(const char *where, const struct gm__listen *l,
                       enum gm_status *rc, char *err, size_t err_size,
                       char *bound, size_t bound_size, unsigned *port) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
  hints.ai_family = l->bracketed ? AF_INET6 : l->host[0] ? AF_UNSPEC : AF_INET;
  if (l->bracketed)
    hints.ai_flags |= AI_NUMERICHOST;
  char service[8];
  snprintf(service, sizeof(service), "%u", l->port);
  struct addrinfo *ai = NULL;
  int g = getaddrinfo(l->host[0] ? l->host : NULL, service, &hints, &ai);
  if (g != 0 || !ai) {
    *rc = GM_ERR_INVALID_ARG;
    set_err(err, err_size, "cannot listen on %s: '%s' is not an address: %s",
            where, l->host, g ? gai_strerror(g) : "no address");
    if (ai)
      freeaddrinfo(ai);
    return -1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int e = errno;
  if (fd >= 0) {
    int one = 1;
    /* a restart finds the port free while old connections linger */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
      e = errno;
      close(fd);
      fd = -1;
    }
  }
  if (fd < 0) {
    freeaddrinfo(ai);
    if (e == EADDRINUSE) {
      *rc = GM_ERR_UNAVAILABLE;
      set_err(err, err_size,
              "cannot listen on %s: the address is already in use (another "
              "exporter, or another program on that port)",
              where);
    } else if (e == EACCES || e == EPERM) {
      *rc = GM_ERR_PERMISSION;
      set_err(err, err_size,
              "cannot listen on %s: permission denied (ports below 1024 "
              "need CAP_NET_BIND_SERVICE)",
              where);
    } else if (e == EADDRNOTAVAIL) {
      *rc = GM_ERR_UNAVAILABLE;
      set_err(err, err_size,
              "cannot listen on %s: the address is not one of this "
              "machine's",
              where);
    } else {
      *rc = GM_ERR_SYSTEM;
      set_err(err, err_size, "cannot listen on %s: %s", where, strerror(e));
    }
    return -1;
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss = {0};
  socklen_t sl = sizeof(ss);
  char host[INET6_ADDRSTRLEN] = "?";
  *port = l->port;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
      *port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
      *port = ntohs(a->sin6_port);
    }
  }
  if (ss.ss_family == AF_INET6)
    snprintf(bound, bound_size, "[%s]:%u", host, *port);
  else
    snprintf(bound, bound_size, "%s:%u", host, *port);
  return fd;
}

/* Closes fd unless the HTTP library, failing to start, closed it already:
 * it is ours while it is still a socket bound to our port. */
static void close_if_ours(int fd, unsigned port) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
    return;
  unsigned p = ss.ss_family == AF_INET
                   ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
               : ss.ss_family == AF_INET6
                   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                   : 0;
  if (p == port)
    close(fd);
}

/* ---- requests ----------------------------------------------------------- */

static void logger(void *cls, const char *fmt, va_list ap) {
  struct gm_exporter *e = cls;
  pthread_mutex_lock(&e->log_mu);
  vsnprintf(e->log, sizeof(e->log), fmt, ap);
  size_t n = strlen(e->log);
  while (n && (e->log[n - 1] == '\n' || e->log[n - 1] == ' '))
    e->log[--n] = '\0';
  pthread_mutex_unlock(&e->log_mu);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
                             const char *type, char *body, size_t len,
                             enum MHD_ResponseMemoryMode mode,
                             const char *allow) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
  if (!r) {
    if (mode == MHD_RESPMEM_MUST_FREE)
      free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (allow)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  enum MHD_Result ok = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned code,
                                  const char *text, const char *allow) {
  return reply(c, code, "text/plain; charset=utf-8", (char *)(uintptr_t)text,
               strlen(text), MHD_RESPMEM_PERSISTENT, allow);
}

static enum MHD_Result metrics(struct gm_exporter *e,
                               struct MHD_Connection *c) {
  enum gm_exporter_format f = gm_exporter_negotiate(
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
  struct gm_exporter_snapshot s;
  char *text = NULL;
  size_t len = 0;
  enum gm_status rc = gm_exporter_snapshot_take(e->m, e->base, &s);
  if (rc == GM_OK &&
      (rc = gm__watch_snapshot(e->watch, s.n_components, &s)) != GM_OK)
    gm_exporter_snapshot_release(&s);
  if (rc == GM_OK) {
    s.interval_s = e->interval_s;
    s.scrapes = atomic_load(&e->scrapes);
    s.scrape_failures = atomic_load(&e->failures);
    /* this thread answers every request: its CPU time is the server's */
    s.exporter_cpu_s = (double)gm__thread_cpu_ns() / 1e9;
    rc = gm_exporter_render(&s, f, &text, &len);
    gm_exporter_snapshot_release(&s);
  }
  if (rc != GM_OK) {
    atomic_fetch_add(&e->failures, 1);
    return text_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "greenml exporter: the metrics could not be rendered\n",
                      NULL);
  }
  atomic_fetch_add(&e->scrapes, 1);
  return reply(c, MHD_HTTP_OK, gm_exporter_content_type(f), text, len,
               MHD_RESPMEM_MUST_FREE, NULL);
}

/* Called once the request's headers are in (*req_cls NULL), then for its
 * body, then once more at its end. A GET or HEAD is answered at its end, so
 * that the connection can be kept alive for the next scrape; any other
 * request at once, without reading its body (the connection is then
 * closed). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls) {
  (void)version;
  (void)upload_data;
  static int seen;
  struct gm_exporter *e = cls;
  bool is_metrics = strcmp(url, "/metrics") == 0;
  bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
             strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  if (!is_metrics && strcmp(url, "/") != 0)
    return text_reply(c, MHD_HTTP_NOT_FOUND,
                      "not found: the metrics are at /metrics\n", NULL);
  if (!get)
    return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                      "method not allowed: GET or HEAD\n", "GET, HEAD");
  if (!*req_cls) {
    *req_cls = &seen;
    return MHD_YES;
  }
  if (*upload_data_size) { /* a body sent with a GET: ignored */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (!is_metrics)
    return text_reply(c, MHD_HTTP_OK, index_page, NULL);
  return metrics(e, c);
}

/* ---- start and stop ----------------------------------------------------- */

enum gm_status gm_exporter_start(struct gm_meter *m,
                                 const struct gm_exporter_config *cfg,
                                 struct gm_exporter **out, char *err,
                                 size_t err_size) {
  set_err(err, err_size, "%s", "");
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  if (!m) {
    set_err(err, err_size, "no meter to serve");
    return GM_ERR_INVALID_ARG;
  }
  struct gm_exporter_config c = cfg ? *cfg : gm_exporter_config_default();
  const char *where = c.listen ? c.listen : GM_EXPORTER_DEFAULT_LISTEN;
  struct gm__listen l;
  if (!gm__listen_parse(where, &l, err, err_size))
    return GM_ERR_INVALID_ARG;
  struct gm_exporter *e = calloc(1, sizeof(*e));
  if (!e)
    return GM_ERR_NO_MEMORY;
  e->m = m;
  e->base = c.baseline;
  e->interval_s = c.interval_s;
  atomic_init(&e->scrapes, 0);
  atomic_init(&e->failures, 0);
  pthread_mutex_init(&e->log_mu, NULL);
  enum gm_status rc = GM_ERR_SYSTEM;
  int fd = bind_listen(where, &l, &rc, err, err_size, e->address,
                       sizeof(e->address), &e->port);
  if (fd < 0) {
    pthread_mutex_destroy(&e->log_mu);
    free(e);
    return rc;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                   MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (l.bracketed)
    flags |= MHD_USE_IPv6;
  unsigned limit =
      c.max_connections ? c.max_connections : GM_EXPORTER_DEFAULT_CONNECTIONS;
  unsigned timeout = c.timeout_s ? c.timeout_s : GM_EXPORTER_DEFAULT_TIMEOUT_S;
  e->d = MHD_start_daemon(
      flags, 0, NULL, NULL, handle, e, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
      timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)CONNECTION_MEMORY_BYTES, MHD_OPTION_EXTERNAL_LOGGER, logger, e,
      MHD_OPTION_END);
  if (!e->d) {
    close_if_ours(fd, e->port);
    pthread_mutex_lock(&e->log_mu);
    set_err(err, err_size, "cannot start the HTTP server on %s: %s", e->address,
            e->log[0] ? e->log : "libmicrohttpd refused");
    pthread_mutex_unlock(&e->log_mu);
    pthread_mutex_destroy(&e->log_mu);
    free(e);
    return GM_ERR_SYSTEM;
  }
  if (c.attribute && gm__watch_start(m, c.attribute, c.rescan_s, c.procfs_root,
                                     c.sysfs_root, &e->watch) != GM_OK) {
    MHD_stop_daemon(e->d);
    pthread_mutex_destroy(&e->log_mu);
    free(e);
    set_err(err, err_size, "cannot start the search for runs and jobs");
    return GM_ERR_SYSTEM;
  }
  *out = e;
  return GM_OK;
}

void gm_exporter_stop(struct gm_exporter *e) {
  if (!e)
    return;
  MHD_stop_daemon(e->d); /* closes the listen socket and every connection */
  gm__watch_stop(e->watch);
  pthread_mutex_destroy(&e->log_mu);
  free(e);
}

const char *gm_exporter_address(const struct gm_exporter *e) {
  return e ? e->address : "";
}

unsigned gm_exporter_port(const struct gm_exporter *e) {
  return e ? e->port : 0;
}

uint64_t gm_exporter_scrapes(const struct gm_exporter *e) {
  return e ? atomic_load(&e->scrapes) : 0;
}

uint64_t gm_exporter_scrape_failures(const struct gm_exporter *e) {
  return e ? atomic_load(&e->failures) : 0;
}
