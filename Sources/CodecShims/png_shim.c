#include "codec_shims.h"
#include "shim_common.h"

#include <png.h>
#include <setjmp.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} png_source;

typedef struct {
    cs_blob blob;
    size_t capacity;
} png_sink;

static void on_png_error(png_structp png, png_const_charp message) {
    char *error = (char *)png_get_error_ptr(png);
    cs_set_error(error, "PNG: %s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
    png_source *src = (png_source *)png_get_io_ptr(png);
    if (src->size - src->offset < length) png_error(png, "file is truncated");
    memcpy(out, src->data + src->offset, length);
    src->offset += length;
}

static void write_to_memory(png_structp png, png_bytep data, png_size_t length) {
    png_sink *sink = (png_sink *)png_get_io_ptr(png);
    if (sink->blob.size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity * 2 : 65536;
        while (capacity < sink->blob.size + length) capacity *= 2;
        uint8_t *grown = realloc(sink->blob.data, capacity);
        if (!grown) png_error(png, "out of memory");
        sink->blob.data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->blob.data + sink->blob.size, data, length);
    sink->blob.size += length;
}

static void flush_memory(png_structp png) { (void)png; }

/* Normalise every PNG colour type to 8/16-bit gray, gray+alpha, RGB or RGBA. */
static void set_read_transforms(png_structp png, png_infop info) {
    png_set_expand(png);                 /* palette -> RGB, gray < 8 bit -> 8 bit, tRNS -> alpha */
    if (png_get_bit_depth(png, info) == 16) png_set_swap(png);   /* host (little-endian) order */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static const char xmp_key[] = "XML:com.adobe.xmp";

/* ICC profiles are carried, not interpreted: libpng's checks of well-known sRGB profiles
 * (some cameras ship slightly wrong ones) must not make a valid image fail. */
static void tolerate_profiles(png_structp png) {
    png_set_benign_errors(png, 1);
#ifdef PNG_SKIP_sRGB_CHECK_PROFILE
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
#endif
}

int cs_png_info(const uint8_t *data, size_t size, cs_info *result, char *error) {
    png_source src = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, on_png_error, on_png_warning);
    if (!png) { cs_set_error(error, "PNG: out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &src, read_from_memory);
    tolerate_profiles(png);
    png_read_info(png, info);
    result->width = (int32_t)png_get_image_width(png, info);
    result->height = (int32_t)png_get_image_height(png, info);
    set_read_transforms(png, info);
    result->channels = png_get_channels(png, info);
    result->bit_depth = png_get_bit_depth(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

static void collect_metadata(png_structp png, png_infop info, cs_metadata *meta) {
    png_uint_32 exif_len = 0;
    png_bytep exif = NULL;
    if (!meta->exif.data && png_get_eXIf_1(png, info, &exif_len, &exif) && exif)
        cs_blob_copy(&meta->exif, exif, exif_len);
    png_charp icc_name = NULL;
    int compression = 0;
    png_bytep icc = NULL;
    png_uint_32 icc_len = 0;
    if (!meta->icc.data && png_get_iCCP(png, info, &icc_name, &compression, &icc, &icc_len) && icc)
        cs_blob_copy(&meta->icc, icc, icc_len);
    png_textp texts = NULL;
    int n = png_get_text(png, info, &texts, NULL);
    for (int i = 0; i < n && !meta->xmp.data; i++) {
        if (strcmp(texts[i].key, xmp_key) != 0) continue;
        size_t len = texts[i].compression >= 1 ? texts[i].itxt_length : texts[i].text_length;
        cs_blob_copy(&meta->xmp, texts[i].text, len);
    }
}

int cs_png_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                  cs_metadata *meta, char *error) {
    png_source src = {data, size, 0};
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, on_png_error, on_png_warning);
    if (!png) { cs_set_error(error, "PNG: out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (meta) cs_free_metadata(meta);
        return -1;
    }
    png_set_read_fn(png, &src, read_from_memory);
    tolerate_profiles(png);
    png_read_info(png, info);
    set_read_transforms(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, info);   /* text and eXIf chunks may follow the image data */
    if (meta) collect_metadata(png, info, meta);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int cs_png_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                  int32_t channels, int32_t bit_depth, int32_t compression,
                  const cs_metadata *meta, cs_blob *out, char *error) {
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_sink sink = {{NULL, 0}, 0};
    png_sink *volatile sink_ptr = &sink;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, on_png_error, on_png_warning);
    if (!png) { cs_set_error(error, "PNG: out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(sink_ptr->blob.data);
        return -1;
    }
    if (channels < 1 || channels > 4) png_error(png, "unsupported channel count");
    png_set_write_fn(png, &sink, write_to_memory, flush_memory);
    tolerate_profiles(png);
    png_set_compression_level(png, compression);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (meta) {
        if (meta->icc.data)
            png_set_iCCP(png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, meta->icc.data,
                         (png_uint_32)meta->icc.size);
        if (meta->exif.data)
            png_set_eXIf_1(png, info, (png_uint_32)meta->exif.size, meta->exif.data);
        if (meta->xmp.data) {
            png_text text;
            memset(&text, 0, sizeof text);
            text.compression = PNG_ITXT_COMPRESSION_NONE;
            text.key = (png_charp)xmp_key;
            text.text = (png_charp)meta->xmp.data;
            text.itxt_length = meta->xmp.size;
            text.lang = (png_charp)"";
            text.lang_key = (png_charp)"";
            png_set_text(png, info, &text, 1);
        }
    }
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    for (int32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = sink.blob;
    return 0;
}
