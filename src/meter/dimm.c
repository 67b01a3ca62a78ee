/* dimm.c: see dimm.h. Field offsets and rules follow the SMBIOS type 17
 * layout as decoded by dmidecode 3.6 (SMBIOS 3.x specification, DSP0134). */
#define _GNU_SOURCE
#include "meter/dimm.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/util.h"

#define MIB UINT64_C(1048576)
/* Largest dmidecode output or SMBIOS table read: a real one is a few kB to
 * a few hundred kB. */
#define DMI_MAX_BYTES ((size_t)16 << 20)

/* The hint given whenever the root-only SMBIOS table cannot be used. */
#define DMIDECODE_HINT                                                         \
  "run as root or save `sudo dmidecode -t memory > dimms.txt` and pass "       \
  "--dmidecode dimms.txt"

const char *gm__dimm_method_name(enum gm__dimm_method m) {
  switch (m) {
  case GM_DIMM_DMIDECODE:
    return "dmidecode";
  case GM_DIMM_SMBIOS:
    return "SMBIOS";
  case GM_DIMM_EDAC:
    return "EDAC";
  case GM_DIMM_NONE:
  default:
    return "none";
  }
}

/* ---- growable DIMM list ---- */

struct dimm_vec {
  struct gm__dimm *v;
  size_t n, cap;
};

static bool vec_push(struct dimm_vec *vec, const struct gm__dimm *d) {
  if (vec->n == vec->cap) {
    size_t cap = vec->cap ? vec->cap * 2 : 8;
    struct gm__dimm *nv = realloc(vec->v, cap * sizeof(*nv));
    if (!nv)
      return false;
    vec->v = nv;
    vec->cap = cap;
  }
  vec->v[vec->n++] = *d;
  return true;
}

/* Copies at most len bytes of src into dst (size bytes), stopping at a NUL,
 * replacing non-printable bytes with '?' and trimming surrounding blanks. */
