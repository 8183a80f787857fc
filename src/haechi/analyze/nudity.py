"""``nudity``: NudeNet's detector → a score and labelled regions, plus a safe preview.

The model is ``320n.onnx`` from the NudeNet wheel, run here with onnxruntime on one CPU
thread per worker (the runner already starts one worker per core). Pre- and
post-processing follow NudeNet 3.4's ``NudeDetector.detect`` exactly (the tests compare
both on the same picture) but decode with Pillow, so the worker's decompression-bomb
guard and EXIF orientation apply, and the post-processing is vectorised.

Signals:

* ``nudity`` — value ``exposed`` when a label in ``explicit_labels`` reaches
  ``exposed_threshold``, else ``none``; score = the highest explicit-label score (0.0
  when there is none); ``data`` holds every region, the thresholds and the model.
* ``nudity_region`` — one per region at or above ``region_min_score``: value = NudeNet
  label, score, ``data.box`` = ``[x, y, w, h]`` in the file's pixels (+ frame/seconds).

Artefact ``safe_preview`` (see :mod:`haechi.analyze.safe_preview`): made for every
picture; for animations and videos from the frame with the highest score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from haechi.analyze import safe_preview
from haechi.analyze.base import Analyzer, Example
from haechi.analyze.stills import Still, stills_of
from haechi.domain.analysis import (
    AnalysisInput,
    AnalysisResult,
    Artifact,
    MediaKind,
    Signal,
)

INPUT = 320  # the shipped model's input side
LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
EXPLICIT = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)
FACES = ("FACE_FEMALE", "FACE_MALE")
NMS_SCORE, NMS_IOU = 0.25, 0.45  # NudeNet's cv2.dnn.NMSBoxes arguments
WORKING_SIDE = 1280  # pictures are decoded no larger than this (the model sees 320)


@dataclass(frozen=True)
class NuditySettings:
    # A region is kept (and reported) from this score; NudeNet itself keeps >= 0.2.
    region_min_score: float = 0.2
    # The file is "exposed" (top of the review queue) from this explicit-label score.
    exposed_threshold: float = 0.5
    # Labels whose score makes the file's score; pixelated in previews.
    explicit_labels: tuple[str, ...] = EXPLICIT
    # Pixelate from this score, lower than the threshold: hiding too much is the safe error.
    pixelate_min_score: float = 0.2
    # Faces are pixelated in previews too (victims' faces are redacted by default).
    pixelate_faces: bool = True
    preview_max_side: int = 320
    preview_margin: float = 0.15
    preview_blocks: int = 6
    frames: int = 5  # frames looked at in an animation or a video
    threads: int = 1
    model_path: str = ""  # another NudeNet-format ONNX file; empty: the wheel's 320n.onnx


@dataclass
class Region:
    label: str
    score: float
    box: list[int]  # x, y, w, h in the file's pixels
    where: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(self.score, 4), "box": self.box, **self.where}


def model_file(settings: NuditySettings) -> Path:
    if settings.model_path:
        return Path(settings.model_path).expanduser()
    import nudenet

    return Path(nudenet.__file__).with_name("320n.onnx")


def preprocess(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """NudeNet's input tensor for an ``HxWx3`` RGB array, and the padded square's side.

    NudeNet reads BGR with OpenCV, swaps channels once in ``cvtColor(RGBA2BGR)`` and once
    more in ``blobFromImage(swapRB=True)``: the model therefore sees BGR, padded with black
    at the bottom and right to a square, resized bilinearly to 320, scaled to [0, 1].
    """
    import cv2

    h, w = rgb.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), dtype=np.uint8)
    square[:h, :w] = rgb[:, :, ::-1]
    resized = cv2.resize(square, (INPUT, INPUT), interpolation=cv2.INTER_LINEAR)
    blob = resized.astype(np.float32).transpose(2, 0, 1)[np.newaxis] / np.float32(255.0)
    return np.ascontiguousarray(blob), side


def postprocess(output: np.ndarray, side: int, width: int, height: int) -> list[Region]:
    """Boxes in the working picture's pixels, as NudeNet computes them (score >= 0.2 per
    row, NMS at 0.25/0.45, boxes clipped to the picture and truncated to integers)."""
    import cv2

    rows = np.squeeze(output).T  # (candidates, 4 + labels)
    scores = rows[:, 4:]
    best = scores.max(axis=1)
    keep = best >= 0.2
    rows, best = rows[keep], best[keep]
    if not len(rows):
        return []
    classes = scores[keep].argmax(axis=1)
    f = side / INPUT
    x = (rows[:, 0] - rows[:, 2] / 2) * f
    y = (rows[:, 1] - rows[:, 3] / 2) * f
    bw, bh = rows[:, 2] * f, rows[:, 3] * f
    x = np.clip(x, 0, width)
    y = np.clip(y, 0, height)
    bw = np.minimum(bw, width - x)
    bh = np.minimum(bh, height - y)
    boxes = np.stack([x, y, bw, bh], axis=1).tolist()
    picked = cv2.dnn.NMSBoxes(boxes, best.tolist(), NMS_SCORE, NMS_IOU)
    out = []
    for i in np.asarray(picked, dtype=int).reshape(-1):
        bx, by, bwi, bhi = boxes[i]
        out.append(
            Region(LABELS[int(classes[i])], float(best[i]), [int(bx), int(by), int(bwi), int(bhi)])
        )
    return out


class NudityAnalyzer(Analyzer):
    name: ClassVar[str] = "nudity"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.IMAGE, MediaKind.ANIMATION, MediaKind.VIDEO})
    description = "NudeNet score and regions for review queues; greyscale pixelated safe preview."
    settings_cls: ClassVar[type] = NuditySettings
    time_limit: ClassVar[float] = 60.0

    settings: NuditySettings

    def __init__(self, settings: Any = None) -> None:
        super().__init__(settings)
        self._session: Any = None
        self._input = ""
        self._model_sha = ""
        unknown = set(self.settings.explicit_labels) - set(LABELS)
        if unknown:
            from haechi.domain import UsageError

            raise UsageError(
                "analyzers.nudity.explicit_labels names unknown labels: "
                f"{', '.join(sorted(unknown))}."
            )

    def setup(self) -> None:
        import onnxruntime as ort

        path = model_file(self.settings)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.settings.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._model_sha = hashlib.sha256(path.read_bytes()).hexdigest()

    def detect(self, still: Still) -> list[Region]:
        """Regions of one picture, in the file's pixel coordinates."""
        if self._session is None:
            self.setup()
        rgb = np.asarray(still.image)
        blob, side = preprocess(rgb)
        output = self._session.run(None, {self._input: blob})[0]
        regions = postprocess(output, side, rgb.shape[1], rgb.shape[0])
        s = still.scale
        for r in regions:
            x, y, w, h = r.box
            r.box = [int(x * s), int(y * s), round(w * s), round(h * s)]
            r.where = still.where()
        return [r for r in regions if r.score >= self.settings.region_min_score]

    def file_score(self, regions: list[Region]) -> float:
        explicit = [r.score for r in regions if r.label in self.settings.explicit_labels]
        return max(explicit, default=0.0)

    def to_hide(self, regions: list[Region]) -> list[safe_preview.Box]:
        st = self.settings
        labels = set(st.explicit_labels) | (set(FACES) if st.pixelate_faces else set())
        return [
            safe_preview.Box(*map(float, r.box))
            for r in regions
            if r.label in labels and r.score >= st.pixelate_min_score
        ]

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        st = self.settings
        stills = stills_of(item.path, item.kind, st.frames, WORKING_SIDE)
        per_still = [(still, self.detect(still)) for still in stills]
        regions = [r for _, found in per_still for r in found]
        score = self.file_score(regions)
        # The preview frame: the one with the highest score (the first one if all are 0).
        shown, shown_regions = max(per_still, key=lambda p: self.file_score(p[1]))
        preview = safe_preview.render(
            shown,
            self.to_hide(shown_regions),
            max_side=st.preview_max_side,
            margin=st.preview_margin,
            blocks=st.preview_blocks,
        )
        summary = {
            "width": stills[0].width,
            "height": stills[0].height,
            "frames_checked": len(stills),
            "regions": [r.as_dict() for r in regions],
            "exposed_threshold": st.exposed_threshold,
            "region_min_score": st.region_min_score,
            "model": "nudenet 320n" if not st.model_path else Path(st.model_path).name,
            "model_sha256": self._model_sha,
            "preview": {"frame": shown.where(), "hidden_regions": len(self.to_hide(shown_regions))},
        }
        signals = [
            Signal(
                "nudity",
                "exposed" if score >= st.exposed_threshold else "none",
                round(score, 4),
                summary,
            )
        ]
        signals += [
            Signal("nudity_region", r.label, round(r.score, 4), {"box": r.box, **r.where})
            for r in regions
        ]
        return AnalysisResult(
            signals=signals,
            artifacts=[Artifact("safe_preview", preview, safe_preview.PREVIEW_MIME)],
        )

    @classmethod
    def examples(cls) -> list[Example]:
        return []
