/* torch.c: the PyTorch engine: a worker process (python/greenml/
 * torch_engine.py) that executes the protocol's steps (train.h). The batch
 * goes through a memory file both map (fd 3 in the worker): n x 3 x 32 x 32
 * float32 images, then at batch x 3072 x 4 bytes n int32 labels; commands
 * and answers are lines on a socket pair (a worker that died gives EOF and
 * a named error, never SIGPIPE). The protocol itself, its data order,
 * augmentation, learning rates and timing, stays in epoch.c and infer.c. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "train/train_internal.h"

struct gm__torch {
  pid_t pid;
  int fd;   /* our end of the socket pair */
  FILE *in; /* answers, line-buffered reads of fd */
  int shm_fd;
  void *shm;
  size_t shm_size;
  char python[512], script[1024];
};

static bool executable(const char *p) { return access(p, X_OK) == 0; }

/* An object of this library: dladdr on it names the library's file. */
static const char anchor = 0;
static bool readable(const char *p) { return access(p, R_OK) == 0; }

/* The interpreter and the worker script. false (err set) when no script. */
static bool locate(struct gm__torch *w, char *err, size_t err_size) {
  const char *py = getenv("GREENML_PYTHON");
  if (py && *py)
    gm__strlcpy(w->python, py, sizeof(w->python));
  else
    gm__strlcpy(w->python,
                executable("/usr/bin/python3") ? "/usr/bin/python3" : "python3",
                sizeof(w->python));
  const char *env = getenv("GREENML_TORCH_WORKER");
  if (env && *env) {
    gm__strlcpy(w->script, env, sizeof(w->script));
    if (readable(w->script))
      return true;
    gm__fmt(err, err_size,
            "GREENML_TORCH_WORKER names '%s', which cannot be read; unset it "
            "or point it at python/greenml/torch_engine.py",
            env);
    return false;
  }
  /* beside this library, as installed (a moved tree included) */
#ifdef GM_TORCH_WORKER_FROM_LIBDIR
  Dl_info info;
  if (dladdr(&anchor, &info) && info.dli_fname) {
    char dir[1024];
    gm__strlcpy(dir, info.dli_fname, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash) {
      *slash = '\0';
      if (gm__fmt(w->script, sizeof(w->script), "%s/%s", dir,
                  GM_TORCH_WORKER_FROM_LIBDIR) &&
          readable(w->script))
        return true;
    }
  }
#endif
  static const char *const candidates[] = {
#ifdef GM_TORCH_WORKER_INSTALLED
      GM_TORCH_WORKER_INSTALLED,
#endif
#ifdef GM_TORCH_WORKER_SOURCE
      GM_TORCH_WORKER_SOURCE,
#endif
      NULL};
  for (size_t i = 0; candidates[i]; i++)
    if (readable(candidates[i])) {
      gm__strlcpy(w->script, candidates[i], sizeof(w->script));
      return true;
    }
  gm__fmt(err, err_size,
          "the PyTorch engine's worker (greenml/torch_engine.py) is not "
          "installed: run 'make install', or set GREENML_TORCH_WORKER to "
          "python/greenml/torch_engine.py");
  return false;
}

/* Sends one command line and reads the answer's rest after "ok" into
 * reply. GM_ERR_SYSTEM when the worker is gone, GM_ERR_NOT_FOUND for a
 * "notfound" answer, GM_ERR_INVALID_ARG for "error" (t->err has it). */
