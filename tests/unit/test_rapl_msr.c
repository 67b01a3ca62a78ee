/* test_rapl_msr.c: the rapl-msr source on fake machines. A fake MSR device
 * is a sparse regular file under <devfs>/cpu/<N>/msr holding 8-byte values
 * at offset = register number (AMD registers sit near 3.2 GB: sparse). */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "meter/cpu_topology.h"
#include "meter/source.h"

struct fixture {
  char *root;
  char sysfs[512], procfs[512], devfs[512];
  struct gm__env env;
  struct gm_probe probe;
  void *self;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  f->root = gmt_mkdtemp();
  gmt_roots(f->root, f->sysfs, f->procfs, f->devfs, sizeof(f->sysfs));
  f->env.sysfs = f->sysfs;
  f->env.procfs = f->procfs;
  f->env.devfs = f->devfs;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gm__source_rapl_msr.close(f->self);
  gmt_rmtree(f->root);
  free(f->root);
  free(f);
  return 0;
}

static void cpuinfo(struct fixture *f, const char *vendor, unsigned family,
                    unsigned model) {
  gmt_write(f->root, "proc/cpuinfo",
            "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\n"
            "model\t\t: %u\nmodel name\t: Test CPU\nflags\t\t: fpu\n\n"
            "processor\t: 1\nvendor_id\t: Bogus\n",
            vendor, family, model);
}

static void cpu(struct fixture *f, int n, unsigned pkg, unsigned die) {
  char rel[128];
  snprintf(rel, sizeof(rel),
           "sys/devices/system/cpu/cpu%d/topology/physical_package_id", n);
  gmt_write(f->root, rel, "%u\n", pkg);
  snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d/topology/die_id", n);
  gmt_write(f->root, rel, "%u\n", die);
}

static char *msr_path(struct fixture *f, int n) {
  char rel[64];
  snprintf(rel, sizeof(rel), "dev/cpu/%d/msr", n);
  return gmt_path(f->root, rel);
}

/* Creates an empty fake MSR device for cpu n. */
static void msr_dev(struct fixture *f, int n) {
  char rel[64];
  snprintf(rel, sizeof(rel), "dev/cpu/%d/msr", n);
  gmt_write_bin(f->root, rel, "", 0);
}

/* Writes one register in place (the source keeps the file open). */
static void msr_set(struct fixture *f, int n, uint32_t msr, uint64_t value) {
  char *p = msr_path(f, n);
  int fd = open(p, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, &value, sizeof(value), (off_t)msr),
                   sizeof(value));
  close(fd);
  free(p);
}

/* AMD's unit, core and package registers are consecutive numbers
 * (0xC0010299, 0xC001029A, 0xC001029B), so in a flat file their 8-byte
 * images overlap: byte k of the core register is byte k+1 of the unit one.
 * Writes one image with unit byte 1 = esu and the package register = pkg
 * (64 bits); returns the 32-bit core value that results,
 * esu | (pkg & 0xFFFFFF) << 8. */
static uint32_t amd_regs(struct fixture *f, int n, unsigned esu, uint64_t pkg) {
  unsigned char img[10] = {0};
  img[1] = (unsigned char)esu;
  for (int k = 0; k < 8; k++)
    img[2 + k] = (unsigned char)(pkg >> (8 * k));
  char *p = msr_path(f, n);
  int fd = open(p, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, img, sizeof(img), (off_t)0xC0010299u),
                   sizeof(img));
  close(fd);
  free(p);
  return (uint32_t)esu | (uint32_t)(pkg & 0xFFFFFF) << 8;
}

static enum gm_status open_src(struct fixture *f) {
  memset(&f->probe, 0, sizeof(f->probe));
  f->self = NULL;
  enum gm_status rc = gm__source_rapl_msr.open(&f->env, &f->self, &f->probe);
  if (rc != GM_OK)
    assert_null(f->self);
  return rc;
}

static size_t count(struct fixture *f) {
  return gm__source_rapl_msr.component_count(f->self);
}

static const struct gm_component_info *comp(struct fixture *f, size_t i) {
  return gm__source_rapl_msr.component(f->self, i);
}