static void copy_clean(char *dst, size_t size, const char *src, size_t len) {
  size_t j = 0;
  while (len > 0 && (*src == ' ' || *src == '\t')) {
    src++;
    len--;
  }
  for (size_t i = 0; i < len && src[i] != '\0' && j + 1 < size; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[j++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  while (j > 0 && (dst[j - 1] == ' ' || dst[j - 1] == '\t'))
    j--;
  dst[j] = '\0';
}

/* ---- SMBIOS ---- */

static uint16_t rd16(const uint8_t *p) {
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* SMBIOS 3.7 table 7.18.2 (Memory Device Type), as named by dmidecode; one
 * shortened ("Logical non-volatile device") to fit gm__dimm.type. */
static const char *smbios_type_name(uint8_t code) {
  static const char *const names[] = {
      "Other",      "Unknown",  "DRAM",     "EDRAM",  "VRAM",
      "SRAM",       "RAM",      "ROM",      "Flash",  "EEPROM",
      "FEPROM",     "EPROM",    "CDRAM",    "3DRAM",  "SDRAM",
      "SGRAM",      "RDRAM",    "DDR",      "DDR2",   "DDR2 FB-DIMM",
      "Reserved",   "Reserved", "Reserved", "DDR3",   "FBD2",
      "DDR4",       "LPDDR",    "LPDDR2",   "LPDDR3", "LPDDR4",
      "Logical NV", "HBM",      "HBM2",     "DDR5",   "LPDDR5",
      "HBM3"};
  if (code >= 0x01 && code <= 0x24)
    return names[code - 1];
  return "Unknown";
}

/* String number idx (1-based) of a structure's string set strs[0..slen), whose
 * last byte is a NUL. "" for index 0 or a bad index. */
static void smbios_string(const uint8_t *strs, size_t slen, uint8_t idx,
                          char *dst, size_t size) {
  dst[0] = '\0';
  if (idx == 0)
    return;
  size_t p = 0;
  for (unsigned k = 1; k < idx; k++) {
    while (p < slen && strs[p] != 0)
      p++;
    p++; /* the NUL */
    if (p >= slen)
      return;
  }
  if (p >= slen || strs[p] == 0)
    return;
  copy_clean(dst, size, (const char *)strs + p, slen - p);
}

/* Decodes one type 17 structure h (hlen bytes of formatted area, hlen >= 4)
 * with its string set. Returns false when the slot is empty or its size is
 * unknown. */
static bool smbios_decode_17(const uint8_t *h, size_t hlen, const uint8_t *strs,
                             size_t slen, struct gm__dimm *d) {
  memset(d, 0, sizeof(*d));
  if (hlen < 0x15) /* shorter than SMBIOS 2.1's type 17: dmidecode skips it */
    return false;
  uint16_t size = rd16(h + 0x0C);
  if (size == 0 || size == 0xFFFF)
    return false;
  if (size == 0x7FFF && hlen >= 0x20) {
    uint64_t ext_mb = rd32(h + 0x1C) & UINT32_C(0x7FFFFFFF);
    d->size_bytes = ext_mb * MIB;
  } else if (size & 0x8000) {
    d->size_bytes = (uint64_t)(size & 0x7FFF) * 1024;
  } else {
    d->size_bytes = (uint64_t)size * MIB;
  }
  if (d->size_bytes == 0)
    return false;
  smbios_string(strs, slen, h[0x10], d->locator, sizeof(d->locator));
  gm__strlcpy(d->type, smbios_type_name(h[0x12]), sizeof(d->type));
  uint16_t detail = rd16(h + 0x13);
  d->registered = (detail & (1u << 13)) != 0 || (detail & (1u << 15)) != 0;
  if (hlen >= 0x17) {
    uint32_t sp = rd16(h + 0x15);
    if (sp == 0xFFFF)
      sp = hlen >= 0x5C ? rd32(h + 0x54) & UINT32_C(0x7FFFFFFF) : 0;
    d->speed_mts = sp;
  }
  if (hlen >= 0x22) {
    uint32_t sp = rd16(h + 0x20);
    if (sp == 0xFFFF)
      sp = hlen >= 0x5C ? rd32(h + 0x58) & UINT32_C(0x7FFFFFFF) : 0;
    d->configured_speed_mts = sp;
  }
  if (hlen >= 0x28)
    d->configured_voltage_mv = rd16(h + 0x26);
  return true;
}

enum gm_status gm__smbios_parse_type17(const uint8_t *buf, size_t len,
                                       struct gm__dimm **out, size_t *n,
                                       struct gm__smbios_walk *walk) {
  enum gm_status rc = GM_OK;
  struct gm__smbios_walk w = {0};
  struct dimm_vec vec = {0};
  if (!out || !n || (!buf && len > 0)) {
    rc = GM_ERR_INVALID_ARG;
    goto fail;
  }
  size_t off = 0; /* invariant: off <= len */
  while (len - off >= 4) {
    const uint8_t *h = buf + off;
    size_t hlen = h[1];
    if (hlen < 4) { /* cannot locate the next structure: table broken */
      w.broken = true;
      break;
    }
    if (hlen > len - off) {
      w.truncated = true;
      break;
    }
    /* The string set starts after the formatted area and ends with a double
     * NUL; find the first NUL of that pair. */
    size_t s = off + hlen, i = s;
    while (i + 1 < len && (buf[i] != 0 || buf[i + 1] != 0))
      i++;
    if (i + 1 >= len) {
      w.truncated = true;
      break;
    }
    w.structures++;
    if (h[0] == 127) {
      w.end_seen = true;
      break;
    }
    if (h[0] == 17) {
      struct gm__dimm d;
      w.slots++;
      if (smbios_decode_17(h, hlen, buf + s, i - s + 1, &d) &&
          !vec_push(&vec, &d)) {
        rc = GM_ERR_NO_MEMORY;
        goto fail;
      }
    }
    off = i + 2;
  }
  *out = vec.v;
  *n = vec.n;
  if (walk)
    *walk = w;
  return GM_OK;
fail:
  free(vec.v);
  if (out)
    *out = NULL;
  if (n)
    *n = 0;
  return rc;
}

/* ---- dmidecode text ---- */

/* Parses "16 GB", "16384 MB", "512 kB"; 0 for "No Module Installed",
 * "Unknown" and anything else. */
static uint64_t parse_size(const char *v) {
  char *end = NULL;
  if (*v < '0' || *v > '9')
    return 0;
  errno = 0;
  unsigned long long num = strtoull(v, &end, 10);
  if (errno != 0)
    return 0;
  while (*end == ' ')
    end++;
  static const struct {
    const char *unit;
    unsigned shift;
  } units[] = {{"bytes", 0}, {"kB", 10}, {"KB", 10}, {"MB", 20},
               {"GB", 30},   {"TB", 40}, {"PB", 50}};
  for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
    if (strcmp(end, units[k].unit) == 0) {
      if (num > (UINT64_MAX >> units[k].shift))
        return 0;
      return (uint64_t)num << units[k].shift;
    }
  }
  return 0;
}

/* Leading decimal integer of "3200 MT/s" / "1600 MHz"; 0 when none. */
static unsigned parse_speed(const char *v) {
  unsigned long long num = 0;
  size_t i = 0;
  for (; v[i] >= '0' && v[i] <= '9'; i++) {
    num = num * 10 + (unsigned)(v[i] - '0');
    if (num > 0xFFFFFFFFull)
      return 0;
  }
  if (i == 0)
    return 0;
  return (unsigned)num;
}

/* "1.2 V", "1.35 V", "1200 mV" -> millivolts, locale-independent; 0 when
 * unknown. */
static unsigned parse_voltage_mv(const char *v) {
  unsigned long whole = 0, frac = 0, scale = 1000;
  size_t i = 0;
  for (; v[i] >= '0' && v[i] <= '9'; i++) {
    whole = whole * 10 + (unsigned long)(v[i] - '0');
    if (whole > 100000)
      return 0;
  }
  if (i == 0)
    return 0;
  unsigned long div = 1;
  if (v[i] == '.') {
    for (i++; v[i] >= '0' && v[i] <= '9'; i++) {
      if (div < 100000) {
        frac = frac * 10 + (unsigned long)(v[i] - '0');
        div *= 10;
      }
    }
  }
  while (v[i] == ' ')
    i++;
  if (strcmp(v + i, "mV") == 0)
    scale = 1;
  else if (strcmp(v + i, "V") != 0)
    return 0;
  unsigned long mv = whole * scale + (frac * scale + div / 2) / div;
  return mv > 0xFFFF ? 0 : (unsigned)mv;
}

enum gm_status gm__dmidecode_parse(const char *text, struct gm__dimm **out,
                                   size_t *n, size_t *slots) {
  enum gm_status rc = GM_OK;
  struct dimm_vec vec = {0};
  size_t blocks = 0;
  bool in_block = false;
  struct gm__dimm cur;
  if (!text || !out || !n) {
    rc = GM_ERR_INVALID_ARG;
    goto fail;
  }
  memset(&cur, 0, sizeof(cur));
  for (const char *p = text;;) {
    const char *eol = strchr(p, '\n');
    size_t ll = eol ? (size_t)(eol - p) : strlen(p);
    char line[512];
    if (ll >= sizeof(line))
      ll = sizeof(line) - 1;
    memcpy(line, p, ll);
    line[ll] = '\0';
    while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' '))
      line[--ll] = '\0';
    bool last = eol == NULL;

    if (in_block && line[0] != '\t') { /* block ends */
      in_block = false;
      if (cur.size_bytes > 0 && !vec_push(&vec, &cur)) {
        rc = GM_ERR_NO_MEMORY;
        goto fail;
      }
    }
    if (!in_block && strcmp(line, "Memory Device") == 0) {
      in_block = true;
      blocks++;
      memset(&cur, 0, sizeof(cur));
    } else if (in_block && line[1] != '\t') {
      char *colon = strstr(line + 1, ": ");
      const char *key = line + 1, *val = "";
      if (colon) {
        *colon = '\0';
        val = colon + 2;
      } else if (ll > 1 && line[ll - 1] == ':') {
        line[ll - 1] = '\0'; /* a list header ("Type Detail:") */
      }
      if (strcmp(key, "Size") == 0)
        cur.size_bytes = parse_size(val);
      else if (strcmp(key, "Type") == 0)
        copy_clean(cur.type, sizeof(cur.type), val, strlen(val));
      else if (strcmp(key, "Speed") == 0)
        cur.speed_mts = parse_speed(val);
      else if (strcmp(key, "Configured Memory Speed") == 0 ||
               strcmp(key, "Configured Clock Speed") == 0)
        cur.configured_speed_mts = parse_speed(val);
      else if (strcmp(key, "Configured Voltage") == 0)
        cur.configured_voltage_mv = parse_voltage_mv(val);
      else if (strcmp(key, "Locator") == 0)
        copy_clean(cur.locator, sizeof(cur.locator), val, strlen(val));
      else if (strcmp(key, "Type Detail") == 0)
        cur.registered =
            strstr(val, "Registered") != NULL || strstr(val, "LRDIMM") != NULL;
    }
    if (last)
      break;
    p = eol + 1;
  }
  if (in_block && cur.size_bytes > 0 && !vec_push(&vec, &cur)) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  *out = vec.v;
  *n = vec.n;
  if (slots)
    *slots = blocks;
  return GM_OK;
fail:
  free(vec.v);
  if (out)
    *out = NULL;
  if (n)
    *n = 0;
  return rc;
}

