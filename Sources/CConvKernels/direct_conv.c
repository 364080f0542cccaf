#include "conv_kernels.h"
#include "plane_walk.h"

#include <immintrin.h>
#include <stdlib.h>

/* One tile: `mb` output channels × `nv` vectors of output pixels along one output row, accumulated
 * in registers over every input channel and kernel tap. mb and nv are constants at every call site
 * (the switch in tiles*), so the compiler unrolls the loops and keeps acc in registers. The last
 * vector is loaded and stored through `last`, so a row's tail never reads or writes past it. */

#define TARGET_AVX512 __attribute__((target("avx512f")))
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

typedef struct {
    const float *x;      /* input at (channel 0, row y, column x0) */
    long plane;          /* ih · iw */
    int iw;              /* floats per input row */
    const long *kxoff;   /* where tap kx reads in a row, from the output column (kx; or with the columns
                          * split into even and odd halves for stride 2, its place there) */
    const float *w;      /* weights of the tile's first output channel */
    long wstride;        /* c · kh · kw */
    int c, kh, kw;
    float *out;          /* output at (tile's first channel, row y, column x0) */
    long oplane;         /* oh · ow */
} tile_args;

INLINE TARGET_AVX512 void tile512(const tile_args *a, const int mb, const int nv, __mmask16 last) {
    __m512 acc[4][4];
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) acc[i][j] = _mm512_setzero_ps();
    for (int ci = 0; ci < a->c; ci++) {
        for (int ky = 0; ky < a->kh; ky++) {
            const float *row = a->x + ci * a->plane + (long)ky * a->iw;
            const float *wr = a->w + ((long)ci * a->kh + ky) * a->kw;
            for (int kx = 0; kx < a->kw; kx++) {
                __m512 v[4];
                const float *p = row + a->kxoff[kx];
                for (int j = 0; j < nv; j++)
                    v[j] = j == nv - 1 ? _mm512_maskz_loadu_ps(last, p + 16 * j) : _mm512_loadu_ps(p + 16 * j);
                for (int i = 0; i < mb; i++) {
                    __m512 b = _mm512_set1_ps(wr[i * a->wstride + kx]);
                    for (int j = 0; j < nv; j++) acc[i][j] = _mm512_fmadd_ps(v[j], b, acc[i][j]);
                }
            }
        }
    }
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++)
            _mm512_mask_storeu_ps(a->out + i * a->oplane + 16 * j, j == nv - 1 ? last : 0xFFFF, acc[i][j]);
}

/* Tiles of up to 4 channels × 4 vectors; a constant shape per case, so the loops unroll and acc
 * stays in registers. */
#define TILE(MB, NV) case (MB) * 8 + (NV): tile512(a, MB, NV, last); break;
#define TILES4(MB) TILE(MB, 1) TILE(MB, 2) TILE(MB, 3) TILE(MB, 4)
static TARGET_AVX512 void tiles512(const tile_args *a, int mb, int nv, __mmask16 last) {
    switch (mb * 8 + nv) { TILES4(1) TILES4(2) TILES4(3) TILES4(4) }
}

INLINE TARGET_AVX2 void tile256(const tile_args *a, const int mb, const int nv, __m256i last) {
    __m256 acc[4][2];
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) acc[i][j] = _mm256_setzero_ps();
    for (int ci = 0; ci < a->c; ci++) {
        for (int ky = 0; ky < a->kh; ky++) {
            const float *row = a->x + ci * a->plane + (long)ky * a->iw;
            const float *wr = a->w + ((long)ci * a->kh + ky) * a->kw;
            for (int kx = 0; kx < a->kw; kx++) {
                __m256 v[2];
                for (int j = 0; j < nv; j++)
                    v[j] = j == nv - 1 ? _mm256_maskload_ps(row + a->kxoff[kx] + 8 * j, last)
                                       : _mm256_loadu_ps(row + a->kxoff[kx] + 8 * j);
                for (int i = 0; i < mb; i++) {
                    __m256 b = _mm256_broadcast_ss(wr + i * a->wstride + kx);
                    for (int j = 0; j < nv; j++) acc[i][j] = _mm256_fmadd_ps(v[j], b, acc[i][j]);
                }
            }
        }
    }
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) {
            float *o = a->out + i * a->oplane + 8 * j;
            if (j == nv - 1) _mm256_maskstore_ps(o, last, acc[i][j]); else _mm256_storeu_ps(o, acc[i][j]);
        }
}

