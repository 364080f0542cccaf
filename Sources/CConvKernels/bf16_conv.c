#include "bf16_conv.h"
#include "plane_walk.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define INLINE static inline __attribute__((always_inline))

int cp_bf16_conv_available(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    }
    return known;
}

int cp_bf16_layout_for(int c, int ih, int iw, int kh, int kw, int sy, int sx, cp_plane_layout *l) {
    if (c < 1 || kh < 1 || kw < 1 || sy < 1 || sx < 1 || sx > 2 || ih < kh || iw < kw || kh * kw > 4096) return 0;
    int channel_words = (c + 1) / 2 * kw, column_words = c * ((kw + 1) / 2);
    l->column_pairs = sx == 1 && column_words < channel_words;
    l->groups = l->column_pairs ? c : (c + 1) / 2;
    l->taps = kh * (l->column_pairs ? (kw + 1) / 2 : kw);
    l->phases = l->column_pairs ? 1 : sx;
    l->qw = (iw + l->phases - 1) / l->phases;
    l->ih = ih; l->iw = iw; l->kh = kh; l->kw = kw; l->sy = sy; l->sx = sx;
    l->plane = (long)ih * l->phases * l->qw;
    return 1;
}

/* float32 → bfloat16, round to nearest even; NaN stays a (quiet) NaN. */
INLINE uint32_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u >> 16) | 0x40u;
    return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

void cp_bf16_pack_weights(const float *w, int m, int c, const cp_plane_layout *l, uint32_t *out) {
    const int kh = l->kh, kw = l->kw, per_row = l->taps / kh;
    for (int o = 0; o < m; o++)
        for (int p = 0; p < l->groups; p++)
            for (int ky = 0; ky < kh; ky++)
                for (int t = 0; t < per_row; t++) {
                    float a, b;
                    if (l->column_pairs) {
                        const float *r = w + (((long)o * c + p) * kh + ky) * kw;
                        a = r[2 * t];
                        b = 2 * t + 1 < kw ? r[2 * t + 1] : 0.0f;
                    } else {
                        a = w[(((long)o * c + 2 * p) * kh + ky) * kw + t];
                        b = 2 * p + 1 < c ? w[(((long)o * c + 2 * p + 1) * kh + ky) * kw + t] : 0.0f;
                    }
                    out[((long)o * l->groups + p) * l->taps + ky * per_row + t] = bf16(a) | bf16(b) << 16;
                }
}

/* Row y of channel ch of the padded input: NULL when it is all zeros, else `iw` floats (x's row
 * itself when no columns are padded, else a copy into `scratch` with zero borders). */
static const float *source_row(const float *x, int c, int h, int w, int top, int left, int ch, int y,
                               int iw, float *scratch) {
    int sy = y - top;
    if (ch >= c || sy < 0 || sy >= h) return NULL;
    const float *row = x + ((long)ch * h + sy) * w;
    if (left == 0 && w >= iw) return row;
    memset(scratch, 0, sizeof(float) * (size_t)iw);
    int x0 = left < 0 ? -left : 0, x1 = w < iw - left ? w : iw - left;
    if (x1 > x0) memcpy(scratch + left + x0, row + x0, sizeof(float) * (size_t)(x1 - x0));
    return scratch;
}

/* 16 floats of a row of n from column j, zeros past its end (or for a NULL row). */
INLINE TARGET_BF16 __m512 load16(const float *row, long j, long n) {
    return row ? _mm512_maskz_loadu_ps(cp_first_lanes(n - j), row + j) : _mm512_setzero_ps();
}

/* Words (bf16(a[i]), bf16(b[i])): a in the low half. vcvtneps2bf16 rounds to nearest even. */
INLINE TARGET_BF16 __m512i pairs16(__m512 a, __m512 b) {
    __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
    __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b));
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