static void read_all(struct fixture *f, struct gm__reading *out) {
  struct gm__tick tick = {.cpu_util_frac = NAN, .mem_used_bytes = NAN};
  assert_int_equal(gm__source_rapl_msr.read(f->self, &tick, out, NULL), GM_OK);
}

/* One Kaby Lake client package: ESU 14, no uncore, DRAM and psys. */
static void intel_client(struct fixture *f) {
  cpuinfo(f, "GenuineIntel", 6, 142);
  cpu(f, 0, 0, 0);
  cpu(f, 1, 0, 0);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA0E03);
  msr_set(f, 0, 0x611, 0x10000);
  msr_set(f, 0, 0x639, 0x8000);
  msr_set(f, 0, 0x641, 0); /* PP1 reads 0: absent */
  msr_set(f, 0, 0x619, 0x4000);
  msr_set(f, 0, 0x64D, 0x20000);
  msr_set(f, 0, 0x700, 0); /* extend the file past every register */
}

static void test_intel_client_domains(void **state) {
  struct fixture *f = *state;
  intel_client(f);
  assert_int_equal(open_src(f), GM_OK);
  assert_string_equal(f->probe.reason, "");
  assert_string_equal(f->probe.fix, "");
  assert_non_null(strstr(f->probe.found, "package-0, cores-0, dram-0, psys"));
  assert_int_equal(count(f), 4);

  const struct gm_component_info *pkg = comp(f, 0), *cores = comp(f, 1);
  const struct gm_component_info *dram = comp(f, 2), *psys = comp(f, 3);
  assert_string_equal(pkg->name, "package-0");
  assert_string_equal(pkg->source, "rapl-msr");
  assert_int_equal(pkg->domain, GM_DOMAIN_PACKAGE);
  assert_int_equal(pkg->kind, GM_KIND_CPU);
  assert_int_equal(pkg->provenance, GM_PROV_MEASURED_COUNTER);
  assert_true(pkg->in_total);
  assert_string_equal(pkg->detail, "MSR 0x611 on cpu0, unit 61.04 uJ");
  /* 0xA0E03: ESU 14, 2^-14 J = 61.035 uJ; 32-bit range = 2^18 J */
  assert_true(pkg->wrap_j == 262144.0);

  assert_string_equal(cores->name, "cores-0");
  assert_int_equal(cores->domain, GM_DOMAIN_CORES);
  assert_int_equal(cores->kind, GM_KIND_CPU);
  assert_false(cores->in_total);
  assert_string_equal(cores->detail, "MSR 0x639 on cpu0, unit 61.04 uJ");

  assert_string_equal(dram->name, "dram-0");
  assert_int_equal(dram->domain, GM_DOMAIN_DRAM);
  assert_int_equal(dram->kind, GM_KIND_DRAM);
  assert_true(dram->in_total);
  /* client model: DRAM uses the MSR unit */
  assert_string_equal(dram->detail, "MSR 0x619 on cpu0, unit 61.04 uJ");

  assert_string_equal(psys->name, "psys");
  assert_int_equal(psys->domain, GM_DOMAIN_PSYS);
  assert_int_equal(psys->kind, GM_KIND_PSYS);
  assert_false(psys->in_total);
  assert_non_null(strstr(psys->detail, "MSR 0x64D on cpu0"));

  struct gm__reading r[4];
  read_all(f, r);
  for (size_t i = 0; i < 4; i++) {
    assert_true(r[i].ok);
    assert_true(r[i].has_energy);
    assert_false(r[i].has_power);
    assert_false(r[i].lost);
  }
  assert_true(r[0].energy_j == 4.0); /* 0x10000 x 2^-14 */
  assert_true(r[1].energy_j == 2.0);
  assert_true(r[2].energy_j == 1.0);
  assert_true(r[3].energy_j == 8.0);
}

static void test_esu16_unit(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 42); /* Sandy Bridge */
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA1003); /* ESU 16 */
  msr_set(f, 0, 0x611, 0x18000);
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 1); /* the rest is past the end of the file */
  assert_string_equal(comp(f, 0)->detail, "MSR 0x611 on cpu0, unit 15.26 uJ");
  assert_true(comp(f, 0)->wrap_j == 65536.0);
  struct gm__reading r[1];
  read_all(f, r);
  assert_true(r[0].energy_j == 1.5); /* 0x18000 x 2^-16 */
}

