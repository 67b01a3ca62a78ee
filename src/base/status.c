/* status.c: names and generic messages of enum gm_status. */
#include "greenml/status.h"

static const char *const status_names[] = {
#define GM_X_(name, text) "GM_" #name,
    GM_STATUS_LIST(GM_X_)
#undef GM_X_
};

static const char *const status_texts[] = {
#define GM_X_(name, text) text,
    GM_STATUS_LIST(GM_X_)
#undef GM_X_
};

const char *gm_status_name(enum gm_status s) {
  if ((unsigned)s >= (unsigned)GM_STATUS_COUNT_)
    return "GM_ERR_UNKNOWN";
  return status_names[s];
}

const char *gm_status_str(enum gm_status s) {
  if ((unsigned)s >= (unsigned)GM_STATUS_COUNT_)
    return "unknown status";
  return status_texts[s];
}
