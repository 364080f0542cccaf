#include "codec_shims.h"
#include "shim_common.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *error;
} shim_jpeg_error;

static void on_error_exit(j_common_ptr cinfo) {
    shim_jpeg_error *e = (shim_jpeg_error *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    cs_set_error(e->error, "JPEG: %s", buffer);
    longjmp(e->jump, 1);
}

/* Warnings: a truncated entropy-coded segment is only a warning in libjpeg (it pads the
 * image with grey); we treat it as the error it is. Other warnings are harmless. */
static void on_emit_message(j_common_ptr cinfo, int level) {
    /* JWRN_HIT_MARKER: the scan data stops at a marker (an early EOI) before the image is complete. */
    if (level == -1 && (cinfo->err->msg_code == JWRN_JPEG_EOF || cinfo->err->msg_code == JWRN_HIT_MARKER)) {
        on_error_exit(cinfo);
    }
}

static void install_errors(shim_jpeg_error *e, char *error) {
    jpeg_std_error(&e->base);
    e->base.error_exit = on_error_exit;
    e->base.emit_message = on_emit_message;
    e->error = error;
}

static const char exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
static const char xmp_id[] = "http://ns.adobe.com/xap/1.0/";  /* followed by a NUL */

int cs_jpeg_info(const uint8_t *data, size_t size, cs_info *info, char *error) {
    struct jpeg_decompress_struct cinfo;
    shim_jpeg_error err;
    install_errors(&err, error);
    cinfo.err = &err.base;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = (int32_t)cinfo.image_width;
    info->height = (int32_t)cinfo.image_height;
    info->channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    info->bit_depth = 8;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t width, int inverted) {
    for (size_t x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
        rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

static void collect_markers(j_decompress_ptr cinfo, cs_metadata *meta) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1) continue;
        if (!meta->exif.data && m->data_length > 6 && memcmp(m->data, exif_id, 6) == 0) {
            cs_blob_copy(&meta->exif, m->data + 6, m->data_length - 6);
        } else if (!meta->xmp.data && m->data_length > sizeof(xmp_id) &&
                   memcmp(m->data, xmp_id, sizeof(xmp_id)) == 0) {
            cs_blob_copy(&meta->xmp, m->data + sizeof(xmp_id), m->data_length - sizeof(xmp_id));
        }
    }
    JOCTET *icc = NULL;
    unsigned int icc_len = 0;
    if (jpeg_read_icc_profile(cinfo, &icc, &icc_len) && icc) {
        meta->icc.data = icc;
        meta->icc.size = icc_len;
    }
}

int cs_jpeg_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                   cs_metadata *meta, char *error) {
    struct jpeg_decompress_struct cinfo;
    shim_jpeg_error err;
    uint8_t *volatile cmyk_row = NULL;
    install_errors(&err, error);
    cinfo.err = &err.base;
    if (setjmp(err.jump)) {
        free(cmyk_row);
        jpeg_destroy_decompress(&cinfo);
        if (meta) cs_free_metadata(meta);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    if (meta) {
        jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
        jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);
    }
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) cinfo.out_color_space = JCS_GRAYSCALE;
    else if (cmyk) cinfo.out_color_space = JCS_CMYK;
    else cinfo.out_color_space = JCS_RGB;
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    if (cmyk) cmyk_row = malloc((size_t)cinfo.output_width * 4);
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dest = pixels + (size_t)cinfo.output_scanline * stride;
        JSAMPROW row = cmyk ? cmyk_row : dest;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (cmyk) cmyk_row_to_rgb(cmyk_row, dest, cinfo.output_width, cinfo.saw_Adobe_marker);
    }
    if (meta) collect_markers(&cinfo, meta);
    jpeg_finish_decompress(&cinfo);
    free(cmyk_row);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int cs_jpeg_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                   int32_t channels, const cs_jpeg_options *options,
                   const cs_metadata *meta, cs_blob *out, char *error) {
    struct jpeg_compress_struct cinfo;
    shim_jpeg_error err;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    install_errors(&err, error);
    cinfo.err = &err.base;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, options->quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    if (channels == 3) {
        /* 0 4:4:4, 1 4:2:0, 2 4:2:2, 3 4:4:0 */
        cinfo.comp_info[0].h_samp_factor = options->subsampling == 1 || options->subsampling == 2 ? 2 : 1;
        cinfo.comp_info[0].v_samp_factor = options->subsampling == 1 || options->subsampling == 3 ? 2 : 1;
        cinfo.comp_info[1].h_samp_factor = cinfo.comp_info[1].v_samp_factor = 1;
        cinfo.comp_info[2].h_samp_factor = cinfo.comp_info[2].v_samp_factor = 1;
    }
    if (options->has_density) {
        cinfo.density_unit = options->density_unit;
        cinfo.X_density = options->x_density;
        cinfo.Y_density = options->y_density;
    }
    if (options->progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    if (meta) {
        /* A JPEG segment holds at most 65533 bytes of payload; larger EXIF/XMP cannot be
         * stored in one APP1 and are dropped (ICC is split across APP2 segments by libjpeg). */
        if (meta->exif.data && meta->exif.size + 6 <= 65533) {
            jpeg_write_m_header(&cinfo, JPEG_APP0 + 1, (unsigned)(meta->exif.size + 6));
            for (int i = 0; i < 6; i++) jpeg_write_m_byte(&cinfo, exif_id[i]);
            for (size_t i = 0; i < meta->exif.size; i++) jpeg_write_m_byte(&cinfo, meta->exif.data[i]);
        }
        if (meta->icc.data) jpeg_write_icc_profile(&cinfo, meta->icc.data, (unsigned)meta->icc.size);
        if (meta->xmp.data && meta->xmp.size + sizeof(xmp_id) <= 65533) {
            jpeg_write_m_header(&cinfo, JPEG_APP0 + 1, (unsigned)(meta->xmp.size + sizeof(xmp_id)));
            for (size_t i = 0; i < sizeof(xmp_id); i++) jpeg_write_m_byte(&cinfo, xmp_id[i]);
            for (size_t i = 0; i < meta->xmp.size; i++) jpeg_write_m_byte(&cinfo, meta->xmp.data[i]);
        }
    }
    for (size_t i = 0; options->segments.data && i + 4 <= options->segments.size;) {
        const uint8_t *seg = options->segments.data + i;
        size_t length = ((size_t)seg[2] << 8) | seg[3];
        if (seg[0] != 0xFF || length < 2 || i + 2 + length > options->segments.size) break;
        jpeg_write_marker(&cinfo, seg[1], seg + 4, (unsigned)(length - 2));
        i += 2 + length;
    }
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    out->data = buffer;
    out->size = buffer_size;
    return 0;
}
