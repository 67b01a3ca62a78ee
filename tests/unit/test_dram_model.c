/* test_dram_model.c: DIMM detection (SMBIOS type 17 blobs, dmidecode text,
 * EDAC trees) and the DRAM power model, through the production code paths:
 * gm__dimms_detect on temporary sysfs trees and the source's open/read. */
#define _GNU_SOURCE
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "meter/dimm.h"
#include "meter/source.h"

#define C_DEFAULT 3.1e-9
#define GIB_U64 UINT64_C(1073741824)

/* ---- SMBIOS blob builder ---- */

struct blob {
  uint8_t b[16384];
  size_t len;
  uint16_t handle;
};

static void put(struct blob *bl, const void *p, size_t n) {
  assert_true(bl->len + n <= sizeof(bl->b));
  memcpy(bl->b + bl->len, p, n);
  bl->len += n;
}

static void w16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v & 0xFF);
  p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Appends a string set: each string NUL-terminated, then one more NUL (or
 * two NULs when there is no string). */
static void put_strings(struct blob *bl, const char *const *strs, size_t n) {
  static const uint8_t nul[2] = {0, 0};
  for (size_t i = 0; i < n; i++)
    put(bl, strs[i], strlen(strs[i]) + 1);
  put(bl, nul, n == 0 ? 2 : 1);
}

/* A structure with a zeroed formatted area of len bytes. */
static void add_plain(struct blob *bl, uint8_t type, uint8_t len,
                      const char *const *strs, size_t n) {
  uint8_t f[256] = {0};
  f[0] = type;
  f[1] = len;
  w16(f + 2, bl->handle++);
  put(bl, f, len);
  put_strings(bl, strs, n);
}

static void add_end(struct blob *bl) { add_plain(bl, 127, 4, NULL, 0); }

struct t17 {
  uint8_t len; /* formatted area; 0 -> 0x28 (SMBIOS 2.8) */
  uint16_t size;
  uint32_t ext_size_mb;
  uint8_t type; /* SMBIOS code: 0x18 DDR3, 0x1A DDR4, 0x22 DDR5 */
  uint16_t detail;
  uint16_t speed, cfg_speed, cfg_mv;
  uint32_t ext_speed, ext_cfg_speed;
  uint8_t locator_idx; /* 0 -> 1 */
  const char *locator;
  bool no_strings;
};

static void add_t17(struct blob *bl, const struct t17 *t) {
  uint8_t f[0x5C] = {0};
  uint8_t len = t->len ? t->len : 0x28;
  assert_true(len <= sizeof(f));
  f[0] = 17;
  f[1] = len;
  w16(f + 2, bl->handle++);
  w16(f + 0x04, 0x1000); /* physical memory array */
  w16(f + 0x06, 0xFFFE);
  w16(f + 0x08, 72);
  w16(f + 0x0A, 64);
  w16(f + 0x0C, t->size);
  f[0x0E] = 0x09; /* DIMM */
  f[0x10] = t->locator_idx ? t->locator_idx : 1;
  f[0x11] = 2; /* bank locator */
  f[0x12] = t->type;
  w16(f + 0x13, t->detail);
  w16(f + 0x15, t->speed);
  f[0x1B] = 2; /* rank */
  w32(f + 0x1C, t->ext_size_mb);
  w16(f + 0x20, t->cfg_speed);
  w16(f + 0x22, t->cfg_mv);
  w16(f + 0x24, t->cfg_mv);
  w16(f + 0x26, t->cfg_mv);
  f[0x28] = 0x03; /* DRAM */
  w32(f + 0x54, t->ext_speed);
  w32(f + 0x58, t->ext_cfg_speed);
  put(bl, f, len);
  const char *strs[2] = {t->locator ? t->locator : "DIMM", "BANK 0"};
  put_strings(bl, strs, t->no_strings ? 0 : 2);
}

/* A firmware-like preamble: BIOS information (type 0) and the physical
 * memory array (type 16). */
static void add_preamble(struct blob *bl) {
  const char *bios[] = {"American Megatrends Inc.", "2.1", "03/15/2021"};
  add_plain(bl, 0, 0x18, bios, 3);
  add_plain(bl, 16, 0x17, NULL, 0);
}

static const uint16_t DDR4_REG = (1u << 7) | (1u << 13); /* sync, reg */

/* 4 x 16 GB DDR4-3200 RDIMM configured 2933 MT/s at 1.2 V, one empty slot. */
static void blob_4x16(struct blob *bl) {
  memset(bl, 0, sizeof(*bl));
  bl->handle = 0x1100;
  add_preamble(bl);
  const char *locs[] = {"DIMM_A1", "DIMM_B1", "DIMM_C1", "DIMM_D1"};
  for (int i = 0; i < 4; i++) {
    struct t17 t = {.size = 16384,
                    .type = 0x1A,
                    .detail = DDR4_REG,
                    .speed = 3200,
                    .cfg_speed = 2933,
                    .cfg_mv = 1200,
                    .locator = locs[i]};
    add_t17(bl, &t);
  }
  struct t17 empty = {.size = 0, .type = 0x02, .locator = "DIMM_E1"};
  add_t17(bl, &empty);
  add_end(bl);
  /* After the end-of-table marker: must not be decoded. */
  struct t17 after = {.size = 8192, .type = 0x1A, .locator = "AFTER_END"};
  add_t17(bl, &after);
}

static double ddr4_2933_w(void) {
  return 0.5 * C_DEFAULT * 1.2 * 1.2 * 1.4665e9;
}

static void assert_close(double got, double want) {
  if (!(fabs(got - want) <= 1e-9 * fabs(want) + 1e-12)) {
    print_error("got %.12g, want %.12g\n", got, want);
    fail();
  }
}

static void assert_contains(const char *hay, const char *needle) {
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    fail();
  }
}

/* ---- temporary machine ---- */

struct machine {
  char *root, *sys, *proc, *dev;
  struct gm__env env;
};

static void machine_new(struct machine *m) {
  memset(m, 0, sizeof(*m));
  m->root = gmt_mkdtemp();
  gmt_mkdirs(m->root, "sys");
  gmt_mkdirs(m->root, "proc");
  gmt_mkdirs(m->root, "dev");
  m->sys = gmt_path(m->root, "sys");
  m->proc = gmt_path(m->root, "proc");
  m->dev = gmt_path(m->root, "dev");
  m->env.sysfs = m->sys;
  m->env.procfs = m->proc;
  m->env.devfs = m->dev;
}