static void test_dram_unit_quirk(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 85); /* Skylake-X / Cascade Lake */
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA0E03);
  msr_set(f, 0, 0x611, 0x4000);
  msr_set(f, 0, 0x619, 1000);
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 2);
  const struct gm_component_info *dram = comp(f, 1);
  assert_string_equal(dram->name, "dram-0");
  assert_string_equal(dram->detail, "MSR 0x619 on cpu0, unit 15.3 uJ (fixed "
                                    "DRAM unit of this model)");
  assert_true(dram->wrap_j == 4294967296.0 * 15.3e-6);
  /* the package keeps the MSR unit */
  assert_string_equal(comp(f, 0)->detail, "MSR 0x611 on cpu0, unit 61.04 uJ");
  struct gm__reading r[2];
  read_all(f, r);
  assert_true(r[0].energy_j == 1.0);
  assert_true(r[1].energy_j == 1000.0 * 15.3e-6);
}

static void test_spr_psys_unit(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 143); /* Sapphire Rapids */
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA0E03);
  msr_set(f, 0, 0x611, 0x4000);
  msr_set(f, 0, 0x619, 0x4000); /* SPR: DRAM follows the MSR unit */
  msr_set(f, 0, 0x64D, 5);      /* psys in 1 J units */
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 3);
  assert_string_equal(comp(f, 2)->name, "psys");
  assert_true(comp(f, 2)->wrap_j == 4294967296.0);
  struct gm__reading r[3];
  read_all(f, r);
  assert_true(r[1].energy_j == 1.0);
  assert_true(r[2].energy_j == 5.0);
}

static void test_amd_package_and_core(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "AuthenticAMD", 25, 33); /* Zen 3 */
  cpu(f, 0, 0, 0);
  cpu(f, 1, 0, 1); /* AMD die ids (nodes) do not split RAPL packages */
  msr_dev(f, 0);
  msr_set(f, 0, 0x611, 0x99999); /* Intel registers are ignored on AMD */
  /* package 0x30000 (3 J at ESU 16); bits 63:32 set, to be masked off */
  uint32_t core = amd_regs(f, 0, 16, UINT64_C(0xABCD00030000));
  assert_int_equal(core, 0x03000010);
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 2);
  assert_string_equal(comp(f, 0)->name, "package-0");
  assert_string_equal(comp(f, 0)->detail,
                      "MSR 0xC001029B on cpu0, unit 15.26 uJ");
  assert_true(comp(f, 0)->in_total);
  assert_true(comp(f, 0)->wrap_j == 65536.0);
  assert_string_equal(comp(f, 1)->name, "cores-0");
  assert_int_equal(comp(f, 1)->domain, GM_DOMAIN_CORES);
  assert_false(comp(f, 1)->in_total);
  assert_non_null(strstr(comp(f, 1)->detail, "MSR 0xC001029A on cpu0"));
  assert_non_null(strstr(comp(f, 1)->detail, "one core"));
  struct gm__reading r[2];
  read_all(f, r);
  assert_true(r[0].energy_j == 3.0); /* masked to 32 bits: 0x30000 x 2^-16 */
  assert_true(r[1].energy_j == ldexp((double)core, -16));
  assert_true(r[1].energy_j == 768.000244140625);
}

static void test_hygon_and_old_amd(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "HygonGenuine", 0x18, 0);
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  amd_regs(f, 0, 14, 0x10000);
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 2);
  assert_string_equal(comp(f, 0)->detail,
                      "MSR 0xC001029B on cpu0, unit 61.04 uJ");
  struct gm__reading r[2];
  read_all(f, r);
  assert_true(r[0].energy_j == 4.0); /* 0x10000 x 2^-14 */
  gm__source_rapl_msr.close(f->self);
  f->self = NULL;

  cpuinfo(f, "AuthenticAMD", 0x15, 2); /* Bulldozer: no RAPL */
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "family 0x15"));
}

static void test_unknown_vendor(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "CentaurHauls", 6, 15);
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "'CentaurHauls'"));
}

