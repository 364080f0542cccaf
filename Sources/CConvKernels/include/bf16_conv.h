#ifndef CNNPIPE_BF16_CONV_H
#define CNNPIPE_BF16_CONV_H

#include <stdint.h>

#include "plane_layout.h"

/* Direct 2-D convolution in bfloat16 with float32 sums (AVX-512 BF16's vdpbf16ps), on the same
 * tiles as cp_direct_conv2d: output channels × 16-pixel vectors along an output row, NCHW in and
 * out, so nothing is reordered around it.
 *
 * vdpbf16ps multiplies pairs of bf16 values, so the input is first rewritten as a "pair plane" of
 * 32-bit words, each holding two bf16 values that meet the two halves of one weight word:
 * - channel pairs: word = (x[2p][y][col], x[2p+1][y][col]), every tap (ky, kx) of the kernel;
 *   with column stride sx the plane is split into sx column phases so that 16 output pixels read
 *   16 consecutive words;
 * - column pairs (stride 1 only): word = (x[c][y][col], x[c][y][col + 1]), taps kx = 0, 2, 4, …
 *   (a 9×9 kernel over 3 channels is 3 · 9 · 5 words instead of 2 · 9 · 9).
 * Whichever needs fewer words per output is used. bf16 values are float32 rounded to nearest even.
 * With column pairs and an odd kernel width the last tap's word also holds the column after the
 * kernel, with weight 0: an infinite input there makes that output NaN (0 · ∞), where the exact
 * convolution would not read it. */


/* Whether this CPU has AVX-512 BF16 (the only ISA the kernel is written for). */
int cp_bf16_conv_available(void);

/* The layout for c channels of an input of ih × iw after padding, kernel kh × kw, strides sy, sx.
 * Returns 0 when the kernel does not run that convolution (sx > 2, or sizes out of range). */
int cp_bf16_layout_for(int c, int ih, int iw, int kh, int kw, int sy, int sx, cp_plane_layout *l);

/* Weights w [m][c][kh][kw] (float32) as weight words [m][groups][taps]. */
void cp_bf16_pack_weights(const float *w, int m, int c, const cp_plane_layout *l, uint32_t *out);

/* Rows y0 ..< y1 of the pair plane q [groups][ih][phases][qw] from x [c][h][w] (float32), zero
 * outside x: the padded input has x at row `top`, column `left`. */
void cp_bf16_pair_rows(const float *x, int c, int h, int w, int top, int left, const cp_plane_layout *l,
                       uint32_t *q, int y0, int y1);

/* out[m][y][x] = bias[m] + Σ over pairs and taps of packed weights · pair plane (bias NULL: 0),
 * clamped to [lo, hi] when `clamp` (a fused Relu or Clip), for output rows y0 ..< y1
 * (out: [m, (ih - kh) / sy + 1, (iw - kw) / sx + 1]). Does nothing without AVX-512 BF16. */
void cp_bf16_conv2d(const uint32_t *q, const cp_plane_layout *l, const uint32_t *w, int m, const float *bias,
                    int clamp, float lo, float hi, float *out, int y0, int y1);

#endif
