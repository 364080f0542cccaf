#ifndef CNNPIPE_INT8_CONV_H
#define CNNPIPE_INT8_CONV_H

#include <stdint.h>

#include "plane_layout.h"

/* Direct 2-D int8 convolution for the thin layers of quantised models (few input or output
 * channels, where oneDNN pads channels to 16 and reorders every map): u8 × s8 products summed
 * exactly in s32 by AVX-512 VNNI's vpdpbusd, requantised in the kernel, NCHW bytes in and out.
 *
 * vpdpbusd multiplies groups of four bytes, so the input is first rewritten as a "quad plane" of
 * 32-bit words holding four neighbouring channels at one pixel, (x[4p], x[4p+1], x[4p+2], x[4p+3]);
 * with column stride sx the plane is split into sx column phases so that 16 output pixels read 16
 * consecutive words. Signed inputs are read as unsigned by adding 128 (the zero point with them). */

/* How the s32 sums become output bytes, per output channel m:
 *   v = (float)(sum − offset[m]) + bias[m], times scale[m], clamped to [low, high] when `clamp`,
 *   rounded to nearest even, plus zero_point, saturated to s8 (is_signed) or u8. */
typedef struct {
    const float *scale;      /* m values */
    const float *bias;       /* m values, or NULL */
    const int32_t *offset;   /* m values: the input zero point (as read, unsigned) · Σ weights */
    int clamp;
    float low, high;
    int zero_point;
    int is_signed;
} cp_requant;

/* Whether this CPU has AVX-512 VNNI (the only ISA the kernel is written for). */
int cp_int8_conv_available(void);

/* The layout for c channels of an input of ih × iw after padding, kernel kh × kw, strides sy, sx.
 * Returns 0 when the kernel does not run that convolution (sx > 2, or sizes out of range). */
int cp_int8_layout_for(int c, int ih, int iw, int kh, int kw, int sy, int sx, cp_plane_layout *l);

/* Weights w [m][c][kh][kw] as weight words [m][groups][taps] (missing channels weigh 0), and
 * sums[m] = Σ w[m]. */
void cp_int8_pack_weights(const int8_t *w, int m, int c, const cp_plane_layout *l, uint32_t *out, int32_t *sums);

/* Rows y0 ..< y1 of the quad plane q [groups][ih][phases][qw] from bytes x [c][h][w]; `flip` adds 128
 * to each byte (signed input), the padded input has x at row `top`, column `left` and `fill` (as read)
 * around it. */
void cp_int8_quad_rows(const uint8_t *x, int c, int h, int w, int top, int left, int flip, uint8_t fill,
                       const cp_plane_layout *l, uint32_t *q, int y0, int y1);

/* Output rows y0 ..< y1 of out [m, (ih − kh) / sy + 1, (iw − kw) / sx + 1] (bytes), requantised as `r`
 * says. Does nothing without AVX-512 VNNI. */
void cp_int8_conv2d(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const cp_requant *r,
                    void *out, int y0, int y1);

#endif
