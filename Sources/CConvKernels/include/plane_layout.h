#ifndef CNNPIPE_PLANE_LAYOUT_H
#define CNNPIPE_PLANE_LAYOUT_H

/* The input of the bf16 and int8 direct convolutions, rewritten as planes of 32-bit words that each
 * hold the narrow values one weight word multiplies (bf16 pairs, byte quads): which values, and where
 * each kernel tap reads. */
typedef struct {
    int column_pairs;   /* 1: a word holds neighbouring columns of one channel (bf16, stride 1), so
                         * taps run every other column; 0: neighbouring channels */
    int groups;         /* planes: channel pairs or quads, or channels with column pairs */
    int taps;           /* weight words per plane and output channel */
    int phases;         /* column phases (the column stride), or 1 with column pairs */
    int qw;             /* words per phase row */
    int ih, iw;         /* the (padded) input the planes hold */
    int kh, kw, sy, sx;
    long plane;         /* words per plane: ih · phases · qw */
} cp_plane_layout;

#endif
