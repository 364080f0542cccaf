/*
 * cnnpipe plugin ABI.
 *
 * The only contract between the cnnpipe host and its plugins. Only C types cross it.
 * Rules that keep it stable:
 *   - every struct starts with `struct_size`; fields are only ever appended, never reordered;
 *     a reader checks struct_size before touching a field added later;
 *   - CNNPIPE_ABI_VERSION changes only when an existing field changes meaning (a break);
 *   - a plugin exports exactly one symbol, cnnpipe_plugin_entry.
 *
 * Lifecycle of a stage instance (all calls for one instance come from one thread at a time,
 * except process() of a CP_STAGE_OVERLAPPING stage):
 *   create(params) -> process(inputs) * N -> finish() -> destroy()
 * process() may emit zero, one or several frames on any output pad (emit); finish() is called
 * once at end of stream and may emit more frames (aggregators: contact sheets, top-k reports).
 * A stage with several input pads (merge) receives one frame per pad in each process() call.
 */
#ifndef CNNPIPE_PLUGIN_H
#define CNNPIPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNNPIPE_ABI_VERSION 1u

#if defined(__GNUC__)
#define CNNPIPE_EXPORT __attribute__((visibility("default")))
#else
#define CNNPIPE_EXPORT
#endif

/* ---- pixels ---------------------------------------------------------------------------- */

typedef enum cp_pixel_format {
    CP_PIXEL_GRAY8 = 1,
    CP_PIXEL_GRAYA8 = 2,
    CP_PIXEL_RGB8 = 3,
    CP_PIXEL_RGBA8 = 4,
    CP_PIXEL_GRAY16 = 5,   /* 16-bit samples in host byte order */
    CP_PIXEL_GRAYA16 = 6,
    CP_PIXEL_RGB16 = 7,
    CP_PIXEL_RGBA16 = 8,
    CP_PIXEL_RGBF32 = 9,   /* float samples, nominal range 0..1 */
    CP_PIXEL_RGBAF32 = 10
} cp_pixel_format;

/* A frame: pixels plus metadata. Frames are owned by the host. A stage reads its input frames
 * during process() and must not keep pointers to them afterwards. */
typedef struct cp_frame {
    uint32_t struct_size;
    int32_t width;
    int32_t height;
    int32_t format;          /* cp_pixel_format */
    int64_t stride;          /* bytes from one row to the next */
    uint8_t *pixels;         /* writable only on frames the stage created with frame_new */
    /* Structured metadata (faces, captions, source name, ...) as a UTF-8 JSON object,
     * NUL-terminated; schema in docs/METADATA.md. Replace it with host->frame_set_metadata. */
    const char *metadata_json;
    void *host_handle;       /* opaque to plugins */
} cp_frame;

/* ---- parameters ------------------------------------------------------------------------ */

typedef enum cp_param_type {
    CP_PARAM_INT = 1,
    CP_PARAM_FLOAT = 2,
    CP_PARAM_BOOL = 3,
    CP_PARAM_STRING = 4,
    CP_PARAM_CHOICE = 5      /* one of `choices`, a '|'-separated list */
} cp_param_type;

typedef struct cp_param_desc {
    uint32_t struct_size;
    const char *name;        /* lower-case, words joined by '-' */
    int32_t type;            /* cp_param_type */
    const char *default_value; /* textual default, NULL = required */
    int32_t has_range;       /* INT/FLOAT: min/max are valid */
    double min;
    double max;
    const char *choices;     /* CHOICE: "fit|fill|exact" */
    const char *doc;         /* one line */
    /* Appended (check struct_size; a table's stride is its first entry's struct_size): CP_PARAM_* flags. */
    uint32_t flags;
} cp_param_desc;

enum {
    /* A value other than the default makes a stateless stage keep state between frames (e.g. a
     * temporal mode for video): the host then runs one instance that sees frames in stream order. */
    CP_PARAM_STATEFUL_UNLESS_DEFAULT = 1u << 0,
    /* The value names files: a path or a comma-separated list of them (each may end in :WEIGHT).
     * An item with a folder part ("styles/x.jpg", "../x.jpg") written in a preset file is taken
     * relative to that file's folder; the host hands the stage the resolved path. */
    CP_PARAM_FILE_PATH = 1u << 1
};

/* ---- host services --------------------------------------------------------------------- */

typedef enum cp_log_level {
    CP_LOG_DEBUG = 0,
    CP_LOG_INFO = 1,
    CP_LOG_WARNING = 2,
    CP_LOG_ERROR = 3
} cp_log_level;

