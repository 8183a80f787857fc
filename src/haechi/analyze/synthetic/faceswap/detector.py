"""The face-swap detector: a logistic regression over :mod:`.features` of each face.

Off by default (``[analyzers.synthetic] faceswap = false``): trained on self-blended images
only, it did not reach the AUC of 0.9 on real face swaps that shipping it needed (measured
in docs/accuracy.md; protocol in docs/synthetic.md). With no validated false-positive rate
its score can only ever be an inconclusive detail of the verdict.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from haechi.analyze.synthetic.faceswap.features import FEATURE_SET, features
from haechi.analyze.synthetic.faceswap.landmarks import faces
from haechi.analyze.synthetic.logistic import Logistic

MODEL = Path(__file__).with_name("faceswap_model.json")
MAX_FACES = 4  # the largest faces of a picture are scored; the picture's score is their max


class NoFace(Exception):
    """The picture has no face the detector can score (none found, or at the very edge)."""


@cache
def _model(path: str) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if model.get("format") != "haechi-logistic-v1" or model.get("feature_set") != FEATURE_SET:
        raise ValueError(f"{path} is not a face-swap model for feature set {FEATURE_SET!r}")
    return model


class FaceSwapDetector:
    def __init__(self, path: Path = MODEL) -> None:
        self.path = path
        self.model = Logistic.from_json(_model(str(path)))
        self.name, self.version = self.model.name, self.model.version
        self.threshold = self.model.threshold

    def face_scores(self, rgb: np.ndarray) -> list[float]:
        out = []
        for pts in faces(rgb)[:MAX_FACES]:
            x = features(rgb, pts)
            if x is None:
                continue
            out.append(self.model.probability(self.model.parts(x)))
        return out

    def score(self, rgb: np.ndarray) -> float:
        scores = self.face_scores(rgb)
        if not scores:
            raise NoFace("no face to score")
        return max(scores)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "faceswap-sbi",
            "model": self.path.name,
            "training": self.model.training,
            "validation": None,  # never measured on unseen real photos: never a headline
        }