static enum gm_status cmd(struct gm_train *t, char *reply, size_t reply_size,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum gm_status cmd(struct gm_train *t, char *reply, size_t reply_size,
                          const char *fmt, ...) {
  struct gm__torch *w = t->torch;
  char line[4352];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(line) - 1) {
    gm__fmt(t->err, sizeof(t->err), "torch: command too long");
    return GM_ERR_INVALID_ARG;
  }
  line[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t k = send(w->fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      gm__fmt(t->err, sizeof(t->err),
              "the PyTorch worker is gone (%s); its messages are on stderr",
              strerror(errno));
      return GM_ERR_SYSTEM;
    }
    off += (int)k;
  }
  char ans[4096];
  if (!fgets(ans, sizeof(ans), w->in)) {
    /* it closed its answers: it is exiting; give it 2 s to say how */
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 200 && r == 0; i++) {
      r = waitpid(w->pid, &status, WNOHANG);
      if (r == 0)
        usleep(10000);
    }
    if (r == w->pid) {
      w->pid = -1;
      gm__fmt(t->err, sizeof(t->err),
              "the PyTorch worker exited (%s %d) before answering; its "
              "messages are on stderr",
              WIFEXITED(status) ? "status" : "signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    } else {
      gm__fmt(t->err, sizeof(t->err),
              "the PyTorch worker closed its answers; its messages are on "
              "stderr");
    }
    return GM_ERR_SYSTEM;
  }
  ans[strcspn(ans, "\n")] = '\0';
  if (strncmp(ans, "ok", 2) == 0 && (ans[2] == '\0' || ans[2] == ' ')) {
    if (reply)
      gm__strlcpy(reply, ans[2] ? ans + 3 : "", reply_size);
    return GM_OK;
  }
  bool notfound = strncmp(ans, "notfound ", 9) == 0;
  const char *msg = notfound                         ? ans + 9
                    : strncmp(ans, "error ", 6) == 0 ? ans + 6
                                                     : ans;
  gm__fmt(t->err, sizeof(t->err), "PyTorch: %s", msg);
  return notfound ? GM_ERR_NOT_FOUND : GM_ERR_INVALID_ARG;
}

