#!/usr/bin/env python3
"""Writes reference data from the real dlib (the dlib-bin wheel) for the dlib import parity tests.

Used only to produce reference data; cnnpipe itself never runs Python or dlib.
Usage: make_dlib_reference.py MODELS_DIR CORPUS_DIR OUT_DIR

OUT_DIR/cases.json lists:
  chips       aligned 150x150 face chips (dlib.get_face_chip, size 150, padding 0.25) cut from corpus
              photos, each saved as <name>-chip.npy (uint8, rows x cols x RGB) and <name>-chip.png,
              with dlib's 128-D descriptor of exactly that chip (<name>-descriptor.npy, float32),
              plus the face box and the 5 landmarks dlib's shape predictor found in the photo.
              One chip of random noise is included (no face: the network must still agree).
  detections  dlib.cnn_face_detection_model_v1 results (box l, t, r, b inclusive, and confidence)
              per photo for upsample 0 and 1; the photo itself as <photo>-rgb.npy (uint8).
  landmarks   dlib.shape_predictor (5 points) on those photos: for every detected box and for
              seeded random boxes (inside, overlapping the border, tiny, large).

OUT_DIR/corpus-pixels/<folder-...-name>.npy: dlib.load_rgb_image's pixels of every image of the faces
corpus (uint8, rows x cols x RGB; ~75 MB). CorpusParityTests runs the detector on these against the
committed dlib results (make_dlib_corpus_reference.py): dlib's bundled IJG libjpeg decodes most corpus
JPEGs differently from libjpeg-turbo (chroma upsampling), and parity is about the networks.
"""
import json
import os
import sys

from make_dlib_corpus_reference import corpus_photos

import dlib
import numpy as np

# Photos (relative to CORPUS_DIR/faces) used for chips and descriptors: several people,
# large photos and 150x150 LFW crops.
CHIP_PHOTOS = [
    "train/barack_obama/obama.jpg",
    "train/joe_biden/biden2.jpg",
    "train/rose_leslie/img1.jpg",
    "train/kit_harington/john1.jpeg",
    "train/john_salley/000179_02159509.jpg",
    "train/john_simm/000288_00470387.jpg",
]
# Photos the detector runs on (kept small enough to store as .npy).
DETECTION_PHOTOS = [
    "group/2008_001322.jpg",
    "group/2007_007763.jpg",
    "train/john_savage/000264_01099001.jpg",
    "group/obama_biden_two_people.jpg",
]


def slug(path):
    return os.path.splitext(path.replace("/", "-"))[0]


def main():
    models, corpus, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    detector = dlib.cnn_face_detection_model_v1(os.path.join(models, "mmod_human_face_detector.dat"))
    predictor = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    recognizer = dlib.face_recognition_model_v1(os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat"))

    def save(name, array):
        np.save(os.path.join(out, name + ".npy"), array)

    def describe(chip):
        return np.array(recognizer.compute_face_descriptor(chip), dtype=np.float32)

    chips = []
    for photo in CHIP_PHOTOS:
        image = dlib.load_rgb_image(os.path.join(corpus, "faces", photo))
        found = detector(image, 0) or detector(image, 1)
        if not found:
            raise SystemExit(f"make_dlib_reference: no face found in {photo}")
        box = max(found, key=lambda d: d.confidence).rect
        shape = predictor(image, box)
        chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
        name = slug(photo)
        # dlib's own decoding of the photo: its libjpeg upsamples chroma differently from ours, so
        # alignment and end-to-end descriptors are compared on these exact pixels.
        save(name + "-rgb", image)
        save(name + "-chip", chip)
        dlib.save_image(chip, os.path.join(out, name + "-chip.png"))
        save(name + "-descriptor", describe(chip))
        chips.append({"name": name, "photo": photo,
                      "box": [box.left(), box.top(), box.right(), box.bottom()],
                      "landmarks": [[p.x, p.y] for p in shape.parts()],
                      "image": name + "-rgb", "chip": name + "-chip", "descriptor": name + "-descriptor",
                      "photo_descriptor": [float(v) for v in recognizer.compute_face_descriptor(image, shape)]})

    noise = np.random.default_rng(20261126).integers(0, 256, size=(150, 150, 3), dtype=np.uint8)
    save("noise-chip", noise)
    save("noise-descriptor", describe(noise))
    chips.append({"name": "noise", "photo": None, "box": None, "landmarks": None,
                  "chip": "noise-chip", "descriptor": "noise-descriptor"})

    detections = []
    for photo in DETECTION_PHOTOS:
        image = dlib.load_rgb_image(os.path.join(corpus, "faces", photo))
        name = slug(photo)
        save(name + "-rgb", image)
        for upsample in (0, 1):
            found = detector(image, upsample)
            detections.append({"photo": photo, "image": name + "-rgb", "upsample": upsample,
                               "faces": [{"box": [d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()],
                                          "confidence": d.confidence} for d in found]})

    landmarks = []
    rng = np.random.default_rng(5)
    for photo in DETECTION_PHOTOS:
        image = dlib.load_rgb_image(os.path.join(corpus, "faces", photo))
        rows, cols = image.shape[:2]
        boxes = [d["box"] for run in detections if run["photo"] == photo for d in run["faces"]]
        for _ in range(25):
            side = int(rng.integers(8, max(cols, rows)))
            left, top = int(rng.integers(-side // 2, cols)), int(rng.integers(-side // 2, rows))
            boxes.append([left, top, left + side - 1, top + int(side * rng.uniform(0.8, 1.25)) - 1])
        for box in boxes:
            shape = predictor(image, dlib.rectangle(*box))
            landmarks.append({"image": slug(photo) + "-rgb", "box": box,
                              "landmarks": [[p.x, p.y] for p in shape.parts()]})

    os.makedirs(os.path.join(out, "corpus-pixels"))
    for photo in corpus_photos(corpus):
        np.save(os.path.join(out, "corpus-pixels", slug(photo) + ".npy"),
                dlib.load_rgb_image(os.path.join(corpus, "faces", photo)))

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"dlib": dlib.__version__, "chips": chips, "detections": detections, "landmarks": landmarks}, f, indent=1)
    print(f"dlib reference: {len(chips)} chips, {len(detections)} detection runs, {len(landmarks)} landmark cases "
          f"written to {out} (dlib {dlib.__version__})")


if __name__ == "__main__":
    main()