typedef struct cp_host {
    uint32_t struct_size;
    uint32_t abi_version;
    void *host_data;                                           /* pass back in every call */
    void (*log)(void *host_data, int32_t level, const char *stage, const char *message);
    /* done/total work units of a long step; total 0 = unknown. Shown only on a terminal. */
    void (*progress)(void *host_data, const char *stage, double done, double total);
    /* Non-zero once the user asked to stop (Ctrl-C, an earlier fatal error). Poll in long loops. */
    int32_t (*is_cancelled)(void *host_data);
    int32_t threads;                                           /* most threads a stage may use */
    const char *model_dir;                                     /* folder with model files */
    /* A new frame with uninitialised pixels; metadata copied from `like` when not NULL. */
    cp_frame *(*frame_new)(void *host_data, int32_t width, int32_t height, int32_t format,
                           const cp_frame *like);
    /* Replace a frame's metadata JSON (copied). Returns 0 on success. */
    int32_t (*frame_set_metadata)(void *host_data, cp_frame *frame, const char *json);
    /* Release a frame from frame_new or frame_derive that will not be emitted. */
    void (*frame_release)(void *host_data, cp_frame *frame);
    /* Appended (check struct_size): a new frame with `source`'s pixels — shared, read-only — and
     * the metadata JSON given (NULL: source's). For stages that only add metadata (faces, tags):
     * no pixel copy, and the host knows the pixels are unchanged, so it can write the input file
     * with only its metadata changed. Emit or release it like a frame from frame_new. */
    cp_frame *(*frame_derive)(void *host_data, const cp_frame *source, const char *metadata_json);
    /* Largest frame (width x height) the run accepts (--max-megapixels); frame_new refuses larger
     * ones. Check a size before allocating a result of your own. Present when struct_size covers it. */
    int64_t max_pixels;
    /* Appended: the run's one thread budget (--threads), shared by every stage instance and the
     * host's own workers, each of which holds one thread while it works on an image. A stage that
     * wants to run a step on several threads borrows the extra ones: borrow_threads returns how
     * many of `wanted` it may start now (0..wanted, never waits); return_threads gives that many
     * back when the step ends. So two images in flight on two cores get one thread each, and a
     * single image gets both. Absent on older hosts (check struct_size): use `threads`. */
    int32_t (*borrow_threads)(void *host_data, int32_t wanted);
    void (*return_threads)(void *host_data, int32_t count);
} cp_host;

/* Per-call context: the input frames and where results go. */
typedef struct cp_call {
    uint32_t struct_size;
    void *call_data;                                           /* host's; pass back */
    uint32_t n_inputs;                                         /* 0 in finish() */
    const cp_frame *const *inputs;                             /* one per input pad, in pad order */
    /* Emit a frame on output pad `pad` (index). The host takes ownership of frames from
     * frame_new; emitting an input frame passes it on unchanged (no copy). Returns 0 on success. */
    int32_t (*emit)(void *call_data, uint32_t pad, const cp_frame *frame);
    char *error;                                               /* on failure: one-line message */
    size_t error_capacity;
    /* Appended (check struct_size). For stateful stages (NULL for stateless ones and in finish()):
     * blocks until every earlier image but the last `lag` has finished process() at this stage
     * (lag 0: all of them), then returns this image's position in the stream (0, 1, 2, ...; the
     * frames one image brings share it). Images that failed before reaching the stage count as
     * finished. Only a CP_STAGE_OVERLAPPING stage ever waits in it. */
    int64_t (*await_turn)(void *call_data, int32_t lag);
} cp_call;

/* ---- stages ---------------------------------------------------------------------------- */

enum {
    /* Instances keep no state between frames: the host may run several instances in parallel
     * on different frames. Without it, one instance sees every frame in stream order. */
    CP_STAGE_STATELESS = 1u << 0,
    /* The single input pad accepts any number (>= 1) of connections, named in1, in2, ... */
    CP_STAGE_VARIADIC_INPUTS = 1u << 1,
    /* The stage emits its results in finish() (aggregator). */
    CP_STAGE_AGGREGATOR = 1u << 2,
    /* When the stage is stateful (one instance, frames in stream order): process() for later
     * images may start before earlier ones have returned, on other threads, on the same instance.
     * The stage keeps its process() thread-safe and calls cp_call.await_turn before it touches
     * the state images share in order, so only that part runs one image at a time. */
    CP_STAGE_OVERLAPPING = 1u << 3
};

struct cp_stage_desc;
typedef struct cp_stage_desc {
    uint32_t struct_size;
    const char *name;
    const char *summary;                                       /* one line */
    uint32_t flags;
    uint32_t n_params;
    const cp_param_desc *params;
    uint32_t n_inputs;
    const char *const *input_pads;
    uint32_t n_outputs;
    const char *const *output_pads;
    /* Parameters arrive validated and normalised as text, in the order of `params`.
     * Returns an instance or NULL with a one-line message in `error`. */
    void *(*create)(const struct cp_stage_desc *stage, const cp_host *host,
                    const char *const *param_values, char *error, size_t error_capacity);
    /* 0 on success; non-zero with a message in call->error. */
    int32_t (*process)(void *instance, cp_call *call);
    int32_t (*finish)(void *instance, cp_call *call);         /* may be NULL */
    void (*destroy)(void *instance);
    void *user_data;                                           /* the plugin's own, for create */
    /* Pixel formats process() accepts (cp_pixel_format values); 0 = any format. The host
     * converts other frames to the accepted format that loses least (alpha and depth kept). */
    uint32_t n_formats;
    const int32_t *formats;
} cp_stage_desc;

typedef struct cp_plugin_desc {
    uint32_t struct_size;
    uint32_t abi_version;                                      /* CNNPIPE_ABI_VERSION built against */
    const char *name;
    const char *version;
    uint32_t n_stages;
    const cp_stage_desc *stages;
} cp_plugin_desc;

/* The one exported entry point. Return NULL when host_abi_version is not supported. */
typedef const cp_plugin_desc *(*cp_plugin_entry_fn)(uint32_t host_abi_version);
#define CNNPIPE_PLUGIN_ENTRY "cnnpipe_plugin_entry"

#ifdef __cplusplus
}
#endif
#endif
