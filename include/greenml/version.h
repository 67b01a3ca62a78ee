/* version.h: greenml's version and those of the libraries it runs on, as
 * recorded with every bench so that results can be traced to their code.
 * In libgreenml-data (pkg-config greenml-data, CMake greenml::data). */
#ifndef GREENML_VERSION_H
#define GREENML_VERSION_H

#include <stddef.h>

#include "greenml/api.h"
#include "greenml/status.h"

/* Writes a JSON object {"greenml": "0.1.0", "sqlite": ..., "onednn": ...,
 * "libcurl": ..., "libarchive": ..., "openssl": ..., "compiler": ...} into
 * buf ("onednn": "not built" without the oneDNN backend).
 * GM_ERR_INVALID_ARG when it does not fit. */
GM_API enum gm_status gm_versions_json(char *buf, size_t size);

#endif