static void test_missing_cpuinfo(void **state) {
  struct fixture *f = *state;
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  assert_int_not_equal(open_src(f), GM_OK);
  assert_non_null(strstr(f->probe.reason, "cpuinfo"));
}

static void test_all_zero_is_unavailable(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 142);
  cpu(f, 0, 0, 0);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA0E03);
  msr_set(f, 0, 0x700, 0); /* every energy register reads 0 */
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "non-zero"));
}

static void test_no_dev_cpu(void **state) {
  struct fixture *f = *state;
  intel_client(f);
  char *dev_cpu = gmt_path(f->root, "dev/cpu");
  gmt_rmtree(dev_cpu);
  free(dev_cpu);
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "/dev/cpu'"));
  assert_string_equal(f->probe.fix, "sudo modprobe msr");
}

static void test_no_msr_file(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 142);
  cpu(f, 0, 0, 0);
  gmt_mkdirs(f->root, "dev/cpu/0"); /* e.g. only the cpuid driver loaded */
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "/dev/cpu/0/msr'"));
  assert_string_equal(f->probe.fix, "sudo modprobe msr");
}

static void test_directory_instead_of_device(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 142);
  cpu(f, 0, 0, 0);
  gmt_mkdirs(f->root, "dev/cpu/0/msr");
  enum gm_status rc = open_src(f);
  assert_int_not_equal(rc, GM_OK);
  assert_non_null(strstr(f->probe.reason, "0x606"));
  assert_non_null(strstr(f->probe.reason, "/dev/cpu/0/msr'"));
}

static void test_unit_register_missing(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 142);
  cpu(f, 0, 0, 0);
  msr_dev(f, 0); /* empty: every read is short, like an EIO on hardware */
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason, "does not implement"));
}

/* Runs open as an unprivileged user against a device only root can read:
 * directly when not root, in a child that drops to nobody when root. */
static void test_permission_denied(void **state) {
  struct fixture *f = *state;
  intel_client(f);
  char *p = msr_path(f, 0);
  assert_int_equal(chmod(p, 0), 0);
  free(p);
  assert_int_equal(chmod(f->root, 0755), 0);
  if (geteuid() != 0) {
    assert_int_equal(open_src(f), GM_ERR_PERMISSION);
  } else {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      int rc = -1;
      if (setgid(65534) == 0 && setuid(65534) == 0)
        rc = (int)gm__source_rapl_msr.open(&f->env, &f->self, &f->probe);
      if (write(fds[1], &rc, sizeof(rc)) != sizeof(rc) ||
          write(fds[1], &f->probe, sizeof(f->probe)) != sizeof(f->probe))
        _exit(2);
      _exit(0);
    }
    close(fds[1]);
    int rc = -1;
    assert_int_equal(read(fds[0], &rc, sizeof(rc)), sizeof(rc));
    assert_int_equal(read(fds[0], &f->probe, sizeof(f->probe)),
                     sizeof(f->probe));
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (rc == -1)
      skip(); /* cannot drop privileges here */
    assert_int_equal(rc, GM_ERR_PERMISSION);
  }
  assert_non_null(strstr(f->probe.reason, "/dev/cpu/0/msr'"));
  assert_non_null(strstr(f->probe.reason, "permission denied"));
  assert_non_null(strstr(f->probe.fix, "modprobe msr"));
  assert_non_null(strstr(f->probe.fix, "setcap cap_sys_rawio=ep"));
  assert_non_null(strstr(f->probe.fix, "SUBSYSTEM==\"msr\""));
  assert_non_null(strstr(f->probe.fix, "docs/sources/rapl.md"));
}

