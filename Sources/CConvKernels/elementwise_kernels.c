#include "conv_kernels.h"
#include "elementwise_kernels.h"

#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

/* Elementwise loops of the runtime (chain links, quantisation) compiled three times: for AVX-512,
 * AVX2 and the baseline, chosen by `isa` at run time. Each loop is plain C that the compiler
 * vectorises; the expressions are those of the Swift kernels, operation for operation (no FMA, no
 * reciprocal), and min/max are Swift's (`smin`, `smax`: the same operand returned for NaN and for
 * ±0), so every instruction set gives the Swift loop's bits. */

/* The loops tell the compiler to vectorise without overlap checks: an output is either its input
 * itself (in place) or disjoint from it, and element i is read before it is written either way. */
#define VECTORISE _Pragma("clang loop vectorize(assume_safety)")

#define INLINE static inline __attribute__((always_inline))
#define TARGET_AVX512 __attribute__((target("avx512f")))
#define TARGET_AVX2 __attribute__((target("avx2,fma")))

/* Swift's min(x, y) and max(x, y). */
INLINE float smin(float x, float y) { return y < x ? y : x; }
INLINE float smax(float x, float y) { return y >= x ? y : x; }

/* 1.5·2²³: adding and subtracting it rounds half to even (exact for |v| < 2²²). */
static const float magic = 12582912.0f;

/* One entry point per kernel: `name` calls name##_loop compiled for the ISA asked for. */
#define DISPATCH(name, params, args)                                        \
    static TARGET_AVX512 void name##_avx512 params { name##_loop args; }    \
    static TARGET_AVX2 void name##_avx2 params { name##_loop args; }        \
    static void name##_scalar params { name##_loop args; }

/* The same for loops that return a value. */
#define DISPATCH_RETURNING(type, name, params, args)                              \
    static TARGET_AVX512 type name##_avx512 params { return name##_loop args; }   \
    static TARGET_AVX2 type name##_avx2 params { return name##_loop args; }       \
    static type name##_scalar params { return name##_loop args; }

#define CALL_RETURNING(name, isa, args)                     \
    switch (isa) {                                          \
    case CP_ISA_AVX512: return name##_avx512 args;          \
    case CP_ISA_AVX2: return name##_avx2 args;              \
    default: return name##_scalar args;                     \
    }

#define CALL(name, isa, args)                               \
    switch (isa) {                                          \
    case CP_ISA_AVX512: name##_avx512 args; return;         \
    case CP_ISA_AVX2: name##_avx2 args; return;             \
    default: name##_scalar args; return;                    \
    }

/* Binary ops with a's and b's strides 1 or 0 (a scalar). */
#define BINARY_LOOP(opname, expr)                                                                       \
    INLINE void opname##_loop(const float *a, long sa, const float *b, long sb,       \
                              float *o, long n) {                                              \
        if (sa == 1 && sb == 1) { VECTORISE for (long i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = expr; } } \
        else if (sa == 1) { const float y = b[0]; VECTORISE for (long i = 0; i < n; i++) { float x = a[i]; o[i] = expr; } } \
        else { const float x = a[0]; VECTORISE for (long i = 0; i < n; i++) { float y = b[i]; o[i] = expr; } }       \
    }                                                                                                   \
    DISPATCH(opname, (const float *a, long sa, const float *b, long sb, float *o, long n), (a, sa, b, sb, o, n))

BINARY_LOOP(add, x + y)
BINARY_LOOP(sub, x - y)
BINARY_LOOP(mul, x * y)
BINARY_LOOP(divide, x / y)

void cp_binary(int op, const float *a, long sa, const float *b, long sb, float *o, long n, int isa) {
    if (sa == 0 && sb == 0) {
        /* Both scalars: one value, computed once (as the Swift loop does). */
        float v = op == CP_ADD ? a[0] + b[0] : op == CP_SUB ? a[0] - b[0] : op == CP_MUL ? a[0] * b[0] : a[0] / b[0];
        for (long i = 0; i < n; i++) o[i] = v;
        return;
    }
    switch (op) {
    case CP_ADD: CALL(add, isa, (a, sa, b, sb, o, n))
    case CP_SUB: CALL(sub, isa, (a, sa, b, sb, o, n))
    case CP_MUL: CALL(mul, isa, (a, sa, b, sb, o, n))
    default: CALL(divide, isa, (a, sa, b, sb, o, n))
    }
}

