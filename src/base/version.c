/* version.c: see greenml/version.h. */
#include "greenml/version.h"

#include <archive.h>
#include <curl/curl.h>
#include <dnnl.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>

#include "base/json.h"
#include "base/util.h"

enum gm_status gm_versions_json(char *buf, size_t size) {
  if (!buf || size == 0)
    return GM_ERR_INVALID_ARG;
  const dnnl_version_t *dv = dnnl_version();
  char dnnl[64];
  gm__fmt(dnnl, sizeof(dnnl), "%d.%d.%d (%s)", dv->major, dv->minor, dv->patch,
          dv->hash ? dv->hash : "?");
  const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  struct gm__json j;
  gm__json_init(&j);
  gm__json_begin_object(&j);
  gm__json_key(&j, "greenml");
  gm__json_string(&j, GM_VERSION_STRING);
  gm__json_key(&j, "sqlite");
  gm__json_string(&j, sqlite3_libversion());
  gm__json_key(&j, "onednn");
  gm__json_string(&j, dnnl);
  gm__json_key(&j, "libcurl");
  gm__json_string(&j, cv ? cv->version : "?");
  gm__json_key(&j, "libarchive");
  gm__json_string(&j, archive_version_string());
  gm__json_key(&j, "openssl");
  gm__json_string(&j, OpenSSL_version(OPENSSL_VERSION));
  gm__json_key(&j, "compiler");
#if defined(__clang__)
  gm__json_string(&j, "clang " __clang_version__);
#elif defined(__GNUC__)
  gm__json_string(&j, "gcc " __VERSION__);
#else
  gm__json_string(&j, "unknown");
#endif
  gm__json_end_object(&j);
  enum gm_status rc = GM_OK;
  if (j.oom || j.len + 1 > size)
    rc = j.oom ? GM_ERR_NO_MEMORY : GM_ERR_INVALID_ARG;
  else
    gm__strlcpy(buf, j.buf, size);
  gm__json_release(&j);
  return rc;
}