#define CASE256(MB, NV) case (MB) * 8 + (NV): tile256(a, MB, NV, last); break;
static TARGET_AVX2 void tiles256(const tile_args *a, int mb, int nv, __m256i last) {
    switch (mb * 8 + nv) {
        CASE256(1, 1) CASE256(1, 2) CASE256(2, 1) CASE256(2, 2)
        CASE256(3, 1) CASE256(3, 2) CASE256(4, 1) CASE256(4, 2)
    }
}

/* Output rows y0 ..< y1 of `ow` columns; a.x holds input rows from y0 · sy on, read at a.kxoff. */
static TARGET_AVX512 void conv512(tile_args a, int m, int ow, int sy, int y0, int y1) {
    const float *x = a.x, *w = a.w;
    float *out = a.out;
    const long orow = ow;
    for (int y = y0; y < y1; y++) {
        for (int m0 = 0; m0 < m; m0 += 4) {
            int mb = m - m0 < 4 ? m - m0 : 4;
            a.w = w + m0 * a.wstride;
            for (int x0 = 0; x0 < ow; x0 += 64) {
                int rest = ow - x0 < 64 ? ow - x0 : 64;
                int nv = (rest + 15) / 16, tail = rest - 16 * (nv - 1);
                a.x = x + (long)(y - y0) * sy * a.iw + x0;
                a.out = out + m0 * a.oplane + y * orow + x0;
                tiles512(&a, mb, nv, cp_first_lanes(tail));
            }
        }
    }
}

/* Stride 2 along rows on AVX-512: bands of output rows whose input rows are first copied with each
 * row's even columns ahead of its odd ones, so that 16 output pixels read 16 consecutive floats
 * (a band's copy stays in L2). The sums are the same, in the same order. */
static TARGET_AVX512 void conv512_stride2(tile_args a, int m, int ow, int sy, int y0, int y1) {
    const int iw = a.iw, half = (iw + 1) / 2, rowlen = 2 * half;
    const long per_row = (long)a.c * rowlen * (long)sizeof(float);
    int band = (int)((512 * 1024 / per_row - a.kh) / sy + 1);
    if (band < 1) band = 1;
    if (band > y1 - y0) band = y1 - y0;
    const int rows = (band - 1) * sy + a.kh;
    float *split = cp_must_alloc((size_t)per_row * (size_t)rows);
    const float *x = a.x;
    const long plane = a.plane;
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    for (int b0 = y0; b0 < y1; b0 += band) {
        int b1 = b0 + band < y1 ? b0 + band : y1, r0 = b0 * sy, n = (b1 - 1 - b0) * sy + a.kh;
        for (int ci = 0; ci < a.c; ci++)
            for (int r = 0; r < n; r++) {
                const float *src = x + ci * plane + (long)(r0 + r) * iw;
                float *even = split + ((long)ci * rows + r) * rowlen, *odd = even + half;
                for (int j = 0; j < half; j += 16) {     /* 32 columns from 2j: 16 even, 16 odd */
                    __m512 lo = _mm512_maskz_loadu_ps(cp_first_lanes(iw - 2 * j), src + 2 * j);
                    __m512 hi = _mm512_maskz_loadu_ps(cp_first_lanes(iw - 2 * j - 16), src + 2 * j + 16);
                    __mmask16 store = cp_first_lanes(half - j);
                    _mm512_mask_storeu_ps(even + j, store, _mm512_permutex2var_ps(lo, evens, hi));
                    _mm512_mask_storeu_ps(odd + j, store, _mm512_permutex2var_ps(lo, odds, hi));
                }
            }
        tile_args t = a;
        t.x = split; t.plane = (long)rows * rowlen; t.iw = rowlen;
        conv512(t, m, ow, sy, b0, b1);
    }
    free(split);
}

