# The models, a release build of cnnpipe ($bin) and ONNX Runtime in .build-venv ($venv, $ortver), for
# the scripts that compare CNNRuntime with ONNX Runtime (source from the repository folder).
scripts/setup-models.sh
swift build -c release >/dev/null 2>&1 || swift build -c release
bin=$(swift build -c release --show-bin-path)/cnnpipe
venv=.build-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null || "$venv/bin/pip" install --quiet onnxruntime numpy
ortver=$("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')
