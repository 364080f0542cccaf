# OpenVINO in the same venv as ONNX Runtime ($ovver), and whether this CPU has native bf16 ($ovbf16=1:
# avx512_bf16 or AMX; without them OpenVINO would emulate bf16, which measures nothing useful).
# Source after lib/ort.sh.
"$venv/bin/python" -c 'import openvino' 2>/dev/null || "$venv/bin/pip" install --quiet openvino
ovver=$("$venv/bin/python" -c 'import openvino; print(openvino.__version__.split("-")[0])')
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then ovbf16=1; else ovbf16=0; fi
