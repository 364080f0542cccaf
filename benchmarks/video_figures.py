#!/usr/bin/env python3
"""Figures for video-stability.sh.

    video_figures.py strip FRAME_BY_FRAME.ppm STABLE.ppm OUT.png [--start N] [--count 5]
        consecutive frames side by side, frame-by-frame above, stable below (PPM streams as
        video_warping_error.py reads them); the default start is the middle of the clip.
    video_figures.py plot OFF.txt STABLE.txt OUT.svg [--title T]
        the per-frame warping errors (one value per line, nan for a scene cut) of both modes as
        an SVG line plot.
"""
import argparse
import math

import cv2
import numpy as np

from video_warping_error import read_ppm_stream


def strip(args):
    off, stable = read_ppm_stream(args.off), read_ppm_stream(args.stable)
    start = args.start if args.start is not None else max(0, len(off) // 2 - args.count // 2)
    rows = [np.concatenate(frames[start:start + args.count], axis=1) for frames in (off, stable)]
    cv2.imwrite(args.out, cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


def plot(args):
    series = [("frame by frame", "#c0392b", [float(v) for v in open(args.off)]),
              ("temporal=stable", "#2471a3", [float(v) for v in open(args.stable)])]
    width, height, left, bottom, top, right = 640, 300, 60, 40, 30, 20
    n = max(len(values) for _, _, values in series)
    top_value = max(v for _, _, values in series for v in values if not math.isnan(v)) * 1.1
    def x(i): return left + (width - left - right) * i / max(1, n - 1)
    def y(v): return height - bottom - (height - top - bottom) * v / top_value
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18">{args.title}</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
           f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">frame pair</text>']
    for k in range(5):
        v = top_value * k / 4
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.4f}</text>')
    for i in range(0, n, max(1, n // 8)):
        out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">{i + 1}</text>')
    for row, (label, colour, values) in enumerate(series):
        runs, current = [], []
        for i, v in enumerate(values):
            if math.isnan(v):
                runs, current = runs + [current], []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        for points in runs + [current]:
            if points:
                out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>')
        out.append(f'<text x="{width - right - 130}" y="{top + 16 * (row + 1)}" fill="{colour}">{label}</text>')
    out.append("</svg>")
    open(args.out, "w").write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strip")
    s.add_argument("off"), s.add_argument("stable"), s.add_argument("out")
    s.add_argument("--start", type=int), s.add_argument("--count", type=int, default=5)
    p = sub.add_parser("plot")
    p.add_argument("off"), p.add_argument("stable"), p.add_argument("out")
    p.add_argument("--title", default="warping error per frame pair")
    args = ap.parse_args()
    strip(args) if args.command == "strip" else plot(args)


if __name__ == "__main__":
    main()