static void test_two_packages(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 79); /* Broadwell-EP: DRAM quirk too */
  cpu(f, 0, 0, 0);
  cpu(f, 1, 1, 0);
  cpu(f, 2, 0, 0);
  cpu(f, 3, 1, 0);
  /* cpu4 is offline: a directory without topology */
  gmt_mkdirs(f->root, "sys/devices/system/cpu/cpu4");
  gmt_mkdirs(f->root, "sys/devices/system/cpu/cpufreq");
  for (int c = 0; c < 2; c++) {
    msr_dev(f, c);
    msr_set(f, c, 0x606, 0xA0E03);
    msr_set(f, c, 0x611, (uint64_t)(c + 1) << 14);
    msr_set(f, c, 0x619, 1000u * (unsigned)(c + 1));
  }
  msr_set(f, 0, 0x64D, 0x4000); /* psys only once */
  assert_int_equal(open_src(f), GM_OK);
  assert_non_null(strstr(f->probe.found, "2 packages"));
  assert_int_equal(count(f), 5);
  const char *names[] = {"package-0", "dram-0", "package-1", "dram-1", "psys"};
  for (size_t i = 0; i < 5; i++)
    assert_string_equal(comp(f, i)->name, names[i]);
  assert_non_null(strstr(comp(f, 2)->detail, "on cpu1,"));
  assert_non_null(strstr(comp(f, 3)->detail, "15.3 uJ"));
  struct gm__reading r[5];
  read_all(f, r);
  assert_true(r[0].energy_j == 1.0);
  assert_true(r[1].energy_j == 1000.0 * 15.3e-6);
  assert_true(r[2].energy_j == 2.0);
  assert_true(r[3].energy_j == 2000.0 * 15.3e-6);
  assert_true(r[4].energy_j == 1.0);
}

static void test_multi_die_names(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 85); /* Cascade Lake-AP: 2 dies */
  cpu(f, 0, 0, 0);
  cpu(f, 1, 0, 1);
  for (int c = 0; c < 2; c++) {
    msr_dev(f, c);
    msr_set(f, c, 0x606, 0xA0E03);
    msr_set(f, c, 0x611, 0x4000);
  }
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 2);
  assert_string_equal(comp(f, 0)->name, "package-0-die-0");
  assert_string_equal(comp(f, 1)->name, "package-0-die-1");
}

static void test_counter_changes_and_wraps(void **state) {
  struct fixture *f = *state;
  intel_client(f);
  assert_int_equal(open_src(f), GM_OK);
  struct gm__reading r[4];
  read_all(f, r);
  assert_true(r[0].energy_j == 4.0);
  msr_set(f, 0, 0x611, 0xFFFFC000); /* near the top of the range */
  read_all(f, r);
  assert_true(r[0].energy_j == 262143.0);
  msr_set(f, 0, 0x611, UINT64_C(0x100004000)); /* wrapped: bit 32 ignored */
  read_all(f, r);
  assert_true(r[0].energy_j == 1.0);
  /* the meter differences modulo wrap_j: 1 + 262144 - 262143 = 2 J */
  assert_true(r[0].energy_j + comp(f, 0)->wrap_j - 262143.0 == 2.0);
}

static void test_read_error(void **state) {
  struct fixture *f = *state;
  intel_client(f);
  assert_int_equal(open_src(f), GM_OK);
  char *p = msr_path(f, 0);
  assert_int_equal(truncate(p, 0), 0); /* every read is now short */
  free(p);
  struct gm__reading r[4];
  struct gm__tick tick = {.cpu_util_frac = NAN, .mem_used_bytes = NAN};
  assert_int_not_equal(gm__source_rapl_msr.read(f->self, &tick, r, NULL),
                       GM_OK);
  for (size_t i = 0; i < 4; i++) {
    assert_false(r[i].ok);
    assert_false(r[i].lost);
  }
}

static void test_topology_fallback(void **state) {
  struct fixture *f = *state;
  /* no sysfs at all: one package read through cpu0 */
  cpuinfo(f, "GenuineIntel", 6, 142);
  msr_dev(f, 0);
  msr_set(f, 0, 0x606, 0xA0E03);
  msr_set(f, 0, 0x611, 0x4000);
  assert_int_equal(open_src(f), GM_OK);
  assert_int_equal(count(f), 1);
  assert_string_equal(comp(f, 0)->name, "package-0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_intel_client_domains, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_esu16_unit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dram_unit_quirk, setup, teardown),
      cmocka_unit_test_setup_teardown(test_spr_psys_unit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_amd_package_and_core, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_hygon_and_old_amd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_vendor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_cpuinfo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_all_zero_is_unavailable, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_no_dev_cpu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_msr_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_directory_instead_of_device, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_unit_register_missing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_permission_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_packages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multi_die_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_changes_and_wraps, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_read_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_topology_fallback, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
