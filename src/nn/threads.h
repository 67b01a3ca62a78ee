/* threads.h: the choice of an engine's thread count (threads.c). */
#ifndef GM_NN_THREADS_H
#define GM_NN_THREADS_H

#include <stdint.h>

#include "greenml/engine.h"

/* gm_nn_threads_choose reads procs_running this many times, this far
 * apart. */
#define GM__NN_THREADS_SAMPLES 5
#define GM__NN_THREADS_GAP_NS INT64_C(1000000)

/* gm_nn_threads_choose under the procfs root procfs (not resolved), with
 * samples reads gap_ns apart (0: none between reads). */
enum gm_status gm__nn_threads_choose(const char *procfs, int samples,
                                     int64_t gap_ns, struct gm_nn_threads *out);

/* The number of CPUs in a list such as "0-3,8,10-11"; -1 when malformed. */
int gm__nn_cpu_list_count(const char *s);

#endif
