#include "plane_walk.h"

#include <stdio.h>
#include <stdlib.h>

void *cp_must_alloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fputs("cnnpipe: out of memory in a convolution kernel\n", stderr);
        abort();
    }
    return p;
}

void cp_plane_walk(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const void *epilogue,
                   void *out, int element_size, int y0, int y1, plane_tiles tiles) {
    const int oh = (l->ih - l->kh) / l->sy + 1, ow = (l->iw - l->kw) / l->sx + 1;
    if (y1 > oh) y1 = oh;
    if (y0 >= y1) return;
    const long row_words = (long)l->phases * l->qw;
    long *tapoff = cp_must_alloc(sizeof(long) * (size_t)l->taps);
    const int per_row = l->taps / l->kh;
    for (int ky = 0, t = 0; ky < l->kh; ky++)
        for (int k = 0; k < per_row; k++, t++)
            tapoff[t] = ky * row_words + (l->column_pairs ? 2 * k : (long)(k % l->phases) * l->qw + k / l->phases);
    plane_tile a = { 0, l->plane, tapoff, l->taps, l->groups, 0, (long)l->groups * l->taps, 0, (long)oh * ow, 0, epilogue };
    for (int y = y0; y < y1; y++)
        for (int m0 = 0; m0 < m; m0 += 4) {
            int mb = m - m0 < 4 ? m - m0 : 4;
            a.w = w + m0 * a.wstride;
            a.m0 = m0;
            for (int x0 = 0; x0 < ow; x0 += 64) {
                int rest = ow - x0 < 64 ? ow - x0 : 64, nv = (rest + 15) / 16, tail = rest - 16 * (nv - 1);
                a.q = q + (long)y * l->sy * row_words + x0;
                a.out = (char *)out + (m0 * a.oplane + (long)y * ow + x0) * element_size;
                tiles(&a, mb, nv, cp_first_lanes(tail));
            }
        }
    free(tapoff);
}
