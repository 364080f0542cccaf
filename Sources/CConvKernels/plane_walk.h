#ifndef CNNPIPE_PLANE_WALK_H
#define CNNPIPE_PLANE_WALK_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "plane_layout.h"

/* What the bf16 and int8 kernels' tiles read: `mb` ≤ 4 output channels × `nv` ≤ 4 vectors of 16 pixels
 * along one output row, summed over every plane and tap. */
typedef struct {
    const uint32_t *q;      /* plane 0 at the output row's first input row and the tile's first column */
    long plane;             /* words per plane */
    const long *tapoff;     /* word offset of each tap from q */
    int taps, groups;
    const uint32_t *w;      /* weight words of the tile's first output channel */
    long wstride;           /* groups · taps */
    void *out;              /* output at (tile's first channel, row, column) */
    long oplane;            /* output elements per channel */
    int m0;                 /* the tile's first output channel */
    const void *epilogue;   /* what the kernel applies as it stores (bias and clamp; requantisation) */
} plane_tile;

/* Runs one tile; the last vector loads and stores only the lanes in `last`. */
typedef void (*plane_tiles)(const plane_tile *t, int mb, int nv, __mmask16 last);

/* Output rows y0 ..< y1 of out [m, (ih − kh) / sy + 1, (iw − kw) / sx + 1] (elements of `element_size`
 * bytes) in tiles of 4 channels × 64 pixels. */
void cp_plane_walk(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const void *epilogue,
                   void *out, int element_size, int y0, int y1, plane_tiles tiles);

/* A mask of the first n lanes: none for n ≤ 0, all 32 (or 16) from n = 32 (16) on. */
static inline __mmask32 cp_first_lanes32(long n) {
    return n >= 32 ? 0xFFFFFFFFu : n <= 0 ? 0 : (__mmask32)((1u << n) - 1);
}
static inline __mmask16 cp_first_lanes(long n) { return (__mmask16)cp_first_lanes32(n < 16 ? n : 16); }

/* malloc that ends the process with a message when memory runs out, as Swift's allocations do, rather
 * than leaving an output unwritten. */
void *cp_must_alloc(size_t bytes);

#endif
