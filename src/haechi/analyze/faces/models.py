"""dlib's face models, loaded once per process from the ``face-recognition-models`` wheel.

Paths come from the package's import spec (``importlib``), found without importing it:
that package's own ``__init__`` still imports ``pkg_resources``, which newer setuptools
releases drop, and ``importlib.resources.files()`` would run it. Nothing is
downloaded: a missing file is an installation fault named in one sentence.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from haechi.domain import HaechiError

PACKAGE = "face_recognition_models"
FILES = {
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn": "mmod_human_face_detector.dat",
}


class ModelMissing(HaechiError):
    """The face models are not installed."""


def model_path(key: str) -> Path:
    spec = find_spec(PACKAGE)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            "The face models are not installed: pip install 'haechi[faces]' "
            "(face-recognition-models)."
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "models" / FILES[key]
    if not path.is_file():
        raise ModelMissing(
            f"The face model file {path} is missing: reinstall face-recognition-models."
        )
    return path


class Detectors:
    """Detectors lent to one run at a time.

    dlib's detectors keep their scratch state (the image pyramid) in the object and release
    the GIL while they run, so two threads running one detector at once crash the process
    (seen: two enrolments in one web worker, HOG at upsampling steps 0 and 1: "double free
    or corruption", or a segmentation fault). Each run borrows a detector of its own; one
    is made when none is free (HOG: 0.5 s) and kept for the next run, so a process holds as
    many as ran at once. The shape predictor and the ResNet are shared: the predictor is
    read-only, and the ResNet's binding keeps the GIL for the whole forward pass."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._free: list[Any] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Any]:
        with self._lock:
            detector = self._free.pop() if self._free else None
        if detector is None:
            detector = self._make()
        try:
            yield detector
        finally:
            with self._lock:
                self._free.append(detector)


@functools.cache
def hog_detectors() -> Detectors:
    """dlib's frontal HOG detectors, one pool a process (faces and the face-swap scorer)."""
    import dlib

    return Detectors(dlib.get_frontal_face_detector)


@dataclass(frozen=True)
class Models:
    hog: Detectors
    landmarks: Any
    resnet: Any
    cnn: Detectors | None


@functools.lru_cache(maxsize=2)
def load(cnn: bool = False) -> Models:
    import dlib

    cnn_file = str(model_path("cnn")) if cnn else ""
    return Models(
        hog=hog_detectors(),
        landmarks=dlib.shape_predictor(str(model_path("landmarks5"))),
        resnet=dlib.face_recognition_model_v1(str(model_path("resnet"))),
        cnn=Detectors(lambda: dlib.cnn_face_detection_model_v1(cnn_file)) if cnn else None,
    )
