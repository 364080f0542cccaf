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
typedef struct cs_jpeg_options {
    int32_t quality;        /* 1..100 */
    int32_t progressive;    /* 0/1 */
    int32_t subsampling;    /* 0 4:4:4, 1 4:2:0, 2 4:2:2, 3 4:4:0 */
    int32_t has_density;    /* JFIF density below is valid */
    uint8_t density_unit;
    uint16_t x_density, y_density;
    cs_blob segments;       /* whole marker segments (FF xx len payload) written after the metadata */
} cs_jpeg_options;

int cs_jpeg_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                   int32_t channels, const cs_jpeg_options *options,
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

/* zlib inflate of a whole buffer (PNG's compressed iTXt); at most `limit` output bytes. */
int cs_inflate(const uint8_t *data, size_t size, size_t limit, cs_blob *out);
#endif
