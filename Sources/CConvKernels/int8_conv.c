#include "int8_conv.h"
#include "plane_walk.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))

int cp_int8_conv_available(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
    return known;
}

int cp_int8_layout_for(int c, int ih, int iw, int kh, int kw, int sy, int sx, cp_plane_layout *l) {
    if (c < 1 || kh < 1 || kw < 1 || sy < 1 || sx < 1 || sx > 2 || ih < kh || iw < kw || kh * kw > 4096) return 0;
    l->groups = (c + 3) / 4;
    l->taps = kh * kw;
    l->phases = sx;
    l->qw = (iw + sx - 1) / sx;
    l->ih = ih; l->iw = iw; l->kh = kh; l->kw = kw; l->sy = sy; l->sx = sx;
    l->plane = (long)ih * l->phases * l->qw;
    return 1;
}

void cp_int8_pack_weights(const int8_t *w, int m, int c, const cp_plane_layout *l, uint32_t *out, int32_t *sums) {
    const long taps = l->taps;
    for (int o = 0; o < m; o++) {
        int32_t sum = 0;
        for (int p = 0; p < l->groups; p++)
            for (long t = 0; t < taps; t++) {
                uint32_t word = 0;
                for (int k = 0; k < 4; k++) {
                    int ch = 4 * p + k;
                    int8_t v = ch < c ? w[((long)o * c + ch) * taps + t] : 0;
                    sum += v;
                    word |= (uint32_t)(uint8_t)v << (8 * k);
                }
                out[((long)o * l->groups + p) * taps + t] = word;
            }
        sums[o] = sum;
    }
}

/* Row y of channel ch of the padded input, `iw` raw bytes: NULL for a channel past c (its weights
 * are 0), x's own row when nothing around it is padded, else a copy into `scratch` with `fill` around. */
static const uint8_t *source_row(const uint8_t *x, int c, int h, int w, int top, int left, uint8_t fill,
                                 int ch, int y, int iw, uint8_t *scratch) {
    if (ch >= c) return NULL;
    int sy = y - top;
    const uint8_t *row = x + ((long)ch * h + (sy < 0 ? 0 : sy)) * w;
    if (sy >= 0 && sy < h && left == 0 && w >= iw) return row;
    memset(scratch, fill, (size_t)iw);
    if (sy < 0 || sy >= h) return scratch;
    int x0 = left < 0 ? -left : 0, x1 = w < iw - left ? w : iw - left;
    if (x1 > x0) memcpy(scratch + left + x0, row + x0, (size_t)(x1 - x0));
    return scratch;
}

/* 16 bytes (zero-extended to 32-bit lanes) of a row of n from column j, 0 past its end or for NULL. */
INLINE TARGET_VNNI __m512i bytes16(const uint8_t *row, long j, long n, __m128i flip) {
    if (!row) return _mm512_setzero_si512();
    __m128i b = _mm_maskz_loadu_epi8(cp_first_lanes(n - j), row + j);
    return _mm512_cvtepu8_epi32(_mm_xor_si128(b, flip));
}

/* Columns 2j, 2j+2, … (even) or 2j+1, 2j+3, … (odd) of the 32 bytes from 2j, as 32-bit lanes. */
INLINE TARGET_VNNI void bytes32(const uint8_t *row, long j, long n, __m256i flip, __m512i *even, __m512i *odd) {
    if (!row) { *even = *odd = _mm512_setzero_si512(); return; }
    __m256i b = _mm256_maskz_loadu_epi8(cp_first_lanes32(n - 2 * j), row + 2 * j);
    __m512i v = _mm512_cvtepu8_epi16(_mm256_xor_si256(b, flip));
    *even = _mm512_and_si512(v, _mm512_set1_epi32(0xFFFF));
    *odd = _mm512_srli_epi32(v, 16);
}

INLINE TARGET_VNNI __m512i quad(__m512i a, __m512i b, __m512i c, __m512i d) {
    return _mm512_or_si512(_mm512_or_si512(a, _mm512_slli_epi32(b, 8)),
                           _mm512_or_si512(_mm512_slli_epi32(c, 16), _mm512_slli_epi32(d, 24)));
}

