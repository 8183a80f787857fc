"""Detection, 5-point alignment and the 128-d dlib ResNet embedding of every face in a picture.

One pipeline for evidence (the analyzer) and for reference photos (enrolment), so an
enrolled template and an evidence face are computed the same way and their distances mean
the same thing.

* **Detection**: dlib's HOG + linear SVM frontal detector by default (0.1-0.4 s for a
  Telegram-sized photo); the MMOD CNN detector (more poses, 2-9 s per image on a CPU) when
  chosen. HOG's smallest face is 80 px, so small pictures are upsampled (x2 per step) until
  the longer side would pass ``upsample_limit``: a 125 px crop gets two steps, a 1280 px
  photo one, a 2560 px photo none.
* **Alignment**: the 5-point landmark model; ``get_face_chip`` rotates and scales the face
  to the 150x150 chip the ResNet was trained on.
* **Embedding**: dlib's ResNet (99.38 % on LFW by dlib's own report); Euclidean distance,
  same person usually below 0.6.
* **Quality**: the detector's score, the face's size in the file's pixels and a
  sharpness value (variance of the Laplacian of the grey chip: blurred or heavily
  recompressed faces score low) travel with every face, so search and clustering can
  weigh a poor face.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haechi.analyze.faces import models
from haechi.analyze.faces.image import Picture

CHIP_SIZE = 150
CHIP_PADDING = 0.25
HOG_WINDOW = 80  # px: the smallest face dlib's frontal HOG detector finds without upsampling


@dataclass(frozen=True)
class PipelineSettings:
    detector: str = "hog"  # "hog" or "cnn"
    upsample_limit: int = 2600  # upsample while the longer side stays at or under this
    max_upsample: int = 2
    min_score: float = 0.0  # detector score threshold (HOG: SVM margin; CNN: confidence)
    jitters: int = 0  # >0: average over jittered chips (x jitters slower)
    max_faces: int = 64  # the largest faces of a crowd photo


@dataclass
class Face:
    """One face, in the file's own pixel coordinates."""

    box: tuple[int, int, int, int]  # x, y, width, height
    landmarks: list[tuple[float, float]]  # 5 points: eye corners (2+2) and nose base
    score: float
    size: int  # the shorter side of the box, in file pixels
    sharpness: float
    embedding: np.ndarray  # (128,) float32
    upsample: int
    extra: dict[str, Any] = field(default_factory=dict)


def upsample_steps(longer_side: int, limit: int, most: int) -> int:
    steps = 0
    while steps < most and longer_side * 2 ** (steps + 1) <= limit:
        steps += 1
    return steps


def sharpness(chip: np.ndarray) -> float:
    grey = chip.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var())


class FacePipeline:
    def __init__(self, settings: PipelineSettings | None = None) -> None:
        self.settings = settings or PipelineSettings()
        if self.settings.detector not in ("hog", "cnn"):
            raise ValueError(
                f"the face detector must be hog or cnn, not {self.settings.detector!r}"
            )
        self.models = models.load(cnn=self.settings.detector == "cnn")

    def _detect(self, rgb: np.ndarray, steps: int) -> list[tuple[Any, float]]:
        s = self.settings
        if s.detector == "cnn":
            assert self.models.cnn is not None
            with self.models.cnn.borrow() as cnn:
                found = cnn(rgb, steps)
            return [(d.rect, float(d.confidence)) for d in found if d.confidence >= s.min_score]
        with self.models.hog.borrow() as hog:
            rects, scores, _ = hog.run(rgb, steps, s.min_score)
        return list(zip(rects, (float(x) for x in scores), strict=True))

    def faces(self, picture: Picture) -> list[Face]:
        s = self.settings
        rgb = picture.rgb
        steps = upsample_steps(max(rgb.shape[:2]), s.upsample_limit, s.max_upsample)
        found = self._detect(rgb, steps)
        # The largest faces first (a crowd photo is capped at max_faces).
        found.sort(key=lambda d: -(d[0].width() * d[0].height()))
        return [self._face(picture, rect, score, steps) for rect, score in found[: s.max_faces]]

    def main_faces(self, picture: Picture, within: float) -> list[Face]:
        """The largest face and every face at least ``within`` of its size (largest first),
        for a reference photo, where only those decide (she is the largest face; a second
        one that large makes the photo ambiguous).

        Detection climbs the upsampling steps ``faces`` would use and stops at the first
        step that can see a face ``within`` of the largest one found: HOG's window is
        ``HOG_WINDOW`` px, so step k sees faces down to ``HOG_WINDOW / 2**k``. A 330 px
        photo of one face needs one step instead of two (50 ms instead of 190 at step 2,
        whose pyramid is 16 times the pixels), and smaller faces get no embedding.
        Alignment and embedding are ``faces``'s own, so a template and an evidence face
        still mean the same thing. The CNN detector reads at ``faces``'s steps."""
        s = self.settings
        rgb = picture.rgb
        most = upsample_steps(max(rgb.shape[:2]), s.upsample_limit, s.max_upsample)
        first = most if s.detector == "cnn" else 0
        for steps in range(first, most + 1):
            found = self._detect(rgb, steps)
            if not found:
                continue
            found.sort(key=lambda d: -(d[0].width() * d[0].height()))
            largest = min(found[0][0].width(), found[0][0].height())
            if steps < most and within * largest < HOG_WINDOW / 2**steps:
                continue  # a face that would make the photo ambiguous may be unseen yet
            keep = [d for d in found if min(d[0].width(), d[0].height()) >= within * largest]
            return [self._face(picture, rect, score, steps) for rect, score in keep[: s.max_faces]]
        return []

    def _face(self, picture: Picture, rect: Any, score: float, steps: int) -> Face:
        import dlib

        rgb = picture.rgb
        h, w = rgb.shape[:2]
        inv = 1.0 / picture.scale
        # HOG may place a box partly outside the picture; the landmark model copes,
        # but the reported box is clipped to the picture.
        shape = self.models.landmarks(rgb, rect)
        chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        vector = np.asarray(
            self.models.resnet.compute_face_descriptor(chip, self.settings.jitters),
            dtype=np.float32,
        )
        left, top = max(0, rect.left()), max(0, rect.top())
        right, bottom = min(w, rect.right()), min(h, rect.bottom())
        box = (
            round(left * inv),
            round(top * inv),
            max(1, round((right - left) * inv)),
            max(1, round((bottom - top) * inv)),
        )
        points = [(round(p.x * inv, 1), round(p.y * inv, 1)) for p in shape.parts()]
        return Face(
            box=box,
            landmarks=points,
            score=round(score, 4),
            size=min(box[2], box[3]),
            sharpness=round(sharpness(chip), 2),
            embedding=vector,
            upsample=steps,
        )
