/* api.h: symbol visibility for the public greenml API. */
#ifndef GREENML_API_H
#define GREENML_API_H

#if defined(__GNUC__)
#define GM_API __attribute__((visibility("default")))
#else
#define GM_API
#endif

#define GM_VERSION_STRING "0.1.0"

#endif