static void machine_free(struct machine *m) {
  gmt_rmtree(m->root);
  free(m->root);
  free(m->sys);
  free(m->proc);
  free(m->dev);
}

static void machine_dmi(struct machine *m, const void *data, size_t len) {
  gmt_write_bin(m->root, "sys/firmware/dmi/tables/DMI", data, len);
}

static void machine_meminfo(struct machine *m, unsigned long long kb) {
  gmt_write(m->root, "proc/meminfo",
            "MemTotal:       %llu kB\nMemFree:         1234567 kB\n"
            "MemAvailable:    2345678 kB\n",
            kb);
}

/* Opens the source, checks the component and one reading; returns the
 * modelled power. probe is filled. */
static double open_and_read(const struct gm__env *env, struct gm_probe *probe,
                            struct gm_component_info *info) {
  const struct gm__source_ops *ops = &gm__source_dram_model;
  void *self = NULL;
  memset(probe, 0, sizeof(*probe));
  assert_string_equal(ops->name, "dram-model");
  enum gm_status rc = ops->open(env, &self, probe);
  if (rc != GM_OK) {
    print_error("open: %s: %s\n", gm_status_name(rc), probe->reason);
    fail();
  }
  assert_non_null(self);
  assert_string_equal(probe->reason, "");
  assert_int_equal(ops->component_count(self), 1);
  const struct gm_component_info *ci = ops->component(self, 0);
  assert_non_null(ci);
  assert_null(ops->component(self, 1));
  assert_string_equal(ci->name, "dram");
  assert_string_equal(ci->source, "dram-model");
  assert_int_equal(ci->kind, GM_KIND_DRAM);
  assert_int_equal(ci->domain, GM_DOMAIN_DRAM);
  assert_int_equal(ci->provenance, GM_PROV_MODELLED);
  assert_true(ci->in_total);
  assert_true(ci->power_interval_mean);
  assert_true(ci->wrap_j == 0);
  *info = *ci;
  struct gm__reading r[1];
  memset(r, 0xA5, sizeof(r));
  struct gm__tick tick = {.t_ns = 1, .cpu_util_frac = NAN};
  assert_int_equal(ops->read(self, &tick, r, NULL), GM_OK);
  assert_true(r[0].ok);
  assert_true(r[0].has_power);
  assert_false(r[0].has_energy);
  assert_false(r[0].lost);
  double p = r[0].power_w;
  /* Constant: a second tick reads the same. */
  tick.t_ns = 2;
  assert_int_equal(ops->read(self, &tick, r, NULL), GM_OK);
  assert_true(r[0].power_w == p);
  ops->close(self);
  ops->close(NULL);
  return p;
}

/* ---- SMBIOS ---- */

static void test_smbios_4x16_ddr4(void **state) {
  (void)state;
  struct blob bl;
  blob_4x16(&bl);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  struct gm__smbios_walk w;
  assert_int_equal(gm__smbios_parse_type17(bl.b, bl.len, &d, &n, &w), GM_OK);
  assert_int_equal(n, 4);
  assert_int_equal(w.slots, 5);
  assert_int_equal(w.structures, 8); /* 0, 16, 5 x 17, 127 */
  assert_true(w.end_seen);
  assert_false(w.broken);
  assert_false(w.truncated);
  const char *locs[] = {"DIMM_A1", "DIMM_B1", "DIMM_C1", "DIMM_D1"};
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(d[i].locator, locs[i]);
    assert_true(d[i].size_bytes == 16 * GIB_U64);
    assert_string_equal(d[i].type, "DDR4");
    assert_int_equal(d[i].speed_mts, 3200);
    assert_int_equal(d[i].configured_speed_mts, 2933);
    assert_int_equal(d[i].configured_voltage_mv, 1200);
    assert_true(d[i].registered);
  }
  double want = 4 * 0.5 * 3.1e-9 * 1.2 * 1.2 * 1.4665e9; /* 13.0929 W */
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  assert_close(gm__dram_model_power_w(d, n, 3.1e-9), want);
  free(d);

  /* The same through a sysfs tree, and through the source. */
  struct machine m;
  machine_new(&m);
  machine_dmi(&m, bl.b, bl.len);
  machine_meminfo(&m, 65536ull * 1024);
  char how[1024];
  enum gm__dimm_method method = GM_DIMM_NONE;
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)), GM_OK);
  assert_int_equal(n, 4);
  assert_contains(how, "SMBIOS '");
  assert_contains(how, "/firmware/dmi/tables/DMI': 4 of 5 slots populated");
  free(d);
  assert_int_equal(
      gm__dimms_detect_ex(&m.env, &d, &n, &method, how, sizeof(how)), GM_OK);
  assert_int_equal(method, GM_DIMM_SMBIOS);
  assert_string_equal(gm__dimm_method_name(method), "SMBIOS");
  free(d);

  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "4 DIMMs (SMBIOS) x 1/2 C V^2 f, C=3.1 nF, "
                               "V=1.2 V, f=1.4665 GHz -> 4 x 3.27 W");
  assert_contains(info.detail, "GHz -> 4 x 3.27 W");
  assert_contains(probe.found, "4 DIMMs, 64.0 GiB DDR4, registered");
  assert_contains(probe.found, "13.09 W modelled");
  assert_string_equal(probe.fix, "");
  machine_free(&m);
}