static TARGET_AVX2 void conv256(tile_args a, int m, int ow, int sy, int y0, int y1) {
    const float *x = a.x, *w = a.w;
    float *out = a.out;
    const long orow = ow;
    for (int y = y0; y < y1; y++) {
        for (int m0 = 0; m0 < m; m0 += 4) {
            int mb = m - m0 < 4 ? m - m0 : 4;
            a.w = w + m0 * a.wstride;
            for (int x0 = 0; x0 < ow; x0 += 16) {
                int rest = ow - x0 < 16 ? ow - x0 : 16;
                int nv = (rest + 7) / 8, tail = rest - 8 * (nv - 1);
                int lanes[8];
                for (int l = 0; l < 8; l++) lanes[l] = l < tail ? -1 : 0;
                a.x = x + (long)(y - y0) * sy * a.iw + x0;
                a.out = out + m0 * a.oplane + y * orow + x0;
                tiles256(&a, mb, nv, _mm256_loadu_si256((const __m256i *)lanes));
            }
        }
    }
}

static void conv_scalar(tile_args a, int m, int ow, int sy, int sx, int y0, int y1) {
    for (int mo = 0; mo < m; mo++)
        for (int y = y0; y < y1; y++)
            for (int xo = 0; xo < ow; xo++) {
                float s = 0;
                for (int ci = 0; ci < a.c; ci++)
                    for (int ky = 0; ky < a.kh; ky++)
                        for (int kx = 0; kx < a.kw; kx++)
                            s += a.w[mo * a.wstride + ((long)ci * a.kh + ky) * a.kw + kx]
                                 * a.x[ci * a.plane + (long)(y * sy + ky) * a.iw + xo * sx + kx];
                a.out[mo * a.oplane + (long)y * ow + xo] = s;
            }
}

int cp_conv_best_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return CP_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CP_ISA_AVX2;
    return CP_ISA_SCALAR;
}

int cp_direct_conv_supports(int isa, int sy, int sx) {
    if (sy < 1 || sx < 1) return 0;
    switch (isa) {
    case CP_ISA_AVX512: return sx <= 2;
    case CP_ISA_AVX2: return sx == 1;
    default: return 1;
    }
}

void cp_direct_conv2d(const float *x, int c, int ih, int iw, const float *w, int m, int kh, int kw,
                      int sy, int sx, float *out, int y0, int y1, int isa) {
    if (!cp_direct_conv_supports(isa, sy, sx) || ih < kh || iw < kw) return;
    int oh = (ih - kh) / sy + 1, ow = (iw - kw) / sx + 1;
    if (y1 > oh) y1 = oh;
    if (y0 >= y1) return;
    /* Where tap kx reads: kx, or for stride 2 (AVX-512) its place in a row split into even and odd halves. */
    const int split = isa == CP_ISA_AVX512 && sx == 2, half = (iw + 1) / 2;
    long *kxoff = cp_must_alloc(sizeof(long) * (size_t)kw);
    for (int kx = 0; kx < kw; kx++) kxoff[kx] = split ? (long)(kx & 1) * half + (kx >> 1) : kx;
    tile_args a = { x, (long)ih * iw, iw, kxoff, w, (long)c * kh * kw, c, kh, kw, out, (long)oh * ow };
    if (isa != CP_ISA_SCALAR && sx == 1) a.x = x + (long)y0 * sy * iw;
    switch (isa) {
    case CP_ISA_AVX512:
        if (split) conv512_stride2(a, m, ow, sy, y0, y1); else conv512(a, m, ow, sy, y0, y1);
        break;
    case CP_ISA_AVX2: conv256(a, m, ow, sy, y0, y1); break;
    default: conv_scalar(a, m, ow, sy, sx, y0, y1); break;
    }
    free(kxoff);
}
