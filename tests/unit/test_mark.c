/* test_mark.c: the phase marker channel: the client calls write one line to
 * a real FIFO named by GREENML_MARK; the parser accepts exactly those lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/mark.h"
#include "helpers.h"

static void parse_lines(void **state) {
  (void)state;
  int begin;
  long long t;
  char name[GM_MARK_NAME_MAX + 1];
  assert_int_equal(
      gm_mark_parse("B 123 train epoch 1", &begin, &t, name, sizeof(name)),
      GM_OK);
  assert_int_equal(begin, 1);
  assert_int_equal(t, 123);
  assert_string_equal(name, "train epoch 1");
  assert_int_equal(gm_mark_parse("E 456", &begin, &t, name, sizeof(name)),
                   GM_OK);
  assert_int_equal(begin, 0);
  assert_int_equal(t, 456);
  const char *bad[] = {"",          "B",     "B 12",      "B x name",
                       "E 5 extra", "X 5",   "B -5 name", "B 0 name",
                       "E",         "B 5  ", "B5 name"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(gm_mark_parse(bad[i], &begin, &t, name, sizeof(name)),
                     GM_ERR_PARSE);
  char long_name[80];
  memset(long_name, 'a', sizeof(long_name));
  long_name[sizeof(long_name) - 1] = '\0';
  char line[128];
  snprintf(line, sizeof(line), "B 7 %s", long_name);
  assert_int_equal(gm_mark_parse(line, &begin, &t, name, sizeof(name)),
                   GM_ERR_PARSE);
}

static void client_writes_to_the_fifo(void **state) {
  (void)state;
  unsetenv(GM_MARK_ENV);
  assert_int_equal(gm_phase_begin("x"), GM_ERR_UNAVAILABLE);
  assert_int_equal(gm_phase_end(), GM_ERR_UNAVAILABLE);
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "mark");
  assert_int_equal(mkfifo(path, 0600), 0);
  /* no reader: the channel is stale */
  gmt_setenv(GM_MARK_ENV, path);
  assert_int_equal(gm_phase_begin("x"), GM_ERR_UNAVAILABLE);
  int fd = open(path, O_RDWR | O_NONBLOCK);
  assert_true(fd >= 0);
  int64_t t0 = gm__now_ns();
  assert_int_equal(gm_phase_begin("load data"), GM_OK);
  assert_int_equal(gm_phase_end(), GM_OK);
  assert_int_equal(gm_phase_begin(""), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_phase_begin("bad\nname"), GM_ERR_INVALID_ARG);
  int64_t t1 = gm__now_ns();
  char buf[256] = "";
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  assert_true(n > 0);
  buf[n] = '\0';
  char *nl = strchr(buf, '\n');
  assert_non_null(nl);
  *nl = '\0';
  int begin;
  long long t;
  char name[64];
  assert_int_equal(gm_mark_parse(buf, &begin, &t, name, sizeof(name)), GM_OK);
  assert_int_equal(begin, 1);
  assert_string_equal(name, "load data");
  assert_true(t >= t0 && t <= t1);
  char *second = nl + 1;
  nl = strchr(second, '\n');
  assert_non_null(nl);
  *nl = '\0';
  assert_int_equal(gm_mark_parse(second, &begin, &t, name, sizeof(name)),
                   GM_OK);
  assert_int_equal(begin, 0);
  assert_string_equal(nl + 1, ""); /* nothing for the rejected names */
  close(fd);
  unsetenv(GM_MARK_ENV);
  gmt_rmtree(dir);
  free(dir);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_lines),
      cmocka_unit_test(client_writes_to_the_fifo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
