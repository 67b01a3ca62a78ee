/* spin.c: a fixed, deterministic CPU-bound job (an LCG and a xorshift mix
 * over N iterations, no memory traffic, no system calls) used to time
 * `greenml measure` against the bare command.
 * usage: spin ITERATIONS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000000ULL;
  uint64_t x = 88172645463325252ULL, acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += x * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  printf("%llu\n", (unsigned long long)acc);
  return 0;
}
