#ifndef SHIM_COMMON_H
#define SHIM_COMMON_H
#include "codec_shims.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void cs_set_error(char *error, const char *format, ...) {
    if (!error) return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, CS_ERROR_CAPACITY, format, args);
    va_end(args);
}

static inline int cs_blob_copy(cs_blob *blob, const void *data, size_t size) {
    blob->data = malloc(size ? size : 1);
    if (!blob->data) { blob->size = 0; return -1; }
    memcpy(blob->data, data, size);
    blob->size = size;
    return 0;
}
#endif