INLINE void relu_loop(const float *v, float *o, long n) {
    VECTORISE for (long i = 0; i < n; i++) o[i] = smax(v[i], 0.0f);
}
DISPATCH(relu, (const float *v, float *o, long n), (v, o, n))

void cp_relu(const float *v, float *o, long n, int isa) { CALL(relu, isa, (v, o, n)) }

INLINE void fake_quant_loop(const float *p, float *o, long n, float s, float z, float lo, float hi) {
    const float vlo = lo - z - 1, vhi = hi - z + 1;
    VECTORISE for (long i = 0; i < n; i++) {
        const float v = smin(smax(p[i] / s, vlo), vhi);
        const float q = smin(smax(((v + magic) - magic) + z, lo), hi);
        o[i] = (q - z) * s;
    }
}
DISPATCH(fake_quant, (const float *p, float *o, long n, float s, float z, float lo, float hi), (p, o, n, s, z, lo, hi))

void cp_fake_quant(const float *p, float *o, long n, float scale, float zero_point, float lo, float hi, int isa) {
    CALL(fake_quant, isa, (p, o, n, scale, zero_point, lo, hi))
}

/* The byte is the low bits of v + magic (an integer in [lo, hi] + 1.5·2²³). */
#define QUANTIZE_LOOP(name, type, lo, hi)                                                               \
    INLINE void name##_loop(const float *p, type *o, long n, float scale, int32_t zp) { \
        const float z = (float)zp, vlo = (lo) - z - 1, vhi = (hi) - z + 1;                              \
        VECTORISE for (long i = 0; i < n; i++) {                                                        \
            const float v = smin(smax(p[i] / scale, vlo), vhi);                                         \
            const float q = smin(smax((v + magic) + z, (lo) + magic), (hi) + magic);                    \
            uint32_t bits;                                                                              \
            memcpy(&bits, &q, 4);                                                                       \
            o[i] = (type)(uint8_t)bits;   /* the low byte */                                                                          \
        }                                                                                               \
    }                                                                                                   \
    DISPATCH(name, (const float *p, type *o, long n, float scale, int32_t zp), (p, o, n, scale, zp))

QUANTIZE_LOOP(quantize_s8, int8_t, -128.0f, 127.0f)
QUANTIZE_LOOP(quantize_u8, uint8_t, 0.0f, 255.0f)

void cp_quantize_s8(const float *p, int8_t *o, long n, float scale, int32_t zero_point, int isa) {
    CALL(quantize_s8, isa, (p, o, n, scale, zero_point))
}

void cp_quantize_u8(const float *p, uint8_t *o, long n, float scale, int32_t zero_point, int isa) {
    CALL(quantize_u8, isa, (p, o, n, scale, zero_point))
}

#define DEQUANTIZE_LOOP(name, type)                                                                     \
    INLINE void name##_loop(const type *q, float *o, long n, float scale, int32_t zp) { \
        /* q − zp wraps like Swift's &- (a hostile model's zero point must not be signed overflow). */    \
        VECTORISE for (long i = 0; i < n; i++) o[i] = (float)(int32_t)((uint32_t)(int32_t)q[i] - (uint32_t)zp) * scale; \
    }                                                                                                   \
    DISPATCH(name, (const type *q, float *o, long n, float scale, int32_t zp), (q, o, n, scale, zp))

DEQUANTIZE_LOOP(dequantize_s8, int8_t)
DEQUANTIZE_LOOP(dequantize_u8, uint8_t)

void cp_dequantize_s8(const int8_t *q, float *o, long n, float scale, int32_t zero_point, int isa) {
    CALL(dequantize_s8, isa, (q, o, n, scale, zero_point))
}

void cp_dequantize_u8(const uint8_t *q, float *o, long n, float scale, int32_t zero_point, int isa) {
    CALL(dequantize_u8, isa, (q, o, n, scale, zero_point))
}

/* VectorMath.exp (Cephes' polynomial, 2ⁿ through the exponent bits) with the same constants
 * (bit-checked against the Swift literals) and the same order of operations. */
INLINE float exp_poly(float input) {
    const float x = input != input ? 0.0f : smin(smax(input, -87.3f), 88.3f);
    const float n = __builtin_roundevenf(x * 1.44269504f);
    const float r = x - n * 0.693359375f - n * -2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    p = p * (r * r) + r + 1;
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    const float result = p * scale;
    return input != input ? input : result;
}