/* ---- EDAC ---- */

/* name == prefix followed by 1-6 decimal digits. */
static bool numbered(const char *name, const char *prefix, unsigned *num) {
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) != 0)
    return false;
  const char *s = name + pl;
  unsigned v = 0;
  size_t i = 0;
  for (; s[i] >= '0' && s[i] <= '9'; i++) {
    if (i >= 6)
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (i == 0 || s[i] != '\0')
    return false;
  *num = v;
  return true;
}

/* Kernel edac_mem_types[] ("Registered-DDR4", "Low-Power-DDR4-RAM",
 * "Load-Reduced-DDR5-RAM", ...) -> SMBIOS-style type name. */
static void edac_type(const char *s, struct gm__dimm *d) {
  d->registered = strncmp(s, "Registered-", 11) == 0 ||
                  strncmp(s, "Load-Reduced-", 13) == 0 ||
                  strncmp(s, "FullyBuffered-", 14) == 0;
  const char *ddr = strstr(s, "DDR");
  if (ddr) {
    char gen = ddr[3] >= '2' && ddr[3] <= '9' ? ddr[3] : '\0';
    bool lp = strncmp(s, "Low-Power-", 10) == 0;
    gm__fmt(d->type, sizeof(d->type), "%sDDR%.1s", lp ? "LP" : "", &gen);
  } else if (strcmp(s, "High-bandwidth-memory-Gen2") == 0) {
    gm__strlcpy(d->type, "HBM2", sizeof(d->type));
  } else if (strcmp(s, "High-bandwidth-memory-Gen3") == 0) {
    gm__strlcpy(d->type, "HBM3", sizeof(d->type));
  } else {
    copy_clean(d->type, sizeof(d->type), s, strlen(s));
  }
}