static void test_smbios_extended_size_and_speed(void **state) {
  (void)state;
  struct blob bl = {.handle = 1};
  /* SMBIOS 3.3+: Size 0x7FFF -> Extended Size 32768 MB; Speed 0xFFFF ->
   * Extended Speed; DDR5 at 1.1 V. */
  struct t17 t = {.len = 0x5C,
                  .size = 0x7FFF,
                  .ext_size_mb = 32768,
                  .type = 0x22,
                  .detail = 1u << 7,
                  .speed = 0xFFFF,
                  .ext_speed = 5600,
                  .cfg_speed = 0xFFFF,
                  .ext_cfg_speed = 5200,
                  .cfg_mv = 1100,
                  .locator = "P0_DIMM0"};
  add_t17(&bl, &t);
  /* 0x7FFF in a structure too short for Extended Size (SMBIOS 2.6, 0x1C
   * bytes): dmidecode reads it as 32767 MB. */
  struct t17 s = {.len = 0x1C,
                  .size = 0x7FFF,
                  .ext_size_mb = 65536,
                  .type = 0x1A,
                  .speed = 2400,
                  .locator = "OLD"};
  add_t17(&bl, &s);
  /* Speed 0xFFFF without room for Extended Speed: unknown. */
  struct t17 u = {.len = 0x28,
                  .size = 8192,
                  .type = 0x1A,
                  .speed = 0xFFFF,
                  .ext_speed = 3200,
                  .cfg_speed = 0xFFFF,
                  .ext_cfg_speed = 3200,
                  .cfg_mv = 1200,
                  .locator = "NOEXT"};
  add_t17(&bl, &u);
  add_end(&bl);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  assert_int_equal(gm__smbios_parse_type17(bl.b, bl.len, &d, &n, NULL), GM_OK);
  assert_int_equal(n, 3);
  assert_true(d[0].size_bytes == 32 * GIB_U64);
  assert_string_equal(d[0].type, "DDR5");
  assert_int_equal(d[0].speed_mts, 5600);
  assert_int_equal(d[0].configured_speed_mts, 5200);
  assert_int_equal(d[0].configured_voltage_mv, 1100);
  assert_false(d[0].registered);
  assert_close(gm__dram_model_power_w(d, 1, 0),
               0.5 * 3.1e-9 * 1.1 * 1.1 * 2.6e9);

  assert_true(d[1].size_bytes == UINT64_C(32767) * 1048576);
  assert_int_equal(d[1].speed_mts, 2400);
  assert_int_equal(d[1].configured_speed_mts, 0);  /* needs length 0x22 */
  assert_int_equal(d[1].configured_voltage_mv, 0); /* needs length 0x28 */
  /* f from Speed, V nominal DDR4 1.2 V. */
  assert_close(gm__dram_model_power_w(d + 1, 1, 0),
               0.5 * 3.1e-9 * 1.2 * 1.2 * 1.2e9);

  assert_int_equal(d[2].speed_mts, 0);
  assert_int_equal(d[2].configured_speed_mts, 0);
  /* Nominal DDR4-2666: f = 1.333 GHz. */
  assert_close(gm__dram_model_power_w(d + 2, 1, 0),
               0.5 * 3.1e-9 * 1.2 * 1.2 * 1.333e9);
  free(d);
}

static void test_smbios_kb_granularity(void **state) {
  (void)state;
  struct blob bl = {.handle = 1};
  /* Bit 15 set: value in KB. DDR3, SMBIOS 2.3 length 0x1B: no configured
   * speed or voltage. */
  struct t17 t = {.len = 0x1B,
                  .size = 0x8000 | 512,
                  .type = 0x18,
                  .speed = 1333,
                  .locator = "SODIMM0"};
  add_t17(&bl, &t);
  /* KB granularity with value 0: nothing installed. */
  struct t17 z = {.size = 0x8000, .type = 0x18, .locator = "ZERO"};
  add_t17(&bl, &z);
  /* Size 0xFFFF: unknown, skipped. */
  struct t17 unk = {.size = 0xFFFF, .type = 0x18, .locator = "UNKNOWN"};
  add_t17(&bl, &unk);
  add_end(&bl);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  struct gm__smbios_walk w;
  assert_int_equal(gm__smbios_parse_type17(bl.b, bl.len, &d, &n, &w), GM_OK);
  assert_int_equal(n, 1);
  assert_int_equal(w.slots, 3);
  assert_true(d[0].size_bytes == 512 * 1024);
  assert_string_equal(d[0].type, "DDR3");
  assert_string_equal(d[0].locator, "SODIMM0");
  assert_int_equal(d[0].speed_mts, 1333);
  assert_int_equal(d[0].configured_speed_mts, 0);
  assert_int_equal(d[0].configured_voltage_mv, 0);
  double want = 0.5 * 3.1e-9 * 1.5 * 1.5 * 666.5e6; /* DDR3 nominal 1.5 V */
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  free(d);

  struct machine m;
  machine_new(&m);
  machine_dmi(&m, bl.b, bl.len);
  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "1 DIMM (SMBIOS) x 1/2 C V^2 f, C=3.1 nF, "
                               "V=1.5 V (DDR3 nominal), f=0.666");
  assert_contains(probe.found, "1 DIMM, 0.0 GiB DDR3:");
  machine_free(&m);
}

/* Fields the structure's length does not cover are not read, even when the
 * bytes that follow (the strings) would decode as plausible values. */
static void test_smbios_length_checks(void **state) {
  (void)state;
  struct blob bl = {.handle = 1};
  /* Length 0x22: Configured Speed present, Configured Voltage (0x26) not;
   * the locator string starts at 0x22 so "XXXX" + "\xb0\x04" would read as
   * 1200 mV if the length were ignored. */
  struct t17 a = {.len = 0x22,
                  .size = 4096,
                  .type = 0x1A,
                  .speed = 2400,
                  .cfg_speed = 2133,
                  .locator = "XXXX\xb0\x04"};
  add_t17(&bl, &a);
  /* Length 0x15: no Speed (needs 0x17). */
  struct t17 b = {.len = 0x15, .size = 4096, .type = 0x1A, .locator = "B"};
  add_t17(&bl, &b);
  /* Length 0x14: shorter than any type 17, skipped. */
  struct t17 c = {.len = 0x14, .size = 4096, .type = 0x1A, .locator = "C"};
  add_t17(&bl, &c);
  /* Bad string index and an empty string set. */
  struct t17 e = {.size = 2048, .type = 0x1A, .locator_idx = 9};
  add_t17(&bl, &e);
  struct t17 f = {.size = 2048, .type = 0x1A, .no_strings = true};
  add_t17(&bl, &f);
  add_end(&bl);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  struct gm__smbios_walk w;
  assert_int_equal(gm__smbios_parse_type17(bl.b, bl.len, &d, &n, &w), GM_OK);
  assert_int_equal(w.slots, 5);
  assert_int_equal(n, 4);
  assert_int_equal(d[0].configured_speed_mts, 2133);
  assert_int_equal(d[0].configured_voltage_mv, 0);
  assert_string_equal(d[0].locator, "XXXX??"); /* non-printable -> '?' */
  assert_int_equal(d[1].speed_mts, 0);
  assert_string_equal(d[1].locator, "B");
  assert_string_equal(d[2].locator, "");
  assert_string_equal(d[3].locator, "");
  assert_true(d[3].size_bytes == 2048ull * 1048576);
  free(d);
}

