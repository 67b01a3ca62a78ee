/* libpq.c: libpq loaded at run time (pg.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "store/postgres/pg.h"

struct gm__pq_fns gm__pq;

/* Resolves inside the loaded library; the macros of pg.h are not wanted
 * here: the names are strings. */
#define RESOLVE(name)                                                          \
  do {                                                                         \
    void *p_ = dlsym(lib, #name);                                              \
    if (!p_) {                                                                 \
      missing = #name;                                                         \
      goto fail;                                                               \
    }                                                                          \
    memcpy(&gm__pq.name, &p_, sizeof(p_));                                     \
  } while (0)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static enum gm_status loaded = GM_ERR_UNAVAILABLE;
static char load_why[400];

_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym pointers");

static void load(void) {
  const char *missing = NULL;
  void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    gm__fmt(load_why, sizeof(load_why),
            "cannot load libpq.so.5 (%s): install it (Debian: apt-get install "
            "libpq5)",
            dlerror());
    return;
  }
#undef PQclear
#undef PQconnectdb
#undef PQconnectdbParams
#undef PQconninfoFree
#undef PQconninfoParse
#undef PQerrorMessage
#undef PQescapeIdentifier
#undef PQexec
#undef PQexecParams
#undef PQexecPrepared
#undef PQfinish
#undef PQfreemem
#undef PQgetisnull
#undef PQgetvalue
#undef PQntuples
#undef PQprepare
#undef PQresultErrorField
#undef PQresultErrorMessage
#undef PQresultStatus
#undef PQsetNoticeProcessor
#undef PQstatus
#undef PQtransactionStatus
  RESOLVE(PQclear);
  RESOLVE(PQconnectdb);
  RESOLVE(PQconnectdbParams);
  RESOLVE(PQconninfoFree);
  RESOLVE(PQconninfoParse);
  RESOLVE(PQerrorMessage);
  RESOLVE(PQescapeIdentifier);
  RESOLVE(PQexec);
  RESOLVE(PQexecParams);
  RESOLVE(PQexecPrepared);
  RESOLVE(PQfinish);
  RESOLVE(PQfreemem);
  RESOLVE(PQgetisnull);
  RESOLVE(PQgetvalue);
  RESOLVE(PQntuples);
  RESOLVE(PQprepare);
  RESOLVE(PQresultErrorField);
  RESOLVE(PQresultErrorMessage);
  RESOLVE(PQresultStatus);
  RESOLVE(PQsetNoticeProcessor);
  RESOLVE(PQstatus);
  RESOLVE(PQtransactionStatus);
  loaded = GM_OK;
  return;
fail:
  gm__fmt(load_why, sizeof(load_why),
          "libpq.so.5 has no '%s': a libpq of version 10 or later is needed "
          "(Debian: apt-get install libpq5)",
          missing);
  memset(&gm__pq, 0, sizeof(gm__pq));
  dlclose(lib);
}

enum gm_status gm__pq_load(char *why, size_t why_size) {
  pthread_once(&once, load);
  if (loaded != GM_OK && why && why_size)
    gm__fmt(why, why_size, "%s", load_why);
  return loaded;
}