static enum gm_status fail(char *err, size_t err_size, enum gm_status rc,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum gm_status fail(char *err, size_t err_size, enum gm_status rc,
                           const char *fmt, ...) {
  if (err && err_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
  }
  return rc;
}

enum gm_status gm__torch_open(struct gm_train *t, char *err, size_t err_size) {
  struct gm__torch *w = calloc(1, sizeof(*w));
  if (!w)
    return GM_ERR_NO_MEMORY;
  w->pid = -1;
  w->fd = w->shm_fd = -1;
  t->torch = w;
  char why[512] = "";
  if (!locate(w, why, sizeof(why)))
    return fail(err, err_size, GM_ERR_NOT_FOUND, "%s", why);
  size_t b = (size_t)t->cfg.batch_size;
  w->shm_size = b * GM_CIFAR10_PIXELS * sizeof(float) + b * sizeof(int32_t);
  w->shm_fd = memfd_create("greenml-batch", MFD_CLOEXEC);
  if (w->shm_fd < 0 || ftruncate(w->shm_fd, (off_t)w->shm_size) != 0)
    return fail(err, err_size, GM_ERR_SYSTEM,
                "cannot create the batch memory: %s", strerror(errno));
  w->shm =
      mmap(NULL, w->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, w->shm_fd, 0);
  if (w->shm == MAP_FAILED) {
    w->shm = NULL;
    return fail(err, err_size, GM_ERR_SYSTEM, "cannot map the batch memory: %s",
                strerror(errno));
  }
  t->x = w->shm;
  t->labels =
      (int32_t *)((char *)w->shm + b * GM_CIFAR10_PIXELS * sizeof(float));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(err, err_size, GM_ERR_SYSTEM, "socketpair: %s",
                strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return fail(err, err_size, GM_ERR_SYSTEM, "fork: %s", strerror(errno));
  }
  if (pid == 0) {
    /* stdin and stdout the socket, fd 3 the batch memory, stderr kept */
    dup2(sv[1], STDIN_FILENO);
    dup2(sv[1], STDOUT_FILENO);
    if (w->shm_fd == 3)
      fcntl(3, F_SETFD, 0); /* dup2 onto itself would keep FD_CLOEXEC */
    else
      dup2(w->shm_fd, 3);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execlp(w->python, w->python, "-s", w->script, (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  w->pid = pid;
  w->fd = sv[0];
  int rfd = dup(w->fd);
  w->in = rfd >= 0 ? fdopen(rfd, "r") : NULL;
  if (!w->in) {
    if (rfd >= 0)
      close(rfd);
    return fail(err, err_size, GM_ERR_SYSTEM, "fdopen: %s", strerror(errno));
  }
  char reply[256];
  const char *dev = t->cfg.device && *t->cfg.device ? t->cfg.device : "auto";
  enum gm_status rc =
      cmd(t, reply, sizeof(reply), "create %s %d %llu %d %s %.17g %.17g %s",
          t->model, t->cfg.batch_size, (unsigned long long)t->cfg.seed,
          t->threads.threads, dev, t->cfg.momentum, t->cfg.weight_decay,
          gm_nn_precision_name(t->cfg.precision));
  if (rc != GM_OK) {
    const char *m = t->err;
    if (rc == GM_ERR_SYSTEM)
      return fail(err, err_size, GM_ERR_UNAVAILABLE,
                  "the PyTorch engine could not start ('%s -s %s': %s); it "
                  "needs python3 with torch (apt-get install python3-torch, "
                  "or GREENML_PYTHON naming an interpreter that has it)",
                  w->python, w->script, m);
    return fail(err, err_size, GM_ERR_UNAVAILABLE, "%s", m);
  }
  char device[32] = "", version[64] = "";
  if (sscanf(reply, "%31s %63s", device, version) != 2)
    return fail(err, err_size, GM_ERR_PARSE,
                "the PyTorch worker answered 'ok %s' to create", reply);
  gm__strlcpy(t->device, device, sizeof(t->device));
  gm__fmt(t->engine_name, sizeof(t->engine_name), "torch %s %s %s", version,
          device, gm_nn_precision_name(t->cfg.precision));
  gm__fmt(t->kernels, sizeof(t->kernels),
          "PyTorch's own kernels (torch %s on %s%s)", version, device,
          t->cfg.precision == GM_NN_BF16 ? ", bf16 through torch.autocast"
                                         : "");
  return GM_OK;
}

void gm__torch_close(struct gm_train *t) {
  struct gm__torch *w = t ? t->torch : NULL;
  if (!w)
    return;
  if (w->fd >= 0) {
    ssize_t k = send(w->fd, "quit\n", 5, MSG_NOSIGNAL);
    (void)k;
    shutdown(w->fd, SHUT_WR);
  }
  if (w->in)
    fclose(w->in);
  if (w->fd >= 0)
    close(w->fd);
  if (w->pid > 0)
    while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  if (w->shm)
    munmap(w->shm, w->shm_size);
  if (w->shm_fd >= 0)
    close(w->shm_fd);
  free(w);
  t->torch = NULL;
  t->x = NULL;
  t->labels = NULL;
}

enum gm_status gm__torch_init(struct gm_train *t) {
  return cmd(t, NULL, 0, "init");
}

static enum gm_status loss_correct(struct gm_train *t, const char *reply,
                                   double *loss, int *correct) {
  if (sscanf(reply, "%lf %d", loss, correct) != 2) {
    gm__fmt(t->err, sizeof(t->err), "PyTorch answered '%s' to a step", reply);
    return GM_ERR_PARSE;
  }
  return GM_OK;
}

enum gm_status gm__torch_train(struct gm_train *t, int m, double lr,
                               double *loss, int *correct) {
  char reply[128];
  enum gm_status rc = cmd(t, reply, sizeof(reply), "train %d %.17g", m, lr);
  return rc == GM_OK ? loss_correct(t, reply, loss, correct) : rc;
}

enum gm_status gm__torch_infer(struct gm_train *t, int m, double *loss,
                               int *correct) {
  char reply[128];
  enum gm_status rc = cmd(t, reply, sizeof(reply), "infer %d", m);
  return rc == GM_OK ? loss_correct(t, reply, loss, correct) : rc;
}

enum gm_status gm__torch_save(struct gm_train *t, const char *path,
                              uint32_t epoch) {
  if (strchr(path, '\n')) {
    gm__fmt(t->err, sizeof(t->err), "a checkpoint path may not hold a newline");
    return GM_ERR_INVALID_ARG;
  }
  enum gm_status rc = cmd(t, NULL, 0, "save %u %s", epoch, path);
  return rc == GM_ERR_INVALID_ARG ? GM_ERR_IO : rc;
}

enum gm_status gm__torch_load(struct gm_train *t, const char *path,
                              struct gm_nn_checkpoint_info *info) {
  if (strchr(path, '\n')) {
    gm__fmt(t->err, sizeof(t->err), "a checkpoint path may not hold a newline");
    return GM_ERR_INVALID_ARG;
  }
  char reply[256];
  enum gm_status rc = cmd(t, reply, sizeof(reply), "load %s", path);
  if (rc == GM_ERR_INVALID_ARG)
    return GM_ERR_PARSE;
  if (rc != GM_OK)
    return rc;
  unsigned epoch;
  unsigned long long seed;
  char model[64];
  if (sscanf(reply, "%u %63s %llu", &epoch, model, &seed) != 3) {
    gm__fmt(t->err, sizeof(t->err), "PyTorch answered '%s' to load", reply);
    return GM_ERR_PARSE;
  }
  memset(info, 0, sizeof(*info));
  info->epoch = epoch;
  info->seed = seed;
  gm__strlcpy(info->model, model, sizeof(info->model));
  return GM_OK;
}