static void test_smbios_truncated(void **state) {
  (void)state;
  struct blob bl = {.handle = 1};
  size_t ends[4];
  for (int i = 0; i < 4; i++) {
    struct t17 t = {.size = 16384,
                    .type = 0x1A,
                    .speed = 3200,
                    .cfg_speed = 2933,
                    .cfg_mv = 1200,
                    .locator = "DIMM"};
    add_t17(&bl, &t);
    ends[i] = bl.len;
  }
  add_end(&bl);
  size_t prev = 0;
  /* Every prefix, in a buffer of exactly that size so ASan sees overreads. */
  for (size_t cut = 0; cut <= bl.len; cut++) {
    uint8_t *buf = malloc(cut ? cut : 1);
    assert_non_null(buf);
    memcpy(buf, bl.b, cut);
    struct gm__dimm *d = NULL;
    size_t n = 99;
    struct gm__smbios_walk w;
    assert_int_equal(gm__smbios_parse_type17(buf, cut, &d, &n, &w), GM_OK);
    size_t complete = 0;
    while (complete < 4 && ends[complete] <= cut)
      complete++;
    assert_int_equal(n, complete);
    assert_true(n >= prev);
    prev = n;
    if (cut == bl.len)
      assert_true(w.end_seen);
    free(d);
    free(buf);
  }
  /* Cut in the middle of the third structure, through the sysfs tree. */
  size_t cut = ends[1] + 0x10;
  struct gm__dimm *d = NULL;
  size_t n = 0;
  struct gm__smbios_walk w;
  assert_int_equal(gm__smbios_parse_type17(bl.b, cut, &d, &n, &w), GM_OK);
  assert_int_equal(n, 2);
  assert_true(w.truncated);
  free(d);
  struct machine m;
  machine_new(&m);
  machine_dmi(&m, bl.b, cut);
  char how[1024];
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)), GM_OK);
  assert_int_equal(n, 2);
  assert_contains(how, "2 of 2 slots populated (table truncated, stopped)");
  free(d);
  machine_free(&m);
}

static void test_smbios_short_length(void **state) {
  (void)state;
  struct blob bl = {.handle = 1};
  struct t17 t = {.size = 8192, .type = 0x1A, .locator = "FIRST"};
  add_t17(&bl, &t);
  /* A header claiming 2 bytes: the next structure cannot be located. */
  const uint8_t bad[] = {17, 2, 0x34, 0x12, 'x', 'y', 0, 0};
  put(&bl, bad, sizeof(bad));
  struct t17 u = {.size = 8192, .type = 0x1A, .locator = "SECOND"};
  add_t17(&bl, &u);
  add_end(&bl);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  struct gm__smbios_walk w;
  assert_int_equal(gm__smbios_parse_type17(bl.b, bl.len, &d, &n, &w), GM_OK);
  assert_int_equal(n, 1);
  assert_string_equal(d[0].locator, "FIRST");
  assert_true(w.broken);
  assert_false(w.end_seen);
  free(d);
  /* Broken at the very start: nothing. */
  const uint8_t zero[16] = {0};
  assert_int_equal(gm__smbios_parse_type17(zero, sizeof(zero), &d, &n, &w),
                   GM_OK);
  assert_int_equal(n, 0);
  assert_null(d);
  assert_true(w.broken);
  /* Empty and tiny buffers. */
  assert_int_equal(gm__smbios_parse_type17(NULL, 0, &d, &n, NULL), GM_OK);
  assert_int_equal(n, 0);
  assert_int_equal(gm__smbios_parse_type17(zero, 3, &d, &n, NULL), GM_OK);
  assert_int_equal(n, 0);
  assert_int_equal(gm__smbios_parse_type17(NULL, 5, &d, &n, NULL),
                   GM_ERR_INVALID_ARG);
}

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void check_dimms_sane(const struct gm__dimm *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_true(d[i].size_bytes > 0);
    assert_true(strnlen(d[i].locator, sizeof(d[i].locator)) <
                sizeof(d[i].locator));
    assert_true(strnlen(d[i].type, sizeof(d[i].type)) < sizeof(d[i].type));
  }
  double p = gm__dram_model_power_w(d, n, 0);
  assert_true(isfinite(p) && p >= 0);
  /* Out-of-range speeds/voltages fall back to nominal: at most 1/2 C (3 V)^2
   * (10 GHz) per DIMM. */
  assert_true(p <= (double)n * 0.5 * 3.1e-9 * 9.0 * 10e9);
}

static void test_smbios_random(void **state) {
  (void)state;
  uint64_t seed = UINT64_C(0x9E3779B97F4A7C15);
  struct blob good;
  blob_4x16(&good);
  for (int iter = 0; iter < 4000; iter++) {
    size_t len;
    uint8_t *buf;
    if (iter % 2 == 0) { /* pure noise, biased towards type 17 headers */
      len = (size_t)(rng_next(&seed) % 700);
      buf = malloc(len ? len : 1);
      assert_non_null(buf);
      for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng_next(&seed);
      if (len > 0 && rng_next(&seed) % 2)
        buf[0] = 17;
    } else { /* a valid table with a few bytes changed, maybe cut */
      len = good.len - (size_t)(rng_next(&seed) % 64);
      buf = malloc(len);
      assert_non_null(buf);
      memcpy(buf, good.b, len);
      int flips = 1 + (int)(rng_next(&seed) % 8);
      for (int k = 0; k < flips; k++)
        buf[rng_next(&seed) % len] = (uint8_t)rng_next(&seed);
    }
    struct gm__dimm *d = NULL;
    size_t n = 0;
    struct gm__smbios_walk w;
    assert_int_equal(gm__smbios_parse_type17(buf, len, &d, &n, &w), GM_OK);
    assert_true(n <= w.slots);
    check_dimms_sane(d, n);
    free(d);
    /* The same bytes as dmidecode text (NUL-terminated). */
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, buf, len);
    text[len] = '\0';
    assert_int_equal(gm__dmidecode_parse(text, &d, &n, NULL), GM_OK);
    check_dimms_sane(d, n);
    free(d);
    free(text);
    free(buf);
  }
}

/* ---- dmidecode text ---- */