static TARGET_VNNI void quad_row(const uint8_t *const r[4], int flip, const cp_plane_layout *l, uint32_t *dst) {
    const long iw = l->iw, qw = l->qw;
    const __m128i f16 = _mm_set1_epi8(flip ? (char)0x80 : 0);
    const __m256i f32 = _mm256_set1_epi8(flip ? (char)0x80 : 0);
    for (long j = 0; j < qw; j += 16) {
        __mmask16 store = cp_first_lanes(qw - j);
        if (l->phases == 1) {
            __m512i w = quad(bytes16(r[0], j, iw, f16), bytes16(r[1], j, iw, f16),
                             bytes16(r[2], j, iw, f16), bytes16(r[3], j, iw, f16));
            _mm512_mask_storeu_epi32(dst + j, store, w);
        } else {
            __m512i e[4], o[4];
            for (int k = 0; k < 4; k++) bytes32(r[k], j, iw, f32, &e[k], &o[k]);
            _mm512_mask_storeu_epi32(dst + j, store, quad(e[0], e[1], e[2], e[3]));
            _mm512_mask_storeu_epi32(dst + qw + j, store, quad(o[0], o[1], o[2], o[3]));
        }
    }
}

void cp_int8_quad_rows(const uint8_t *x, int c, int h, int w, int top, int left, int flip, uint8_t fill,
                       const cp_plane_layout *l, uint32_t *q, int y0, int y1) {
    if (!cp_int8_conv_available()) return;
    const int iw = l->iw;
    uint8_t *scratch = cp_must_alloc((size_t)iw * 4);
    for (int p = 0; p < l->groups; p++)
        for (int y = y0; y < y1; y++) {
            const uint8_t *r[4];
            for (int k = 0; k < 4; k++)
                r[k] = source_row(x, c, h, w, top, left, fill, 4 * p + k, y, iw, scratch + (size_t)k * iw);
            quad_row(r, flip, l, q + p * l->plane + (long)y * l->phases * l->qw);
        }
    free(scratch);
}

/* 16 sums of channel ch as bytes, as cp_requant says. */
INLINE TARGET_VNNI __m128i requantise(__m512i sum, const cp_requant *r, int ch) {
    __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(sum, _mm512_set1_epi32(r->offset[ch])));
    if (r->bias) v = _mm512_add_ps(v, _mm512_set1_ps(r->bias[ch]));
    v = _mm512_mul_ps(v, _mm512_set1_ps(r->scale[ch]));
    if (r->clamp) v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(r->low)), _mm512_set1_ps(r->high));
    /* Saturate before converting: past ±2^31 the conversion gives INT_MIN whatever the sign (and NaN → qmin). */
    const int qmin = r->is_signed ? -128 : 0, qmax = r->is_signed ? 127 : 255;
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps((float)(qmin - r->zero_point))),
                      _mm512_set1_ps((float)(qmax - r->zero_point)));
    __m512i i = _mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                                 _mm512_set1_epi32(r->zero_point));
    return _mm512_cvtepi32_epi8(i);
}

/* `mb` output channels × `nv` vectors of 16 pixels, summed over every quad plane and tap in registers
 * (mb, nv constant per call site, so the loops unroll). The last vector loads and stores through `last`. */
INLINE TARGET_VNNI void tile(const plane_tile *a, const int mb, const int nv, __mmask16 last) {
    __m512i acc[4][4];
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) acc[i][j] = _mm512_setzero_si512();
    for (int p = 0; p < a->groups; p++) {
        const uint32_t *q = a->q + p * a->plane, *wr = a->w + (long)p * a->taps;
        for (int t = 0; t < a->taps; t++) {
            const uint32_t *row = q + a->tapoff[t];
            __m512i v[4];
            for (int j = 0; j < nv; j++)
                v[j] = j == nv - 1 ? _mm512_maskz_loadu_epi32(last, row + 16 * j) : _mm512_loadu_si512(row + 16 * j);
            for (int i = 0; i < mb; i++) {
                __m512i b = _mm512_set1_epi32((int)wr[i * a->wstride + t]);
                for (int j = 0; j < nv; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], v[j], b);
            }
        }
    }
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++)
            _mm_mask_storeu_epi8((uint8_t *)a->out + i * a->oplane + 16 * j, j == nv - 1 ? last : 0xFFFF,
                                 requantise(acc[i][j], a->epilogue, a->m0 + i));
}

#define TILE(MB, NV) case (MB) * 8 + (NV): tile(a, MB, NV, last); break;
#define TILES(MB) TILE(MB, 1) TILE(MB, 2) TILE(MB, 3) TILE(MB, 4)
static TARGET_VNNI void tiles(const plane_tile *a, int mb, int nv, __mmask16 last) {
    switch (mb * 8 + nv) { TILES(1) TILES(2) TILES(3) TILES(4) }
}

void cp_int8_conv2d(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const cp_requant *r,
                    void *out, int y0, int y1) {
    if (!cp_int8_conv_available()) return;
    cp_plane_walk(q, l, w, m, r, out, 1, y0, y1, tiles);
}
