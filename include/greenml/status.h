/* status.h: the one status enum every fallible greenml function returns.
 *
 * The list is written once, as an X-macro, and generates the enum, the names
 * and the generic messages. Specific messages ("cannot read '...': permission
 * denied") live on the handle that failed, never on stderr: the library never
 * prints and never exits.
 */
#ifndef GREENML_STATUS_H
#define GREENML_STATUS_H

#include "greenml/api.h"

#define GM_STATUS_LIST(X)                                                      \
  X(OK, "success")                                                             \
  X(ERR_INVALID_ARG, "invalid argument")                                       \
  X(ERR_NO_MEMORY, "out of memory")                                            \
  X(ERR_UNAVAILABLE, "not available on this machine")                          \
  X(ERR_PERMISSION, "permission denied")                                       \
  X(ERR_IO, "input/output error")                                              \
  X(ERR_PARSE, "malformed data")                                               \
  X(ERR_NOT_SUPPORTED, "not supported by this device")                         \
  X(ERR_DEVICE_LOST, "device lost")                                            \
  X(ERR_DATABASE, "database error")                                            \
  X(ERR_SCHEMA_NEWER, "database written by a newer greenml")                   \
  X(ERR_STATE, "call not valid in the current state")                          \
  X(ERR_SYSTEM, "system call failed")                                          \
  X(ERR_NOT_FOUND, "not found")                                                \
  X(ERR_INTERRUPTED, "interrupted")                                            \
  X(ERR_UNSUPPORTED, "not supported by this greenml")

enum gm_status {
#define GM_X_(name, text) GM_##name,
  GM_STATUS_LIST(GM_X_)
#undef GM_X_
      GM_STATUS_COUNT_
};

/* "GM_ERR_PERMISSION"; never NULL; static storage. */
GM_API const char *gm_status_name(enum gm_status s);
/* "permission denied"; never NULL; static storage. */
GM_API const char *gm_status_str(enum gm_status s);

#endif
