#ifndef CNNPIPE_ELEMENTWISE_KERNELS_H
#define CNNPIPE_ELEMENTWISE_KERNELS_H

/* The runtime's elementwise loops (elementwise_kernels.c): the Swift expressions' exact arithmetic in
 * the CPU's widest lanes. `isa` is one of CP_ISA_* (conv_kernels.h) that the CPU supports. */

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

/* Σ p[i], Σ p[i]² and Σ (p[i] - mean)² in Double, in accurateSum's order (eight lanes, then the tail). */
double cp_sum(const float *p, long n, int isa);
double cp_sum_of_squares(const float *p, long n, int isa);
double cp_squared_deviations(const float *p, long n, float mean, int isa);
/* lanes[k] += p[8i + k] over the whole groups of eight; returns the count used (a multiple of 8). */
long cp_add_to_lanes(const float *p, long n, double *lanes, int isa);

/* o[i] = (q[i] - zero_point) · scale. */
void cp_dequantize_s8(const int8_t *q, float *o, long n, float scale, int32_t zero_point, int isa);
void cp_dequantize_u8(const uint8_t *q, float *o, long n, float scale, int32_t zero_point, int isa);

#endif
