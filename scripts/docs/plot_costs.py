#!/usr/bin/env python3
"""Draws the cost curves of stylize-classic's costs-csv as an SVG line chart (no dependencies).

    plot_costs.py COSTS.csv OUT.svg [TITLE]

One panel per image of the CSV; content, style, tv and total on a log scale against the iteration
(scales run one after the other along the x axis)."""
import csv
import math
import sys

COLOURS = {"total": "#222222", "style": "#c0392b", "content": "#2471a3", "tv": "#7d9a3a"}


def main():
    path, out = sys.argv[1:3]
    title = sys.argv[3] if len(sys.argv) > 3 else "stylize-classic costs"
    rows = list(csv.DictReader(open(path)))
    images = sorted({int(r["image"]) for r in rows})
    width, height, margin = 560, 260, 56
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height * len(images) + 30}" '
             f'font-family="DejaVu Sans, sans-serif" font-size="12">',
             f'<rect width="100%" height="100%" fill="white"/><text x="{margin}" y="20" font-size="14">{title}</text>']
    for panel, image in enumerate(images):
        data = [r for r in rows if int(r["image"]) == image]
        top = 30 + panel * height
        values = [float(r[k]) for r in data for k in COLOURS if float(r[k]) > 0]
        lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        n = len(data)
        def x(i): return margin + (width - margin - 20) * i / max(1, n - 1)
        def y(v): return top + 10 + (height - 50) * (hi - math.log10(max(v, 10 ** lo))) / max(1, hi - lo)
        parts.append(f'<rect x="{margin}" y="{top + 10}" width="{width - margin - 20}" height="{height - 50}" fill="none" stroke="#999"/>')
        for e in range(lo, hi + 1):
            parts.append(f'<text x="{margin - 6}" y="{y(10 ** e) + 4}" text-anchor="end">1e{e}</text>'
                         f'<line x1="{margin}" x2="{width - 20}" y1="{y(10 ** e)}" y2="{y(10 ** e)}" stroke="#eee"/>')
        # Scale boundaries.
        for i in range(1, n):
            if data[i]["scale"] != data[i - 1]["scale"]:
                parts.append(f'<line x1="{x(i)}" x2="{x(i)}" y1="{top + 10}" y2="{top + height - 40}" stroke="#bbb" stroke-dasharray="4 3"/>')
        for key, colour in COLOURS.items():
            points = " ".join(f"{x(i):.1f},{y(float(r[key])):.1f}" for i, r in enumerate(data))
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        legend = "  ".join(COLOURS)
        for k, (key, colour) in enumerate(COLOURS.items()):
            parts.append(f'<text x="{margin + 10 + k * 80}" y="{top + height - 22}" fill="{colour}">{key}</text>')
        parts.append(f'<text x="{width - 20}" y="{top + height - 22}" text-anchor="end">image {image}: iterations 1-{n}</text>')
    parts.append("</svg>")
    open(out, "w").write("\n".join(parts))


if __name__ == "__main__":
    main()
