#include "codec_shims.h"
#include "shim_common.h"

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

int cs_webp_info(const uint8_t *data, size_t size, cs_info *info, char *error) {
    WebPBitstreamFeatures features;
    VP8StatusCode status = WebPGetFeatures(data, size, &features);
    if (status != VP8_STATUS_OK) {
        cs_set_error(error, "WebP: not a valid WebP image (status %d)", (int)status);
        return -1;
    }
    if (features.has_animation) {
        cs_set_error(error, "WebP: animated WebP is not supported");
        return -1;
    }
    info->width = features.width;
    info->height = features.height;
    info->channels = features.has_alpha ? 4 : 3;
    info->bit_depth = 8;
    return 0;
}

static void copy_chunk(WebPDemuxer *demux, const char *fourcc, cs_blob *blob) {
    WebPChunkIterator it;
    if (WebPDemuxGetChunk(demux, fourcc, 1, &it)) {
        cs_blob_copy(blob, it.chunk.bytes, it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
}

int cs_webp_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t stride,
                   cs_metadata *meta, char *error) {
    cs_info info;
    if (cs_webp_info(data, size, &info, error) != 0) return -1;
    size_t total = stride * (size_t)info.height;
    uint8_t *ok = info.channels == 4 ? WebPDecodeRGBAInto(data, size, pixels, total, (int)stride)
                                     : WebPDecodeRGBInto(data, size, pixels, total, (int)stride);
    if (!ok) {
        cs_set_error(error, "WebP: corrupt or truncated image data");
        return -1;
    }
    if (meta) {
        WebPData webp = {data, size};
        WebPDemuxer *demux = WebPDemux(&webp);
        if (demux) {
            copy_chunk(demux, "EXIF", &meta->exif);
            copy_chunk(demux, "ICCP", &meta->icc);
            copy_chunk(demux, "XMP ", &meta->xmp);
            WebPDemuxDelete(demux);
        }
        /* Some writers keep JPEG's "Exif\0\0" prefix inside the chunk. */
        if (meta->exif.data && meta->exif.size > 6 && memcmp(meta->exif.data, "Exif\0\0", 6) == 0) {
            memmove(meta->exif.data, meta->exif.data + 6, meta->exif.size - 6);
            meta->exif.size -= 6;
        }
    }
    return 0;
}

static int add_chunk(WebPMux *mux, const char *fourcc, const cs_blob *blob) {
    if (!blob->data) return 1;
    WebPData chunk = {blob->data, blob->size};
    return WebPMuxSetChunk(mux, fourcc, &chunk, 1) == WEBP_MUX_OK;
}

int cs_webp_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                   int32_t channels, float quality, int32_t lossless,
                   const cs_metadata *meta, cs_blob *out, char *error) {
    WebPConfig config;
    WebPPicture picture;
    WebPMemoryWriter writer;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&picture)) {
        cs_set_error(error, "WebP: library version mismatch");
        return -1;
    }
    if (lossless) {
        WebPConfigLosslessPreset(&config, 6);
        config.exact = 1;   /* keep RGB under transparent pixels: pixel-exact round trips */
    } else {
        config.quality = quality;
        config.method = 4;
    }
    if (width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION) {
        cs_set_error(error, "WebP: %dx%d exceeds the format's limit of %d pixels per side", width,
                     height, WEBP_MAX_DIMENSION);
        return -1;
    }
    picture.use_argb = lossless ? 1 : 0;
    picture.width = width;
    picture.height = height;
    int imported = channels == 4 ? WebPPictureImportRGBA(&picture, pixels, (int)stride)
                                 : WebPPictureImportRGB(&picture, pixels, (int)stride);
    if (!imported) {
        cs_set_error(error, "WebP: out of memory");
        WebPPictureFree(&picture);
        return -1;
    }
    WebPMemoryWriterInit(&writer);
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = &writer;
    int encoded = WebPEncode(&config, &picture);
    int code = picture.error_code;
    WebPPictureFree(&picture);
    if (!encoded) {
        WebPMemoryWriterClear(&writer);
        cs_set_error(error, "WebP: encoding failed (code %d)", code);
        return -1;
    }
    int has_meta = meta && (meta->exif.data || meta->icc.data || meta->xmp.data);
    if (!has_meta) {
        out->data = writer.mem;
        out->size = writer.size;
        return 0;
    }
    WebPData image = {writer.mem, writer.size};
    WebPMux *mux = WebPMuxCreate(&image, 1);
    WebPData assembled = {NULL, 0};
    int ok = mux && add_chunk(mux, "ICCP", &meta->icc) && add_chunk(mux, "EXIF", &meta->exif) &&
             add_chunk(mux, "XMP ", &meta->xmp) && WebPMuxAssemble(mux, &assembled) == WEBP_MUX_OK;
    WebPMuxDelete(mux);
    WebPMemoryWriterClear(&writer);
    if (!ok) {
        WebPDataClear(&assembled);
        cs_set_error(error, "WebP: could not add metadata chunks");
        return -1;
    }
    /* WebPData memory comes from WebPMalloc; copy into malloc'd memory so cs_free applies. */
    int copied = cs_blob_copy(out, assembled.bytes, assembled.size);
    WebPDataClear(&assembled);
    if (copied != 0) {
        cs_set_error(error, "WebP: out of memory");
        return -1;
    }
    return 0;
}
