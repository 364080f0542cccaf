#ifndef CNNPIPE_CONV_KERNELS_H
#define CNNPIPE_CONV_KERNELS_H

/* Direct 2-D convolution kernels for the layers im2col + sgemm serves badly: few input channels
 * (the column matrix is mostly copying) or few output channels (a thin matrix product). */

enum {
    CP_ISA_SCALAR = 0,
    CP_ISA_AVX2 = 1,     /* AVX2 + FMA, 8 lanes */
    CP_ISA_AVX512 = 2    /* AVX-512F, 16 lanes */
};

/* The widest of the above this CPU runs. */
int cp_conv_best_isa(void);

/* Whether cp_direct_conv2d runs strides (sy, sx) on `isa`: any on scalar, sx ≤ 2 on AVX-512, sx = 1 on AVX2. */
int cp_direct_conv_supports(int isa, int sy, int sx);

/* out[m][y][x] = Σ_c Σ_ky Σ_kx w[m][c][ky][kx] · x[c][y·sy + ky][x·sx + kx] for output rows y0 ..< y1:
 * dilation 1, no padding (pad the input first). x: [c, ih, iw]; w: [m, c, kh, kw];
 * out: [m, (ih - kh) / sy + 1, (iw - kw) / sx + 1]. `isa` is one of CP_ISA_* that the CPU supports;
 * strides it does not support (cp_direct_conv_supports) leave `out` untouched. */
void cp_direct_conv2d(const float *x, int c, int ih, int iw,
                      const float *w, int m, int kh, int kw, int sy, int sx,
                      float *out, int y0, int y1, int isa);

/* y[i] += a · x[i] for i < n (a multiply, then an add). */
void cp_add_scaled(float a, const float *x, float *y, long n, int isa);

/* out[i] = g[i] where lo < v[i] < hi, else 0 (a Relu's or Clip's gradient). */
void cp_pass_between(const float *g, const float *v, float lo, float hi, float *out, long n, int isa);

/* Elementwise kernels (elementwise_kernels.c): the Swift loops' exact arithmetic in wider lanes. */
#include <stdint.h>

enum { CP_ADD = 0, CP_SUB = 1, CP_MUL = 2, CP_DIV = 3 };

/* o[i] = a[i·sa] op b[i·sb] for i < n; sa and sb are 1, or 0 for a scalar. */
void cp_binary(int op, const float *a, long sa, const float *b, long sb, float *o, long n, int isa);

/* o[i] = max(v[i], 0) (Swift's max: NaN stays NaN, -0 becomes +0). */
void cp_relu(const float *v, float *o, long n, int isa);

/* o[i] = (clamp(round_half_even(p[i] / scale) + zero_point, lo, hi) - zero_point) · scale. */
void cp_fake_quant(const float *p, float *o, long n, float scale, float zero_point, float lo, float hi, int isa);

/* o[i] = saturate(round_half_even(p[i] / scale) + zero_point). */
void cp_quantize_s8(const float *p, int8_t *o, long n, float scale, int32_t zero_point, int isa);
void cp_quantize_u8(const float *p, uint8_t *o, long n, float scale, int32_t zero_point, int isa);

/* o[i] = 1 / (1 + e^(-x[i])) with VectorMath.exp's polynomial (the Swift loop's bits). */
void cp_sigmoid(const float *x, float *o, long n, int isa);

/* d[j] = ((s[j] - mean) · rstd) · g + b, plus a[j] when a is not NULL, else max(…, 0) when relu. */
void cp_norm_row(const float *s, float *d, long n, float mean, float rstd, float g, float b, const float *a, int relu, int isa);

/* Σ p[i] and Σ (p[i] - mean)² in Double, in accurateSum's order (eight lanes, then the tail). */
double cp_sum(const float *p, long n, int isa);
double cp_squared_deviations(const float *p, long n, float mean, int isa);

/* o[i] = (q[i] - zero_point) · scale. */
void cp_dequantize_s8(const int8_t *q, float *o, long n, float scale, int32_t zero_point, int isa);
void cp_dequantize_u8(const uint8_t *q, float *o, long n, float scale, int32_t zero_point, int isa);

/* glibc: blocks below mmap_threshold bytes come from the heap, and up to trim_threshold bytes of free
 * heap stay with the process (HeapReuse.swift says why). 1 when set, 0 elsewhere. */
int cp_keep_freed_blocks(long mmap_threshold, long trim_threshold);

#endif
