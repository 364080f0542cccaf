# The video benchmarks' Python (OpenCV for the reference flow, ONNX Runtime for the style features)
# in its own venv, used only by the benchmarks; source it after common.sh. Sets VIDEO_PY.
source "$BENCH_DIR/lib/venv.sh"
VIDEO_VENV=$REPO/.build-venv-video
VIDEO_PY=$VIDEO_VENV/bin/python
if ! "$VIDEO_PY" -c 'import cv2, numpy, onnx, onnxruntime' 2>/dev/null; then
    echo "setting up $VIDEO_VENV (opencv-python-headless, numpy, onnx, onnxruntime)..." >&2
    make_venv "$VIDEO_VENV"
    "$VIDEO_VENV/bin/pip" install --quiet opencv-python-headless numpy onnx onnxruntime >&2
fi