struct edac_entry {
  unsigned mc, dimm;
  struct gm__dimm d;
};

static int edac_cmp(const void *a, const void *b) {
  const struct edac_entry *x = a, *y = b;
  if (x->mc != y->mc)
    return x->mc < y->mc ? -1 : 1;
  if (x->dimm != y->dimm)
    return x->dimm < y->dimm ? -1 : 1;
  return 0;
}

/* Reads every mc<N>/dimm<M> under base. GM_OK with *n possibly 0; non-OK
 * only for out of memory or an unreadable base (note says why). */
static enum gm_status edac_scan(const char *base, struct gm__dimm **out,
                                size_t *n, size_t *unreadable, char *note,
                                size_t note_size) {
  enum gm_status rc = GM_OK;
  struct edac_entry *ents = NULL;
  size_t ne = 0, cap = 0;
  DIR *mcdir = opendir(base);
  *out = NULL;
  *n = 0;
  *unreadable = 0;
  if (!mcdir) {
    int err = errno;
    rc = gm__status_from_errno(err);
    if (rc == GM_ERR_UNAVAILABLE)
      gm__fmt(note, note_size, "no '%s' (no EDAC driver loaded)", base);
    else
      gm__fmt(note, note_size, "cannot read '%s': %s", base, strerror(err));
    goto done;
  }
  struct dirent *me;
  while ((me = readdir(mcdir)) != NULL) {
    unsigned mc;
    if (!numbered(me->d_name, "mc", &mc))
      continue;
    char mcpath[1024];
    if (!gm__fmt(mcpath, sizeof(mcpath), "%s/%s", base, me->d_name))
      continue;
    DIR *dd = opendir(mcpath);
    if (!dd)
      continue;
    struct dirent *de;
    while ((de = readdir(dd)) != NULL) {
      unsigned dimm;
      if (!numbered(de->d_name, "dimm", &dimm))
        continue;
      char path[1200], text[128];
      uint64_t mb = 0;
      struct edac_entry e = {.mc = mc, .dimm = dimm};
      gm__fmt(path, sizeof(path), "%s/%s/size", mcpath, de->d_name);
      if (gm__read_u64(path, &mb) != GM_OK) {
        ++*unreadable;
        continue;
      }
      if (mb == 0 || mb > (UINT64_MAX / MIB))
        continue;
      e.d.size_bytes = mb * MIB;
      gm__fmt(path, sizeof(path), "%s/%s/dimm_mem_type", mcpath, de->d_name);
      if (gm__read_text(path, text, sizeof(text)) == GM_OK)
        edac_type(text, &e.d);
      if (e.d.type[0] == '\0')
        gm__strlcpy(e.d.type, "Unknown", sizeof(e.d.type));
      gm__fmt(path, sizeof(path), "%s/%s/dimm_label", mcpath, de->d_name);
      if (gm__read_text(path, text, sizeof(text)) == GM_OK && text[0])
        copy_clean(e.d.locator, sizeof(e.d.locator), text, strlen(text));
      if (e.d.locator[0] == '\0')
        gm__fmt(e.d.locator, sizeof(e.d.locator), "mc%u/dimm%u", mc, dimm);
      if (ne == cap) {
        size_t nc = cap ? cap * 2 : 8;
        struct edac_entry *ng = realloc(ents, nc * sizeof(*ng));
        if (!ng) {
          closedir(dd);
          closedir(mcdir);
          rc = GM_ERR_NO_MEMORY;
          goto done;
        }
        ents = ng;
        cap = nc;
      }
      ents[ne++] = e;
    }
    closedir(dd);
  }
  closedir(mcdir);
  if (ne > 0) {
    qsort(ents, ne, sizeof(*ents), edac_cmp);
    struct gm__dimm *v = malloc(ne * sizeof(*v));
    if (!v) {
      rc = GM_ERR_NO_MEMORY;
      goto done;
    }
    for (size_t i = 0; i < ne; i++)
      v[i] = ents[i].d;
    *out = v;
    *n = ne;
  }
done:
  free(ents);
  return rc;
}

