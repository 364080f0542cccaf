/* Thin C wrappers over libjpeg-turbo, libpng and libwebp.
 * libjpeg and libpng report fatal errors by calling an error handler that must not return;
 * the default ones abort or exit(). These wrappers install handlers that longjmp back and turn
 * every failure into a return code plus a one-line message, so Swift never sees a crash.
 * All output buffers are malloc'd; free them with cs_free. */
#ifndef CODEC_SHIMS_H
#define CODEC_SHIMS_H
#include <stddef.h>
#include <stdint.h>

typedef struct cs_blob {
    uint8_t *data;
    size_t size;
} cs_blob;

/* EXIF as raw TIFF bytes (no "Exif\0\0" prefix), ICC profile bytes, XMP packet text. */
typedef struct cs_metadata {
    cs_blob exif;
    cs_blob icc;
    cs_blob xmp;
} cs_metadata;

typedef struct cs_info {
    int32_t width;
    int32_t height;
    int32_t channels;   /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA: what decode will produce */
    int32_t bit_depth;  /* 8 or 16 */
} cs_info;

enum { CS_ERROR_CAPACITY = 256 };

void cs_free(void *p);
void cs_free_metadata(cs_metadata *m);

int cs_jpeg_info(const uint8_t *data, size_t size, cs_info *info, char *error);
int cs_jpeg_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                   cs_metadata *meta, char *error);
int cs_jpeg_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                   int32_t channels, int32_t quality, int32_t progressive, int32_t subsample420,
                   const cs_metadata *meta, cs_blob *out, char *error);

int cs_png_info(const uint8_t *data, size_t size, cs_info *info, char *error);
int cs_png_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                  cs_metadata *meta, char *error);
int cs_png_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                  int32_t channels, int32_t bit_depth, int32_t compression,
                  const cs_metadata *meta, cs_blob *out, char *error);

int cs_webp_info(const uint8_t *data, size_t size, cs_info *info, char *error);
int cs_webp_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                   cs_metadata *meta, char *error);
/* channels 3 or 4; quality 0..100; lossless 0/1 */
int cs_webp_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                   int32_t channels, float quality, int32_t lossless,
                   const cs_metadata *meta, cs_blob *out, char *error);
#endif
