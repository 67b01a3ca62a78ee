/* timer_floor.c: the cheapest possible periodic sampler, a thread that only
 * sleeps to absolute deadlines on CLOCK_MONOTONIC and does nothing else. Its
 * CPU time per wakeup is the floor any sampling meter pays on this machine;
 * bench-meter.sh prints it beside greenml's figures.
 * usage: timer_floor INTERVAL_US DURATION_S  ->  prints "% of one core" */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  long interval_us = atol(argv[1]);
  double duration_s = atof(argv[2]);
  struct timespec t, c0, c1, w0, w1;
  clock_gettime(CLOCK_MONOTONIC, &t);
  w0 = t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  long n = (long)(duration_s * 1e6 / (double)interval_us);
  for (long i = 0; i < n; i++) {
    t.tv_nsec += interval_us * 1000;
    while (t.tv_nsec >= 1000000000) {
      t.tv_nsec -= 1000000000;
      t.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  double cpu =
      (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  double wall =
      (double)(w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
  printf("%.4f\n", 100.0 * cpu / wall);
  return 0;
}
