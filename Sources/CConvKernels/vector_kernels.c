#include "conv_kernels.h"

#include <immintrin.h>

#pragma STDC FP_CONTRACT OFF

/* Row kernels of the runtime's Swift loops, in the CPU's widest lanes (Swift compiles its SIMD
 * types for the baseline x86-64, i.e. 4-lane SSE). A multiply, then an add: the same rounding as
 * the scalar loops, so results do not depend on the instruction set. */

#define TARGET_AVX512 __attribute__((target("avx512f")))
#define TARGET_AVX2 __attribute__((target("avx2")))

static TARGET_AVX512 void add_scaled512(float a, const float *x, float *y, long n) {
    const __m512 k = _mm512_set1_ps(a);
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_mul_ps(k, _mm512_loadu_ps(x + i))));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), _mm512_mul_ps(k, _mm512_maskz_loadu_ps(m, x + i))));
    }
}

static TARGET_AVX2 void add_scaled256(float a, const float *x, float *y, long n) {
    const __m256 k = _mm256_set1_ps(a);
    long i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(k, _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

void cp_add_scaled(float a, const float *x, float *y, long n, int isa) {
    switch (isa) {
    case CP_ISA_AVX512: add_scaled512(a, x, y, n); return;
    case CP_ISA_AVX2: add_scaled256(a, x, y, n); return;
    default:
        for (long i = 0; i < n; i++) y[i] += a * x[i];
    }
}

static TARGET_AVX512 void pass_between512(const float *g, const float *v, float lo, float hi, float *out, long n) {
    const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 value = _mm512_loadu_ps(v + i);
        const __mmask16 keep = _mm512_cmp_ps_mask(value, l, _CMP_GT_OQ) & _mm512_cmp_ps_mask(value, h, _CMP_LT_OQ);
        _mm512_storeu_ps(out + i, _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(g + i)));
    }
    for (; i < n; i++) out[i] = v[i] > lo && v[i] < hi ? g[i] : 0;
}

static TARGET_AVX2 void pass_between256(const float *g, const float *v, float lo, float hi, float *out, long n) {
    const __m256 l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 value = _mm256_loadu_ps(v + i);
        const __m256 keep = _mm256_and_ps(_mm256_cmp_ps(value, l, _CMP_GT_OQ), _mm256_cmp_ps(value, h, _CMP_LT_OQ));
        _mm256_storeu_ps(out + i, _mm256_and_ps(keep, _mm256_loadu_ps(g + i)));
    }
    for (; i < n; i++) out[i] = v[i] > lo && v[i] < hi ? g[i] : 0;
}

void cp_pass_between(const float *g, const float *v, float lo, float hi, float *out, long n, int isa) {
    switch (isa) {
    case CP_ISA_AVX512: pass_between512(g, v, lo, hi, out, n); return;
    case CP_ISA_AVX2: pass_between256(g, v, lo, hi, out, n); return;
    default:
        for (long i = 0; i < n; i++) out[i] = v[i] > lo && v[i] < hi ? g[i] : 0;
    }
}
