/* registry.c: the only file that lists the power sources, in probing order.
 * The meter opens all of them (so `greenml sources` can explain each) and
 * then selects: the first RAPL method that yields packages measures the CPU;
 * the DRAM model stands in when that method has no DRAM domain; the CPU model
 * stands in when no RAPL method works. */
#include "meter/source.h"

const struct gm__source_ops *const gm__sources[] = {
    &gm__source_rapl_powercap, &gm__source_rapl_perf,  &gm__source_rapl_msr,
    &gm__source_nvml,          &gm__source_dram_model, &gm__source_cpu_model,
};

const size_t gm__source_count = sizeof(gm__sources) / sizeof(gm__sources[0]);
