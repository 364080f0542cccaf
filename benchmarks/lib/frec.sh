# face_recognition 1.3.0 with dlib-bin in its own venv, for the benchmarks that compare with it;
# source it after common.sh. Sets FREC_VENV (default .build-venv-frec), PY (its python) and FR
# (the face_recognition command). Installed with pip --no-deps: face_recognition asks for a dlib
# built from source; dlib-bin is the same dlib as a wheel. The 100 MB face_recognition_models
# sdist is the one scripts/setup-models.sh keeps in .build-models.
source "$BENCH_DIR/lib/venv.sh"
FREC_VENV=${FREC_VENV:-$REPO/.build-venv-frec}
MODEL_CACHE=${CNNPIPE_MODEL_CACHE:-$REPO/.build-models}
PY=$FREC_VENV/bin/python
FR=$FREC_VENV/bin/face_recognition

# The packages in their own venv, without dependency resolution (face_recognition asks for a
# dlib built from source; dlib-bin is the same dlib as a wheel).
if ! "$PY" -c 'import dlib, face_recognition_models, face_recognition, click' 2>/dev/null; then
    echo "installing face_recognition 1.3.0 and dlib-bin into $FREC_VENV..." >&2
    make_venv "$FREC_VENV"
    pip=("$FREC_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps)
    "${pip[@]}" face_recognition==1.3.0 dlib-bin==20.0.1.post1 numpy==2.4.6 pillow==13.0.0 click==8.5.1
    sdist=$MODEL_CACHE/face_recognition_models-0.3.0.tar.gz
    if [[ -f $sdist ]]; then "${pip[@]}" "$sdist"; else "${pip[@]}" face_recognition_models==0.3.0; fi
fi

