#include "conv_kernels.h"

#include <immintrin.h>

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
    int iw;
    const float *w;      /* weights of the tile's first output channel */
    long wstride;        /* c · kh · kw */
    int c, kh, kw;
    float *out;          /* output at (tile's first channel, row y, column x0) */
    long oplane;         /* oh · ow */
} tile_args;

/* The input vector for 16 output pixels from p: 16 consecutive floats, or with stride 2 the even
 * ones of 32, gathered from two loads by a two-source permute. `lo`/`hi` mask the loads so the last
 * vector of a row reads nothing past it. */
INLINE TARGET_AVX512 __m512 input512(const float *p, const int stride2, __mmask16 lo, __mmask16 hi) {
    if (!stride2) return _mm512_maskz_loadu_ps(lo, p);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, p), even, _mm512_maskz_loadu_ps(hi, p + 16));
}

INLINE TARGET_AVX512 void tile512(const tile_args *a, const int mb, const int nv, const int stride2,
                                  __mmask16 lo, __mmask16 hi, __mmask16 last) {
    const int step = stride2 ? 32 : 16;
    __m512 acc[8][4];
    for (int i = 0; i < mb; i++)
        for (int j = 0; j < nv; j++) acc[i][j] = _mm512_setzero_ps();
    for (int ci = 0; ci < a->c; ci++) {
        for (int ky = 0; ky < a->kh; ky++) {
            const float *row = a->x + ci * a->plane + (long)ky * a->iw;
            const float *wr = a->w + ((long)ci * a->kh + ky) * a->kw;
            for (int kx = 0; kx < a->kw; kx++) {
                __m512 v[4];
                for (int j = 0; j < nv; j++)
                    v[j] = j == nv - 1 ? input512(row + kx + step * j, stride2, lo, hi)
                                       : input512(row + kx + step * j, stride2, 0xFFFF, 0xFFFF);
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

/* Tiles of up to 4 channels × 4 vectors, or with stride 2 up to 8 channels × 2 vectors (so each
 * permute feeds 8 FMAs); a constant shape per case, so the loops unroll and acc stays in registers. */
#define TILE(S, MB, NV) case ((S) * 8 + (MB)) * 8 + (NV): tile512(a, MB, NV, S, lo, hi, last); break;
#define TILES4(S, MB) TILE(S, MB, 1) TILE(S, MB, 2) TILE(S, MB, 3) TILE(S, MB, 4)
#define TILES2(S, MB) TILE(S, MB, 1) TILE(S, MB, 2)
static TARGET_AVX512 void tiles512(const tile_args *a, int mb, int nv, int stride2, __mmask16 lo, __mmask16 hi, __mmask16 last) {
    switch ((stride2 * 8 + mb) * 8 + nv) {
        TILES4(0, 1) TILES4(0, 2) TILES4(0, 3) TILES4(0, 4)
        TILES2(1, 1) TILES2(1, 2) TILES2(1, 3) TILES2(1, 4) TILES2(1, 5) TILES2(1, 6) TILES2(1, 7) TILES2(1, 8)
    }
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
                    v[j] = j == nv - 1 ? _mm256_maskload_ps(row + kx + 8 * j, last) : _mm256_loadu_ps(row + kx + 8 * j);
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

static __mmask16 first_lanes(int n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

static TARGET_AVX512 void conv512(tile_args a, int m, int ow, int sy, int sx, int y0, int y1) {
    const float *x = a.x, *w = a.w;
    float *out = a.out;
    const long orow = ow;
    const int channels = sx == 1 ? 4 : 8, pixels = sx == 1 ? 64 : 32;
    for (int y = y0; y < y1; y++) {
        for (int m0 = 0; m0 < m; m0 += channels) {
            int mb = m - m0 < channels ? m - m0 : channels;
            a.w = w + m0 * a.wstride;
            for (int x0 = 0; x0 < ow; x0 += pixels) {
                int rest = ow - x0 < pixels ? ow - x0 : pixels;
                int nv = (rest + 15) / 16, tail = rest - 16 * (nv - 1);
                a.x = x + (long)y * sy * a.iw + (long)x0 * sx;
                a.out = out + m0 * a.oplane + y * orow + x0;
                int need = sx * (tail - 1) + 1;      /* inputs the last vector reads, from its first */
                tiles512(&a, mb, nv, sx == 2, first_lanes(need), first_lanes(need - 16), first_lanes(tail));
            }
        }
    }
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
                a.x = x + (long)y * sy * a.iw + x0;
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
    tile_args a = { x, (long)ih * iw, iw, w, (long)c * kh * kw, c, kh, kw, out, (long)oh * ow };
    switch (isa) {
    case CP_ISA_AVX512: conv512(a, m, ow, sy, sx, y0, y1); break;
    case CP_ISA_AVX2: conv256(a, m, ow, sy, y0, y1); break;
    default: conv_scalar(a, m, ow, sy, sx, y0, y1); break;
    }
}
