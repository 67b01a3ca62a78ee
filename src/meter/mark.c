/* mark.c: see greenml/mark.h. */
#define _GNU_SOURCE
#include "greenml/mark.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

bool gm_phase_name_valid(const char *name) {
  if (!name)
    return false;
  size_t n = strlen(name);
  if (n == 0 || n > GM_MARK_NAME_MAX)
    return false;
  bool visible = false;
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return false;
    visible |= name[i] != ' ';
  }
  return visible;
}

static enum gm_status send_line(const char *line) {
  const char *path = getenv(GM_MARK_ENV);
  if (!path || !*path)
    return GM_ERR_UNAVAILABLE;
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return errno == ENXIO || errno == ENOENT ? GM_ERR_UNAVAILABLE : GM_ERR_IO;
  size_t len = strlen(line);
  /* One write of less than PIPE_BUF bytes is atomic: lines never mix. */
  ssize_t n = write(fd, line, len);
  close(fd);
  return n == (ssize_t)len ? GM_OK : GM_ERR_IO;
}

enum gm_status gm_phase_begin(const char *name) {
  if (!name || !gm_phase_name_valid(name))
    return GM_ERR_INVALID_ARG;
  char line[128];
  gm__fmt(line, sizeof(line), "B %lld %s\n", (long long)gm__now_ns(), name);
  return send_line(line);
}

enum gm_status gm_phase_end(void) {
  char line[64];
  gm__fmt(line, sizeof(line), "E %lld\n", (long long)gm__now_ns());
  return send_line(line);
}

enum gm_status gm_mark_parse(const char *line, int *begin, long long *t_ns,
                             char *name, unsigned name_size) {
  if (!line || (line[0] != 'B' && line[0] != 'E') || line[1] != ' ')
    return GM_ERR_PARSE;
  char *end;
  errno = 0;
  long long t = strtoll(line + 2, &end, 10);
  if (errno || end == line + 2 || t <= 0)
    return GM_ERR_PARSE;
  *begin = line[0] == 'B';
  *t_ns = t;
  if (name_size)
    name[0] = '\0';
  if (*begin) {
    if (*end != ' ' || !gm_phase_name_valid(end + 1))
      return GM_ERR_PARSE;
    gm__strlcpy(name, end + 1, name_size);
  } else if (*end != '\0') {
    return GM_ERR_PARSE;
  }
  return GM_OK;
}
