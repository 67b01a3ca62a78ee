/* cifar10_internal.h: pieces shared by the CIFAR-10 loader (cifar10.c) and
 * the downloader (cifar10_fetch.c), defined in files.c. */
#ifndef GM_DATA_CIFAR10_INTERNAL_H
#define GM_DATA_CIFAR10_INTERNAL_H

#include <stddef.h>

#include "greenml/data.h"

/* Longest path built from a directory and a file name. */
#define GM__DATA_PATH_MAX 1024

/* Formats a message into err (err_size bytes; nothing when err is NULL or
 * err_size is 0). */
void gm__data_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dir + "/" + name into buf; GM_ERR_INVALID_ARG (message in err) when it
 * does not fit. */
enum gm_status gm__data_path(char *buf, size_t size, const char *dir,
                             const char *name, char *err, size_t err_size);

/* Creates dir (one level) unless it is already a directory.
 * GM_ERR_PERMISSION (EACCES, EPERM, EROFS) or GM_ERR_IO otherwise, with the
 * message. */
enum gm_status gm__data_mkdir(const char *dir, char *err, size_t err_size);

/* The status for a failure to create or write a file: GM_ERR_PERMISSION for
 * EACCES, EPERM and EROFS, GM_ERR_NO_MEMORY for ENOMEM, else GM_ERR_IO. */
enum gm_status gm__data_write_status(int err);

#endif