static TARGET_BF16 void pair_row(const float *a, const float *b, const cp_plane_layout *l, uint32_t *dst) {
    const long iw = l->iw, qw = l->qw;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (long j = 0; j < qw; j += 16) {
        __mmask16 store = cp_first_lanes(qw - j);
        if (l->column_pairs) {
            _mm512_mask_storeu_epi32(dst + j, store, pairs16(load16(a, j, iw), load16(a, j + 1, iw)));
        } else if (l->phases == 1) {
            _mm512_mask_storeu_epi32(dst + j, store, pairs16(load16(a, j, iw), load16(b, j, iw)));
        } else {     /* two phases: even columns, then odd ones */
            __m512 a0 = load16(a, 2 * j, iw), a1 = load16(a, 2 * j + 16, iw);
            __m512 b0 = load16(b, 2 * j, iw), b1 = load16(b, 2 * j + 16, iw);
            _mm512_mask_storeu_epi32(dst + j, store, pairs16(_mm512_permutex2var_ps(a0, even, a1),
                                                             _mm512_permutex2var_ps(b0, even, b1)));
            _mm512_mask_storeu_epi32(dst + qw + j, store, pairs16(_mm512_permutex2var_ps(a0, odd, a1),
                                                                  _mm512_permutex2var_ps(b0, odd, b1)));
        }
    }
}

void cp_bf16_pair_rows(const float *x, int c, int h, int w, int top, int left, const cp_plane_layout *l,
                       uint32_t *q, int y0, int y1) {
    if (!cp_bf16_conv_available()) return;
    const int iw = l->iw;
    float *scratch = cp_must_alloc(sizeof(float) * (size_t)iw * 2);
    for (int p = 0; p < l->groups; p++)
        for (int y = y0; y < y1; y++) {
            uint32_t *dst = q + p * l->plane + (long)y * l->phases * l->qw;
            int ca = l->column_pairs ? p : 2 * p;
            const float *a = source_row(x, c, h, w, top, left, ca, y, iw, scratch);
            const float *b = l->column_pairs ? NULL : source_row(x, c, h, w, top, left, ca + 1, y, iw, scratch + iw);
            pair_row(a, b, l, dst);
        }
    free(scratch);
}

/* What the store applies: the bias (NULL: none) and a clamp to [lo, hi] (a fused Relu or Clip). */
typedef struct {
    const float *bias;
    int clamp;
    float lo, hi;
} bf16_epilogue;

/* `mb` output channels × `nv` vectors of 16 pixels, summed over every pair plane and tap in registers
 * (mb, nv constant per call site, so the loops unroll). The last vector loads and stores through `last`. */
INLINE TARGET_BF16 void tile(const plane_tile *a, const int mb, const int nv, __mmask16 last) {
    const bf16_epilogue *e = a->epilogue;
    __m512 acc[4][4];
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) acc[i][j] = e->bias ? _mm512_set1_ps(e->bias[a->m0 + i]) : _mm512_setzero_ps();
    for (int p = 0; p < a->groups; p++) {
        const uint32_t *q = a->q + p * a->plane, *wr = a->w + (long)p * a->taps;
        for (int t = 0; t < a->taps; t++) {
            const uint32_t *row = q + a->tapoff[t];
            __m512i v[4];
            for (int j = 0; j < nv; j++)
                v[j] = j == nv - 1 ? _mm512_maskz_loadu_epi32(last, row + 16 * j) : _mm512_loadu_si512(row + 16 * j);
            for (int i = 0; i < mb; i++) {
                __m512i b = _mm512_set1_epi32((int)wr[i * a->wstride + t]);
                for (int j = 0; j < nv; j++)
                    acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)v[j], (__m512bh)b);
            }
        }
    }
    float *out = a->out;
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) {
            __m512 v = acc[i][j];
            if (e->clamp) v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(e->lo)), _mm512_set1_ps(e->hi));
            _mm512_mask_storeu_ps(out + i * a->oplane + 16 * j, j == nv - 1 ? last : 0xFFFF, v);
        }
}

#define TILE(MB, NV) case (MB) * 8 + (NV): tile(a, MB, NV, last); break;
#define TILES(MB) TILE(MB, 1) TILE(MB, 2) TILE(MB, 3) TILE(MB, 4)
static TARGET_BF16 void tiles(const plane_tile *a, int mb, int nv, __mmask16 last) {
    switch (mb * 8 + nv) { TILES(1) TILES(2) TILES(3) TILES(4) }
}

void cp_bf16_conv2d(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const float *bias,
                    int clamp, float lo, float hi, float *out, int y0, int y1) {
    if (!cp_bf16_conv_available()) return;
    const bf16_epilogue e = { bias, clamp, lo, hi };
    cp_plane_walk(q, l, w, m, &e, out, sizeof(float), y0, y1, tiles);
}