INLINE void sigmoid_loop(const float *x, float *o, long n) {
    VECTORISE for (long i = 0; i < n; i++) o[i] = 1 / (1 + exp_poly(-x[i]));
}
DISPATCH(sigmoid, (const float *x, float *o, long n), (x, o, n))

void cp_sigmoid(const float *x, float *o, long n, int isa) { CALL(sigmoid, isa, (x, o, n)) }

/* One row of an instance norm: ((s - mean) · rstd) · g + b, then + a[j] or Relu. */
INLINE void norm_row_loop(const float *s, float *d, long n, float mean, float rstd, float g, float b,
                          const float *a, int relu) {
    if (a) {
        VECTORISE for (long j = 0; j < n; j++) d[j] = ((s[j] - mean) * rstd) * g + b + a[j];
    } else if (relu) {
        VECTORISE for (long j = 0; j < n; j++) d[j] = smax(((s[j] - mean) * rstd) * g + b, 0.0f);
    } else {
        VECTORISE for (long j = 0; j < n; j++) d[j] = ((s[j] - mean) * rstd) * g + b;
    }
}
DISPATCH(norm_row, (const float *s, float *d, long n, float mean, float rstd, float g, float b, const float *a, int relu),
         (s, d, n, mean, rstd, g, b, a, relu))

void cp_norm_row(const float *s, float *d, long n, float mean, float rstd, float g, float b, const float *a, int relu, int isa) {
    CALL(norm_row, isa, (s, d, n, mean, rstd, g, b, a, relu))
}

/* accurateSum and planeMoments' variance: Σ term(x) in eight Double lanes (lane k takes the elements
 * ≡ k mod 8), the lanes added in order as Swift's SIMD8<Double>.sum() does, then the tail one by one. */
INLINE double lane_total(const double *lanes) {
    double total = -0.0;
    for (int k = 0; k < 8; k++) total += lanes[k];
    return total;
}

#define LANE_SUM_LOOP(name, params, term)                                                       \
    INLINE double name##_loop params {                                                          \
        double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                             \
        long i = 0;                                                                             \
        for (; i + 8 <= n; i += 8)                                                              \
            for (int k = 0; k < 8; k++) { const float x = p[i + k]; lanes[k] += (term); }       \
        double total = lane_total(lanes);                                                       \
        for (; i < n; i++) { const float x = p[i]; total += (term); }                           \
        return total;                                                                           \
    }

LANE_SUM_LOOP(sum, (const float *p, long n), (double)x)
LANE_SUM_LOOP(squared_deviations, (const float *p, long n, float mean), (double)((x - mean) * (x - mean)))
LANE_SUM_LOOP(sum_of_squares, (const float *p, long n), (double)x * (double)x)
DISPATCH_RETURNING(double, sum, (const float *p, long n), (p, n))
DISPATCH_RETURNING(double, squared_deviations, (const float *p, long n, float mean), (p, n, mean))
DISPATCH_RETURNING(double, sum_of_squares, (const float *p, long n), (p, n))

double cp_sum(const float *p, long n, int isa) { CALL_RETURNING(sum, isa, (p, n)) }

double cp_sum_of_squares(const float *p, long n, int isa) { CALL_RETURNING(sum_of_squares, isa, (p, n)) }

double cp_squared_deviations(const float *p, long n, float mean, int isa) {
    CALL_RETURNING(squared_deviations, isa, (p, n, mean))
}

/* lanes[k] += p[8i + k] for every whole group of eight; returns how many values that took (the
 * rest is the caller's tail): accurateSum's lanes for a sum that runs over several blocks. */
INLINE long add_to_lanes_loop(const float *p, long n, double *lanes) {
    double acc[8];
    for (int k = 0; k < 8; k++) acc[k] = lanes[k];
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)p[i + k];
    for (int k = 0; k < 8; k++) lanes[k] = acc[k];
    return i;
}
DISPATCH_RETURNING(long, add_to_lanes, (const float *p, long n, double *lanes), (p, n, lanes))

long cp_add_to_lanes(const float *p, long n, double *lanes, int isa) { CALL_RETURNING(add_to_lanes, isa, (p, n, lanes)) }
