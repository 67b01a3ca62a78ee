/* registry.c: the only file that lists the power sources, in probing order
 * (the order of `greenml sources`). The meter opens all of them, so that each
 * is explained, and then selects by the roles and preferences each source
 * declares in its ops (source.h): the preferred CPU_PACKAGE source with
 * packages measures the CPU, the DRAM model stands in when no source in use
 * measures DRAM, the CPU model when no CPU_PACKAGE source works. Every entry
 * needs a case in tests/unit/test_source_contract.c. */
#include "meter/source.h"

const struct gm__source_ops *const gm__sources[] = {
    &gm__source_rapl_powercap, &gm__source_rapl_perf,  &gm__source_rapl_msr,
    &gm__source_nvml,          &gm__source_dram_model, &gm__source_cpu_model,
};

const size_t gm__source_count = sizeof(gm__sources) / sizeof(gm__sources[0]);