static void test_dmidecode_fixture(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  char *fixture = gmt_path(GM_TEST_FIXTURES, "dmidecode-ddr4.txt");
  /* An SMBIOS table is present too: the saved file takes precedence. */
  struct blob bl;
  blob_4x16(&bl);
  machine_dmi(&m, bl.b, bl.len);
  m.env.dmidecode_file = fixture;
  struct gm__dimm *d = NULL;
  size_t n = 0;
  enum gm__dimm_method method;
  char how[1024];
  assert_int_equal(
      gm__dimms_detect_ex(&m.env, &d, &n, &method, how, sizeof(how)), GM_OK);
  assert_int_equal(method, GM_DIMM_DMIDECODE);
  assert_int_equal(n, 2);
  assert_contains(how, "dmidecode file '");
  assert_contains(how, "dmidecode-ddr4.txt': 2 of 4 slots populated");
  assert_string_equal(d[0].locator, "DIMM_A1");
  assert_string_equal(d[1].locator, "DIMM_B1");
  for (size_t i = 0; i < n; i++) {
    assert_true(d[i].size_bytes == 16 * GIB_U64);
    assert_string_equal(d[i].type, "DDR4");
    assert_int_equal(d[i].speed_mts, 3200);
    assert_int_equal(d[i].configured_speed_mts, 2933);
    assert_int_equal(d[i].configured_voltage_mv, 1200);
    assert_true(d[i].registered);
  }
  double want = 2 * ddr4_2933_w();
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  free(d);

  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "2 DIMMs (dmidecode) x 1/2 C V^2 f");
  assert_contains(info.detail, "-> 2 x 3.27 W");

  /* A missing dmidecode file: explained, then SMBIOS is used. */
  m.env.dmidecode_file = "/nonexistent/dimms.txt";
  assert_int_equal(
      gm__dimms_detect_ex(&m.env, &d, &n, &method, how, sizeof(how)), GM_OK);
  assert_int_equal(method, GM_DIMM_SMBIOS);
  assert_int_equal(n, 4);
  assert_contains(how, "dmidecode file '/nonexistent/dimms.txt': cannot read "
                       "(not found); SMBIOS '");
  free(d);
  /* A file that is not dmidecode output: explained too. */
  gmt_write(m.root, "notdmi.txt", "hello\nworld\n");
  char *notdmi = gmt_path(m.root, "notdmi.txt");
  m.env.dmidecode_file = notdmi;
  assert_int_equal(
      gm__dimms_detect_ex(&m.env, &d, &n, &method, how, sizeof(how)), GM_OK);
  assert_int_equal(method, GM_DIMM_SMBIOS);
  assert_contains(how, "no populated \"Memory Device\" (0 blocks");
  free(d);
  free(notdmi);
  free(fixture);
  machine_free(&m);
}

static void test_dmidecode_variants(void **state) {
  (void)state;
  /* Older dmidecode (2.x: MB sizes, "MHz", "Configured Clock Speed"), CRLF
   * line endings, unknown sizes, a TB module, kB granularity, DDR3L at
   * 1.35 V, and blocks that are not memory devices; no final newline. */
  const char *text = "Handle 0x0011, DMI type 17, 40 bytes\r\n"
                     "Memory Device\r\n"
                     "\tSize: 8192 MB\r\n"
                     "\tLocator: ChannelA-DIMM0\r\n"
                     "\tBank Locator: BANK 0\r\n"
                     "\tType: DDR3\r\n"
                     "\tType Detail: Synchronous\r\n"
                     "\tSpeed: 1600 MHz\r\n"
                     "\tConfigured Clock Speed: 1600 MHz\r\n"
                     "\tConfigured Voltage: 1.35 V\r\n"
                     "\r\n"
                     "Handle 0x0012, DMI type 20, 35 bytes\n"
                     "Memory Device Mapped Address\n"
                     "\tStarting Address: 0x00000000000\n"
                     "\tRange Size: 8 GB\n"
                     "\n"
                     "Handle 0x0013, DMI type 17, 40 bytes\n"
                     "Memory Device\n"
                     "\tSize: Unknown\n"
                     "\tLocator: ChannelB-DIMM0\n"
                     "\n"
                     "Handle 0x0014, DMI type 17, 92 bytes\n"
                     "Memory Device\n"
                     "\tSize: 1 TB\n"
                     "\tLocator: P1-DIMMA1\n"
                     "\tType: DDR5\n"
                     "\tType Detail: Synchronous Registered (Buffered) LRDIMM\n"
                     "\tSpeed: 4800 MT/s\n"
                     "\tConfigured Memory Speed: Unknown\n"
                     "\tConfigured Voltage: 1100 mV\n"
                     "Handle 0x0015, DMI type 17, 92 bytes\n"
                     "Memory Device\n"
                     "\tSize: 512 kB\n"
                     "\tLocator: TINY\n"
                     "\tType: LPDDR5\n"
                     "\tConfigured Voltage: Unknown";
  struct gm__dimm *d = NULL;
  size_t n = 0, slots = 0;
  assert_int_equal(gm__dmidecode_parse(text, &d, &n, &slots), GM_OK);
  assert_int_equal(slots, 4);
  assert_int_equal(n, 3);
  assert_string_equal(d[0].locator, "ChannelA-DIMM0");
  assert_true(d[0].size_bytes == 8 * GIB_U64);
  assert_string_equal(d[0].type, "DDR3");
  assert_int_equal(d[0].speed_mts, 1600);
  assert_int_equal(d[0].configured_speed_mts, 1600);
  assert_int_equal(d[0].configured_voltage_mv, 1350);
  assert_false(d[0].registered);
  assert_string_equal(d[1].locator, "P1-DIMMA1");
  assert_true(d[1].size_bytes == 1024 * GIB_U64);
  assert_string_equal(d[1].type, "DDR5");
  assert_int_equal(d[1].speed_mts, 4800);
  assert_int_equal(d[1].configured_speed_mts, 0);
  assert_int_equal(d[1].configured_voltage_mv, 1100);
  assert_true(d[1].registered);
  assert_string_equal(d[2].locator, "TINY");
  assert_true(d[2].size_bytes == 512 * 1024);
  assert_string_equal(d[2].type, "LPDDR5");
  assert_int_equal(d[2].configured_voltage_mv, 0);
  double want = 0.5 * 3.1e-9 *
                (1.35 * 1.35 * 0.8e9     /* DDR3 at its 1.35 V, 1600 */
                 + 1.1 * 1.1 * 2.4e9     /* DDR5 4800 (Speed) */
                 + 1.05 * 1.05 * 3.2e9); /* LPDDR5 nominal 1.05 V, 6400 */
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  free(d);

  /* Empty text: nothing, not an error. */
  assert_int_equal(gm__dmidecode_parse("", &d, &n, &slots), GM_OK);
  assert_int_equal(n, 0);
  assert_int_equal(slots, 0);
  assert_int_equal(gm__dmidecode_parse(NULL, &d, &n, &slots),
                   GM_ERR_INVALID_ARG);
}

