/* version.c: see greenml/version.h. It is part of libgreenml-data, the one
 * library that links (itself or through libgreenml-nn and libgreenml) every
 * library it names; the oneDNN entry says "not built" when the oneDNN
 * backend is not compiled in (GM_HAVE_ONEDNN). */
#include "greenml/version.h"

#include <archive.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>

#include "greenml/json.h"
#include "base/util.h"

#ifdef GM_HAVE_ONEDNN
#include <dnnl.h>
#endif

enum gm_status gm_versions_json(char *buf, size_t size) {
  if (!buf || size == 0)
    return GM_ERR_INVALID_ARG;
  char dnnl[64] = "not built";
#ifdef GM_HAVE_ONEDNN
  const dnnl_version_t *dv = dnnl_version();
  gm__fmt(dnnl, sizeof(dnnl), "%d.%d.%d (%s)", dv->major, dv->minor, dv->patch,
          dv->hash ? dv->hash : "?");
#endif
  const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "greenml");
  gm_json_string(&j, GM_VERSION_STRING);
  gm_json_key(&j, "sqlite");
  gm_json_string(&j, sqlite3_libversion());
  gm_json_key(&j, "onednn");
  gm_json_string(&j, dnnl);
  gm_json_key(&j, "libcurl");
  gm_json_string(&j, cv ? cv->version : "?");
  gm_json_key(&j, "libarchive");
  gm_json_string(&j, archive_version_string());
  gm_json_key(&j, "openssl");
  gm_json_string(&j, OpenSSL_version(OPENSSL_VERSION));
  gm_json_key(&j, "compiler");
#if defined(__clang__)
  gm_json_string(&j, "clang " __clang_version__);
#elif defined(__GNUC__)
  gm_json_string(&j, "gcc " __VERSION__);
#else
  gm_json_string(&j, "unknown");
#endif
  gm_json_end_object(&j);
  enum gm_status rc = GM_OK;
  if (j.oom || j.len + 1 > size)
    rc = j.oom ? GM_ERR_NO_MEMORY : GM_ERR_INVALID_ARG;
  else
    gm__strlcpy(buf, j.buf, size);
  gm_json_release(&j);
  return rc;
}