/* ---- detection ---- */

/* Appends "; "-separated formatted text to buf. */
static void note_add(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_add(char *buf, size_t size, const char *fmt, ...) {
  if (!buf || size == 0)
    return;
  size_t used = strnlen(buf, size);
  if (used + 1 >= size)
    return;
  if (used > 0) {
    gm__fmt(buf + used, size - used, "; ");
    used = strnlen(buf, size);
    if (used + 1 >= size)
      return;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + used, size - used, fmt, ap);
  va_end(ap);
}

static const char *read_error(enum gm_status rc) {
  switch (rc) {
  case GM_ERR_PERMISSION:
    return "permission denied";
  case GM_ERR_UNAVAILABLE:
    return "not found";
  default:
    return gm_status_str(rc);
  }
}

enum gm_status gm__dimms_detect_ex(const struct gm__env *env,
                                   struct gm__dimm **out, size_t *n,
                                   enum gm__dimm_method *method, char *how,
                                   size_t how_size) {
  enum gm_status rc = GM_ERR_UNAVAILABLE;
  struct gm__dimm *v = NULL;
  size_t nv = 0;
  char *data = NULL;
  size_t dlen = 0;
  enum gm__dimm_method used = GM_DIMM_NONE;
  char path[1024];
  if (how && how_size > 0)
    how[0] = '\0';
  if (!env || !out || !n) {
    rc = GM_ERR_INVALID_ARG;
    goto done;
  }
  *out = NULL;
  *n = 0;
  const char *sysfs = env->sysfs && *env->sysfs ? env->sysfs : "/sys";

  /* 1. saved dmidecode output */
  if (env->dmidecode_file && *env->dmidecode_file) {
    const char *f = env->dmidecode_file;
    char why[128];
    enum gm_status r =
        gm__file_read_max(f, DMI_MAX_BYTES, &data, &dlen, why, sizeof(why));
    size_t slots = 0;
    if (r == GM_ERR_NO_MEMORY) {
      rc = r;
      goto done;
    }
    if (r == GM_ERR_PARSE) {
      note_add(how, how_size,
               "dmidecode file '%s': refused (%s; expected the saved output "
               "of `dmidecode -t memory`, at most %zu bytes)",
               f, why, DMI_MAX_BYTES);
    } else if (r != GM_OK) {
      note_add(how, how_size, "dmidecode file '%s': cannot read (%s)", f,
               read_error(r));
    } else if ((r = gm__dmidecode_parse(data, &v, &nv, &slots)) != GM_OK) {
      rc = r;
      goto done;
    } else if (nv == 0) {
      note_add(how, how_size,
               "dmidecode file '%s': no populated \"Memory Device\" "
               "(%zu blocks; expected `dmidecode -t memory` output)",
               f, slots);
    } else {
      note_add(how, how_size, "dmidecode file '%s': %zu of %zu slots populated",
               f, nv, slots);
      used = GM_DIMM_DMIDECODE;
      rc = GM_OK;
      goto done;
    }
    free(data);
    data = NULL;
  }

  /* 2. raw SMBIOS table */
  if (gm__fmt(path, sizeof(path), "%s/firmware/dmi/tables/DMI", sysfs)) {
    char why[128];
    enum gm_status r =
        gm__file_read_max(path, DMI_MAX_BYTES, &data, &dlen, why, sizeof(why));
    struct gm__smbios_walk w;
    if (r == GM_ERR_NO_MEMORY) {
      rc = r;
      goto done;
    }
    if (r == GM_ERR_PERMISSION) {
      note_add(how, how_size,
               "SMBIOS: '%s' not readable (permission denied; " DMIDECODE_HINT
               ")",
               path);
    } else if (r == GM_ERR_UNAVAILABLE) {
      note_add(how, how_size, "SMBIOS: '%s' not found", path);
    } else if (r != GM_OK) {
      note_add(how, how_size, "SMBIOS: cannot read '%s': %s", path,
               r == GM_ERR_PARSE ? why : read_error(r));
    } else if ((r = gm__smbios_parse_type17((const uint8_t *)data, dlen, &v,
                                            &nv, &w)) != GM_OK) {
      rc = r;
      goto done;
    } else if (nv == 0) {
      note_add(how, how_size,
               "SMBIOS '%s': no populated memory device (%zu bytes, %zu "
               "structures, %zu type 17%s%s)",
               path, dlen, w.structures, w.slots,
               w.broken ? ", table broken" : "",
               w.truncated ? ", table truncated" : "");
    } else {
      note_add(how, how_size, "SMBIOS '%s': %zu of %zu slots populated%s%s",
               path, nv, w.slots, w.broken ? " (table broken, stopped)" : "",
               w.truncated ? " (table truncated, stopped)" : "");
      used = GM_DIMM_SMBIOS;
      rc = GM_OK;
      goto done;
    }
    free(data);
    data = NULL;
  }

  /* 3. EDAC */
  if (gm__fmt(path, sizeof(path), "%s/devices/system/edac/mc", sysfs)) {
    char note[1200] = "";
    size_t unreadable = 0;
    enum gm_status r =
        edac_scan(path, &v, &nv, &unreadable, note, sizeof(note));
    if (r == GM_ERR_NO_MEMORY) {
      rc = r;
      goto done;
    }
    if (r != GM_OK) {
      note_add(how, how_size, "EDAC: %s", note);
    } else if (nv == 0) {
      note_add(how, how_size, "EDAC: no populated '%s/mc*/dimm*/size'%s", path,
               unreadable ? " (some unreadable)" : "");
    } else {
      note_add(how, how_size,
               "EDAC '%s': %zu DIMMs (sizes and types only, no speed or "
               "voltage)",
               path, nv);
      used = GM_DIMM_EDAC;
      rc = GM_OK;
      goto done;
    }
  }
  rc = GM_ERR_UNAVAILABLE;

done:
  free(data);
  if (rc == GM_OK) {
    *out = v;
    *n = nv;
  } else {
    free(v);
    used = GM_DIMM_NONE;
  }
  if (method)
    *method = used;
  return rc;
}

enum gm_status gm__dimms_detect(const struct gm__env *env,
                                struct gm__dimm **out, size_t *n, char *how,
                                size_t how_size) {
  return gm__dimms_detect_ex(env, out, n, NULL, how, how_size);
}