/* ---- EDAC ---- */

static void edac_dimm(struct machine *m, const char *rel, const char *size,
                      const char *type, const char *label) {
  char p[256];
  snprintf(p, sizeof(p), "sys/devices/system/edac/mc/%s/size", rel);
  gmt_write(m->root, p, "%s\n", size);
  if (type) {
    snprintf(p, sizeof(p), "sys/devices/system/edac/mc/%s/dimm_mem_type", rel);
    gmt_write(m->root, p, "%s\n", type);
  }
  if (label) {
    snprintf(p, sizeof(p), "sys/devices/system/edac/mc/%s/dimm_label", rel);
    gmt_write(m->root, p, "%s\n", label);
  }
}

static void test_edac(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  machine_meminfo(&m, 48ull * 1024 * 1024);
  edac_dimm(&m, "mc1/dimm0", "8192", "Unbuffered-DDR4", NULL);
  edac_dimm(&m, "mc0/dimm2", "16384", "Registered-DDR4", "");
  edac_dimm(&m, "mc0/dimm0", "16384", "Registered-DDR4", "CPU0_DIMM_A1");
  edac_dimm(&m, "mc0/dimm1", "0", "Empty", NULL);                /* no module */
  edac_dimm(&m, "mc0/csrow0", "16384", "Registered-DDR4", NULL); /* legacy */
  gmt_write(m.root, "sys/devices/system/edac/mc/power/control", "auto\n");
  struct gm__dimm *d = NULL;
  size_t n = 0;
  enum gm__dimm_method method;
  char how[1024];
  assert_int_equal(
      gm__dimms_detect_ex(&m.env, &d, &n, &method, how, sizeof(how)), GM_OK);
  assert_int_equal(method, GM_DIMM_EDAC);
  assert_int_equal(n, 3);
  assert_contains(how, "SMBIOS: '");
  assert_contains(how, "/firmware/dmi/tables/DMI' not found; EDAC '");
  assert_contains(how, "3 DIMMs (sizes and types only, no speed or voltage)");
  assert_string_equal(d[0].locator, "CPU0_DIMM_A1");
  assert_string_equal(d[1].locator, "mc0/dimm2");
  assert_string_equal(d[2].locator, "mc1/dimm0");
  assert_true(d[0].size_bytes == 16 * GIB_U64);
  assert_true(d[2].size_bytes == 8 * GIB_U64);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(d[i].type, "DDR4");
    assert_int_equal(d[i].speed_mts, 0);
    assert_int_equal(d[i].configured_voltage_mv, 0);
  }
  assert_true(d[0].registered && d[1].registered && !d[2].registered);
  /* Nominal DDR4: 1.2 V, 2666 MT/s (f = 1.333 GHz). */
  double want = 3 * 0.5 * 3.1e-9 * 1.2 * 1.2 * 1.333e9;
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  free(d);

  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "3 DIMMs (EDAC) x 1/2 C V^2 f, C=3.1 nF, "
                               "V=1.2 V (DDR4 nominal), f=1.333 GHz (DDR4 "
                               "nominal) -> 3 x 2.98 W");
  assert_contains(probe.found, "3 DIMMs, 40.0 GiB DDR4, partly registered");
  assert_contains(probe.fix, "--dmidecode dimms.txt");
  machine_free(&m);
}

static void test_edac_mixed_types(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  edac_dimm(&m, "mc0/dimm0", "32768", "Load-Reduced-DDR5-RAM", NULL);
  edac_dimm(&m, "mc0/dimm1", "4096", "Low-Power-DDR4-RAM", NULL);
  edac_dimm(&m, "mc0/dimm2", "4096", "Non-volatile-RAM", NULL);
  edac_dimm(&m, "mc0/dimm3", "4096", NULL, NULL);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  char how[1024];
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)), GM_OK);
  assert_int_equal(n, 4);
  assert_string_equal(d[0].type, "DDR5");
  assert_true(d[0].registered);
  assert_string_equal(d[1].type, "LPDDR4");
  assert_false(d[1].registered);
  assert_string_equal(d[2].type, "Non-volatile-RA"); /* truncated */
  assert_string_equal(d[3].type, "Unknown");
  /* DDR5 1.1 V 4800; LPDDR4 1.1 V 3200; the other two as DDR4. */
  double want =
      0.5 * 3.1e-9 * (1.21 * 2.4e9 + 1.21 * 1.6e9 + 2 * 1.44 * 1.333e9);
  assert_close(gm__dram_model_power_w(d, n, 0), want);
  free(d);
  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "4 DIMMs (EDAC) sum 1/2 C V^2 f, C=3.1 nF, "
                               "V=1.1-1.2 V (some nominal), f=1.333-2.4 GHz");
  assert_contains(probe.found, "4 DIMMs, 44.0 GiB mixed types (treated as "
                               "DDR4), partly registered: 13.45 W modelled");
  machine_free(&m);
}

/* ---- fallbacks, overrides, failures ---- */

