#ifndef CNNPIPE_CONV_KERNELS_H
#define CNNPIPE_CONV_KERNELS_H

/* Direct 2-D convolution kernels for the layers im2col + sgemm serves badly: few input channels
 * (the column matrix is mostly copying) or few output channels (a thin matrix product).
 * Their bf16 and int8 twins: bf16_conv.h, int8_conv.h (on plane_layout.h). (Naming them here also makes
 * an existing build's module cache notice the new headers: clang does not rescan an umbrella directory.) */

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

#endif
