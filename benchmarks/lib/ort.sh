# The models, a release build of cnnpipe ($bin) and ONNX Runtime in .build-venv ($venv, $ortver), for
# the scripts that compare CNNRuntime with ONNX Runtime (source from the repository folder).
# CNNPIPE=path uses that cnnpipe binary instead of building one.
scripts/setup-models.sh
if [ -n "${CNNPIPE:-}" ]; then
  bin=$CNNPIPE
  [ -x "$bin" ] || { echo "CNNPIPE=$bin is not an executable" >&2; exit 1; }
else
  swift build -c release >/dev/null 2>&1 || swift build -c release
  bin=$(swift build -c release --show-bin-path)/cnnpipe
fi
venv=.build-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null || "$venv/bin/pip" install --quiet onnxruntime numpy
ortver=$("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')