static void test_fallback_meminfo(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  machine_meminfo(&m, 24536588ull);
  struct gm__dimm *d = (struct gm__dimm *)0x1;
  size_t n = 7;
  char how[1024];
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                   GM_ERR_UNAVAILABLE);
  assert_null(d);
  assert_int_equal(n, 0);
  assert_contains(how, "/firmware/dmi/tables/DMI' not found; EDAC: no '");
  assert_contains(how, "(no EDAC driver loaded)");

  struct gm_probe probe;
  struct gm_component_info info;
  double want = 0.375 * 24536588.0 / 1048576.0; /* 8.77 W */
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "no DIMM data: 0.375 W/GiB x 23.4 GiB (");
  assert_contains(info.detail, "/meminfo MemTotal) -> 8.77 W");
  assert_contains(probe.found, "no DIMM data, 23.4 GiB in '");
  assert_contains(probe.found, "8.77 W modelled; SMBIOS: '");
  assert_contains(probe.fix, "no SMBIOS table at '");
  assert_contains(probe.fix, "/firmware/dmi/tables/DMI' (container, virtual "
                             "machine or kernel without DMI support); for a "
                             "per-DIMM model save `sudo dmidecode -t memory > "
                             "dimms.txt` and pass --dmidecode dimms.txt");

  /* An SMBIOS table with only empty slots falls back the same way. */
  struct blob bl = {.handle = 1};
  struct t17 e = {.size = 0, .type = 0x02, .locator = "EMPTY"};
  add_t17(&bl, &e);
  add_end(&bl);
  machine_dmi(&m, bl.b, bl.len);
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                   GM_ERR_UNAVAILABLE);
  assert_contains(how, "no populated memory device (");
  assert_contains(how, "2 structures, 1 type 17)");
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(probe.fix, "lists no installed memory module (typical of "
                             "virtual machines)");
  machine_free(&m);
}

static void test_no_data_at_all(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  const struct gm__source_ops *ops = &gm__source_dram_model;
  void *self = (void *)0x1;
  struct gm_probe probe;
  memset(&probe, 0, sizeof(probe));
  enum gm_status rc = ops->open(&m.env, &self, &probe);
  assert_int_not_equal(rc, GM_OK);
  assert_null(self);
  assert_contains(probe.reason, "no DIMM data and cannot read '");
  assert_contains(probe.reason, "/meminfo'");
  assert_contains(probe.fix, "--dmidecode dimms.txt");
  /* meminfo without MemTotal. */
  gmt_write(m.root, "proc/meminfo", "MemFree: 12 kB\n");
  self = (void *)0x1;
  rc = ops->open(&m.env, &self, &probe);
  assert_int_equal(rc, GM_ERR_PARSE);
  assert_null(self);
  assert_contains(probe.reason, "no DIMM data and no MemTotal in '");
  machine_free(&m);
}

static void test_capacitance_override(void **state) {
  (void)state;
  struct blob bl;
  blob_4x16(&bl);
  struct machine m;
  machine_new(&m);
  machine_dmi(&m, bl.b, bl.len);
  m.env.dimm_capacitance_f = 5e-9;
  struct gm_probe probe;
  struct gm_component_info info;
  double want = 4 * 0.5 * 5e-9 * 1.2 * 1.2 * 1.4665e9;
  assert_close(open_and_read(&m.env, &probe, &info), want);
  assert_contains(info.detail, "C=5 nF");
  /* Invalid overrides select the default. */
  struct gm__dimm one = {.size_bytes = GIB_U64,
                         .type = "DDR4",
                         .configured_speed_mts = 2933,
                         .configured_voltage_mv = 1200};
  assert_close(gm__dram_model_power_w(&one, 1, -1), ddr4_2933_w());
  assert_close(gm__dram_model_power_w(&one, 1, NAN), ddr4_2933_w());
  assert_close(gm__dram_model_power_w(&one, 1, INFINITY), ddr4_2933_w());
  assert_close(gm__dram_model_power_w(&one, 1, 1e-9), ddr4_2933_w() / 3.1);
  machine_free(&m);
}

static void test_nominal_values(void **state) {
  (void)state;
  struct {
    const char *type;
    double v, mts;
  } cases[] = {
      {"DDR", 2.5, 400},      {"DDR2", 1.8, 800},     {"DDR3", 1.5, 1600},
      {"DDR3L", 1.35, 1600},  {"DDR4", 1.2, 2666},    {"DDR5", 1.1, 4800},
      {"LPDDR4", 1.1, 3200},  {"LPDDR5", 1.05, 6400}, {"RAM", 1.2, 2666},
      {"Unknown", 1.2, 2666}, {"", 1.2, 2666},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct gm__dimm d = {.size_bytes = GIB_U64};
    gm__strlcpy(d.type, cases[i].type, sizeof(d.type));
    assert_close(gm__dram_model_power_w(&d, 1, 0), 0.5 * 3.1e-9 * cases[i].v *
                                                       cases[i].v *
                                                       cases[i].mts / 2 * 1e6);
  }
  /* Configured speed before speed; implausible values replaced. */
  struct gm__dimm d = {.size_bytes = GIB_U64,
                       .type = "DDR4",
                       .speed_mts = 3200,
                       .configured_speed_mts = 0,
                       .configured_voltage_mv = 65535};
  assert_close(gm__dram_model_power_w(&d, 1, 0), 0.5 * 3.1e-9 * 1.44 * 1.6e9);
  d.configured_speed_mts = 60000; /* implausible: use Speed */
  d.configured_voltage_mv = 100;  /* implausible: nominal */
  assert_close(gm__dram_model_power_w(&d, 1, 0), 0.5 * 3.1e-9 * 1.44 * 1.6e9);
  /* Empty slots contribute nothing; no DIMMs, no power. */
  d.size_bytes = 0;
  assert_true(gm__dram_model_power_w(&d, 1, 0) == 0);
  assert_true(gm__dram_model_power_w(NULL, 0, 0) == 0);
  /* The default C reproduces the calibration: DDR4-2666 at 1.2 V ~ 3 W. */
  struct gm__dimm cal = {.size_bytes = 8 * GIB_U64,
                         .type = "DDR4",
                         .configured_speed_mts = 2666,
                         .configured_voltage_mv = 1200};
  double p = gm__dram_model_power_w(&cal, 1, 0);
  assert_true(p > 2.9 && p < 3.1);
}

/* An unreadable DMI table. chmod 000 only blocks reading without
 * CAP_DAC_OVERRIDE (root reads anyway): then the permission path cannot be
 * produced here and the missing-file and unreadable-as-directory paths are
 * asserted instead. */
