/*
 * A third-party cnnpipe plugin written in plain C: two stages, sepia and posterize.
 * Build (only the installed header is needed):
 *     make -C samples/plugins            # or:
 *     cc -O2 -shared -fPIC -fvisibility=hidden -I <prefix>/include/cnnpipe sepia.c -o libsepia.so
 * Use:
 *     CNNPIPE_PLUGIN_PATH=samples/plugins cnnpipe run -e 'sepia strength=0.8' < in.jpg > out.jpg
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnpipe_plugin.h"

typedef struct {
    const cp_host *host;
    float strength;
    int levels;
} instance;

/* Both stages take 8-bit RGB or RGBA; the host converts anything else for us. */
static const int32_t rgb8_formats[] = {CP_PIXEL_RGB8, CP_PIXEL_RGBA8};

static void set_error(char *error, size_t capacity, const char *message) {
    if (error && capacity) snprintf(error, capacity, "%s", message);
}

static void *create(const cp_stage_desc *stage, const cp_host *host, const char *const *values,
                    char *error, size_t capacity) {
    instance *self = calloc(1, sizeof *self);
    if (!self) {
        set_error(error, capacity, "out of memory");
        return NULL;
    }
    self->host = host;
    /* Values arrive validated, in the order the parameters are declared below. */
    if (strcmp(stage->name, "sepia") == 0) self->strength = (float)atof(values[0]);
    else self->levels = atoi(values[0]);
    return self;
}

static void destroy(void *p) { free(p); }

/* Makes an output frame like the input and runs `pixel` over every pixel. */
static int32_t map_pixels(instance *self, cp_call *call, void (*pixel)(const instance *, uint8_t *)) {
    const cp_frame *in = call->inputs[0];
    cp_frame *out = self->host->frame_new(self->host->host_data, in->width, in->height, in->format, in);
    if (!out) {
        set_error(call->error, call->error_capacity, "could not allocate the output frame");
        return -1;
    }
    int channels = in->format == CP_PIXEL_RGBA8 ? 4 : 3;
    for (int32_t y = 0; y < in->height; y++) {
        const uint8_t *src = in->pixels + (size_t)y * (size_t)in->stride;
        uint8_t *dst = out->pixels + (size_t)y * (size_t)out->stride;
        memcpy(dst, src, (size_t)in->width * (size_t)channels);
        for (int32_t x = 0; x < in->width; x++) pixel(self, dst + (size_t)x * (size_t)channels);
    }
    return call->emit(call->call_data, 0, out);
}

static uint8_t clamp255(float v) { return v > 255.f ? 255 : (v < 0.f ? 0 : (uint8_t)(v + 0.5f)); }

static void sepia_pixel(const instance *self, uint8_t *p) {
    float r = p[0], g = p[1], b = p[2], s = self->strength;
    float sr = 0.393f * r + 0.769f * g + 0.189f * b;
    float sg = 0.349f * r + 0.686f * g + 0.168f * b;
    float sb = 0.272f * r + 0.534f * g + 0.131f * b;
    p[0] = clamp255(r + s * (sr - r));
    p[1] = clamp255(g + s * (sg - g));
    p[2] = clamp255(b + s * (sb - b));
}

static void posterize_pixel(const instance *self, uint8_t *p) {
    float step = 255.f / (float)(self->levels - 1);
    for (int c = 0; c < 3; c++) p[c] = clamp255((float)(int)((float)p[c] / step + 0.5f) * step);
}

static int32_t sepia_process(void *p, cp_call *call) { return map_pixels(p, call, sepia_pixel); }
static int32_t posterize_process(void *p, cp_call *call) { return map_pixels(p, call, posterize_pixel); }

static const char *const in_pads[] = {"in"};
static const char *const out_pads[] = {"out"};

static const cp_param_desc sepia_params[] = {
    {sizeof(cp_param_desc), "strength", CP_PARAM_FLOAT, "1.0", 1, 0.0, 1.0, NULL, "0 = unchanged, 1 = full sepia"},
};
static const cp_param_desc posterize_params[] = {
    {sizeof(cp_param_desc), "levels", CP_PARAM_INT, "4", 1, 2.0, 64.0, NULL, "tone levels per channel"},
};

static const cp_stage_desc stages[] = {
    {sizeof(cp_stage_desc), "sepia", "Old-photo brown tint (sample C plugin)", CP_STAGE_STATELESS,
     1, sepia_params, 1, in_pads, 1, out_pads, create, sepia_process, NULL, destroy, NULL, 2, rgb8_formats},
    {sizeof(cp_stage_desc), "posterize", "Reduce tone levels (sample C plugin)", CP_STAGE_STATELESS,
     1, posterize_params, 1, in_pads, 1, out_pads, create, posterize_process, NULL, destroy, NULL, 2, rgb8_formats},
};

static const cp_plugin_desc plugin = {
    sizeof(cp_plugin_desc), CNNPIPE_ABI_VERSION, "sample-c", "1.0", 2, stages,
};

CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t host_abi_version) {
    return host_abi_version == CNNPIPE_ABI_VERSION ? &plugin : NULL;
}