static void test_dmi_unreadable(void **state) {
  (void)state;
  struct blob bl;
  blob_4x16(&bl);
  struct machine m;
  machine_new(&m);
  machine_meminfo(&m, 8ull * 1024 * 1024);
  machine_dmi(&m, bl.b, bl.len);
  char *dmi = gmt_path(m.sys, "firmware/dmi/tables/DMI");
  if (!dmi)
    abort();
  assert_int_equal(chmod(dmi, 0), 0);
  int fd = open(dmi, O_RDONLY);
  bool blocked = fd < 0 && (errno == EACCES || errno == EPERM);
  if (fd >= 0)
    close(fd);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  char how[1024];
  struct gm_probe probe;
  struct gm_component_info info;
  if (blocked) {
    assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                     GM_ERR_UNAVAILABLE);
    char want[1024];
    snprintf(want, sizeof(want),
             "SMBIOS: '%s' not readable (permission denied; run as root or "
             "save `sudo dmidecode -t memory > dimms.txt` and pass "
             "--dmidecode dimms.txt)",
             dmi);
    assert_contains(how, want);
    assert_close(open_and_read(&m.env, &probe, &info), 0.375 * 8);
    assert_contains(probe.fix, "for a per-DIMM model run as root (the SMBIOS "
                               "table '");
  } else {
    print_message("chmod 000 does not block reading here (running with "
                  "CAP_DAC_OVERRIDE): asserting the missing and unreadable "
                  "table paths instead of the permission path\n");
    assert_int_equal(unlink(dmi), 0);
    assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                     GM_ERR_UNAVAILABLE);
    char want[1024];
    snprintf(want, sizeof(want), "SMBIOS: '%s' not found", dmi);
    assert_contains(how, want);
    /* A directory where the table should be: read fails with EISDIR. */
    assert_int_equal(mkdir(dmi, 0755), 0);
    assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                     GM_ERR_UNAVAILABLE);
    snprintf(want, sizeof(want), "SMBIOS: cannot read '%s': ", dmi);
    assert_contains(how, want);
    assert_close(open_and_read(&m.env, &probe, &info), 0.375 * 8);
    snprintf(want, sizeof(want), "cannot read the SMBIOS table '%s' (", dmi);
    assert_contains(probe.fix, want);
  }
  assert_null(d);
  /* Either way the source falls back to MemTotal and says how to do better. */
  assert_contains(info.detail, "no DIMM data: 0.375 W/GiB x 8.0 GiB");
  assert_contains(probe.fix, "save `sudo dmidecode -t memory > dimms.txt` and "
                             "pass --dmidecode dimms.txt");
  free(dmi);
  machine_free(&m);
}

/* MemTotal is believed only between 1 kB and 64 TiB: a negative value once
 * became 6.6e12 W. Through the real open on a fake /proc. */
static void test_meminfo_out_of_range(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  const struct gm__source_ops *ops = &gm__source_dram_model;
  const char *bad[] = {"-16000000 kB", "99999999999999999999 kB",
                       "68719476737 kB", "0 kB", "12 MB"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    gmt_write(m.root, "proc/meminfo", "MemTotal:       %s\nMemFree: 1 kB\n",
              bad[i]);
    void *self = (void *)0x1;
    struct gm_probe probe;
    memset(&probe, 0, sizeof(probe));
    assert_int_equal(ops->open(&m.env, &self, &probe), GM_ERR_PARSE);
    assert_null(self);
    char want[1024];
    snprintf(want, sizeof(want),
             "no DIMM data and MemTotal in '%s/meminfo' is '%s', not a memory "
             "size (1 kB to 64 TiB): the DRAM model refuses to guess",
             m.proc, bad[i]);
    assert_string_equal(probe.reason, want);
  }
  /* 64 TiB exactly is still a machine */
  machine_meminfo(&m, 68719476736ull);
  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), 0.375 * 65536.0);
  machine_free(&m);
}

/* --dmidecode FILE is read only when it is a regular file of at most 16 MiB:
 * /dev/zero once hung and ate memory, a FIFO blocks. */
static void test_dmidecode_not_a_file(void **state) {
  (void)state;
  struct machine m;
  machine_new(&m);
  machine_meminfo(&m, 8ull * 1024 * 1024);
  struct gm__dimm *d = NULL;
  size_t n = 0;
  char how[2048], want[1024];

  m.env.dmidecode_file = "/dev/zero";
  alarm(10);
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                   GM_ERR_UNAVAILABLE);
  assert_contains(how, "dmidecode file '/dev/zero': refused (a character "
                       "device, not a regular file; expected the saved output "
                       "of `dmidecode -t memory`, at most 16777216 bytes)");

  char *fifo = gmt_path(m.root, "dimms.fifo");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  m.env.dmidecode_file = fifo;
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                   GM_ERR_UNAVAILABLE);
  snprintf(want, sizeof(want),
           "dmidecode file '%s': refused (a FIFO, not a regular file", fifo);
  assert_contains(how, want);

  /* 16 MiB + 1 byte (sparse): refused without reading it */
  char *big = gmt_path(m.root, "dimms.txt");
  gmt_write(m.root, "dimms.txt", "x");
  assert_int_equal(truncate(big, (16 << 20) + 1), 0);
  m.env.dmidecode_file = big;
  assert_int_equal(gm__dimms_detect(&m.env, &d, &n, how, sizeof(how)),
                   GM_ERR_UNAVAILABLE);
  snprintf(want, sizeof(want),
           "dmidecode file '%s': refused (16777217 bytes, larger than the "
           "16777216-byte limit",
           big);
  assert_contains(how, want);
  alarm(0);
  /* the model falls back to MemTotal and says why */
  struct gm_probe probe;
  struct gm_component_info info;
  assert_close(open_and_read(&m.env, &probe, &info), 0.375 * 8);
  assert_contains(probe.found, "refused (16777217 bytes");
  assert_null(d);
  free(fifo);
  free(big);
  machine_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_smbios_4x16_ddr4),
      cmocka_unit_test(test_smbios_extended_size_and_speed),
      cmocka_unit_test(test_smbios_kb_granularity),
      cmocka_unit_test(test_smbios_length_checks),
      cmocka_unit_test(test_smbios_truncated),
      cmocka_unit_test(test_smbios_short_length),
      cmocka_unit_test(test_smbios_random),
      cmocka_unit_test(test_dmidecode_fixture),
      cmocka_unit_test(test_dmidecode_variants),
      cmocka_unit_test(test_edac),
      cmocka_unit_test(test_edac_mixed_types),
      cmocka_unit_test(test_fallback_meminfo),
      cmocka_unit_test(test_no_data_at_all),
      cmocka_unit_test(test_capacitance_override),
      cmocka_unit_test(test_nominal_values),
      cmocka_unit_test(test_dmi_unreadable),
      cmocka_unit_test(test_meminfo_out_of_range),
      cmocka_unit_test(test_dmidecode_not_a_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
