"""``synthetic``: pixel detectors' scores that a picture was generated, with reasons.

Detectors share one small interface (``name``, ``version``, ``score(rgb) -> float`` in
[0, 1], ``describe()``): the built-in :class:`BaselineDetector` (no download: hand-made
features and a logistic regression trained by :mod:`.training` on data it makes itself)
and any number of agency models (:mod:`.onnx_detector`). Each gives one ``synthetic``
signal: value = detector name, score = its probability, ``data`` = threshold, whether the
score reaches it, what the detector is, its measured false-positive rate on real photos it
was not trained on (``validation``, :mod:`.validation`; without one, or above 1 %, the
verdict shows the score only as an inconclusive detail), and for the baseline the features
that pushed the score most (so a report can say *why*, not only *how much*).

Scores are weak evidence by design (see docs/synthetic.md for measured accuracy): the
verdict (:mod:`.verdict`) puts provenance first. Only still images are scored: the traces
the baseline reads do not survive video or GIF compression.

Artefact ``synthetic_heatmap`` (optional): the baseline's score per tile as a colour grid
with transparency, at the safe preview's size, showing no image content at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image

from haechi.analyze.base import Analyzer
from haechi.analyze.safe_preview import preview_size
from haechi.analyze.stills import image_still
from haechi.analyze.synthetic import features as F
from haechi.analyze.synthetic.logistic import Logistic
from haechi.analyze.synthetic.onnx_detector import load_description
from haechi.analyze.synthetic.validation import Validation
from haechi.domain.analysis import (
    AnalysisError,
    AnalysisInput,
    AnalysisResult,
    Artifact,
    MediaKind,
    Signal,
)

BASELINE_MODEL = Path(__file__).with_name("baseline_model.json")
# Measured by `python -m haechi.analyze.synthetic.validate`; applies to one model file only.
BASELINE_VALIDATION = Path(__file__).with_name("baseline_validation.json")
HEATMAP_TILE = 128  # smallest tile side (pixels; the features need at least 64)
HEATMAP_GRID = 4  # most tiles along a side

# Plain-language reading of each baseline feature group when it pushes towards
# "synthetic" (matched by name prefix, first match wins).
REASONS = {
    "peak2": (
        "energy at the 2-pixel period (trace of an upsampling layer)",
        "2픽셀 주기 성분(업샘플링 층의 흔적)",
    ),
    "peak4": (
        "energy at the 4-pixel period (trace of stacked upsampling layers)",
        "4픽셀 주기 성분(여러 업샘플링 층의 흔적)",
    ),
    "peak8": (
        "energy at the 8-pixel period (trace of a latent decoder)",
        "8픽셀 주기 성분(잠재 공간 디코더의 흔적)",
    ),
    "chk": (
        "neighbouring pixels differ by position in a 2/4/8-pixel grid (checkerboard "
        "pattern of upsampling layers)",
        "2/4/8픽셀 격자 위치에 따라 화소 차이가 달라짐(업샘플링 층의 체커보드 무늬)",
    ),
    "phase": (
        "a pattern repeating every 2/4/8 pixels in the fine detail (upsampling layers)",
        "미세 성분에 2/4/8픽셀마다 반복되는 무늬(업샘플링 층)",
    ),
    "spec": (
        "fine detail falls off with frequency unlike in a camera photo",
        "미세 성분이 주파수에 따라 줄어드는 양상이 카메라 사진과 다름",
    ),
    "jpeg": (
        "8x8 block pattern (JPEG blocks or a latent grid)",
        "8x8 블록 무늬(JPEG 블록 또는 잠재 격자)",
    ),
    "noise_kurt": (
        "very uneven fine detail: smooth areas without a camera's noise floor",
        "미세 질감이 매우 불균일함: 카메라 노이즈가 없는 매끈한 영역",
    ),
    "noise": ("local noise level unlike a camera sensor's", "카메라 센서와 다른 국소 노이즈 수준"),
    "xcorr": (
        "the colour channels share fine detail unlike a camera's",
        "색 채널 간 미세 질감의 상관이 카메라와 다름",
    ),
}


class Detector(Protocol):
    name: str
    version: str
    threshold: float

    def score(self, rgb: np.ndarray) -> float: ...

    def describe(self) -> dict[str, Any]: ...


@cache
def baseline_validation(model: str, path: str) -> Validation | None:
    """The baseline's measurement, if one was made for exactly this model file."""
    file = Path(path)
    if not file.is_file():
        return None
    v = Validation.from_dict(json.loads(file.read_text(encoding="utf-8")))
    digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    return v if v is not None and v.model_sha256 == digest else None


@cache
def _baseline_model(path: str) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if model.get("format") != "haechi-logistic-v1":
        raise ValueError(f"{path} is not a haechi baseline model")
    if model.get("feature_set") != F.FEATURE_SET:
        # Same names can mean different measurements: never score with a mismatched model.
        raise ValueError(
            f"{path} was trained on feature set {model.get('feature_set', 'v1')!r}, this "
            f"haechi computes {F.FEATURE_SET!r}: retrain with "
            "scripts/train_synthetic_baseline.py"
        )
    return model


class BaselineDetector:
    """Standardised logistic regression over :mod:`.features` (weights in JSON)."""

    def __init__(self, path: Path = BASELINE_MODEL, validation: Path = BASELINE_VALIDATION) -> None:
        m = _baseline_model(str(path))
        self.model_path = path
        self.validation = baseline_validation(str(path), str(validation))
        self.model = Logistic.from_json(m)
        self.name, self.version = self.model.name, self.model.version
        self.threshold = self.model.threshold
        self._idx = [F.NAMES.index(n) for n in m["features"]]
        self._names = list(m["features"])

    def contributions(self, rgb: np.ndarray) -> tuple[float, np.ndarray]:
        parts = self.model.parts(F.features(rgb)[self._idx])
        return self.model.probability(parts), parts

    def score(self, rgb: np.ndarray) -> float:
        return self.contributions(rgb)[0]

    def reasons(self, parts: np.ndarray, top: int = 3) -> list[dict[str, Any]]:
        """The features that pushed the score up most, in plain words (EN and KO): one line
        per distinct reason (phase2 and phase4 say the same thing), the features behind it
        and their summed contribution."""
        out: list[dict[str, Any]] = []
        by_text: dict[str, dict[str, Any]] = {}
        for i in np.argsort(-parts):
            if parts[i] <= 0:
                break
            name = self._names[i]
            key = next((k for k in REASONS if name.startswith(k)), None)
            en, ko = REASONS.get(key or "", (name, name))
            if en in by_text:
                by_text[en]["features"].append(name)
                by_text[en]["contribution"] = round(
                    by_text[en]["contribution"] + float(parts[i]), 3
                )
                continue
            if len(out) == top:
                continue  # later features only add to reasons already listed
            line = {
                "feature": name,
                "features": [name],
                "contribution": round(float(parts[i]), 3),
                "en": en,
                "ko": ko,
            }
            by_text[en] = line
            out.append(line)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "baseline",
            "model": self.model_path.name,
            "training": self.model.training,
            "validation": self.validation.as_dict() if self.validation else None,
        }


@dataclass(frozen=True)
class SyntheticSettings:
    baseline: bool = True  # the built-in detector
    # The self-blended-image face-swap detector: off, it missed its AUC target (synthetic.md)
    faceswap: bool = False
    detectors: tuple[str, ...] = ()  # paths of ONNX detector descriptions (TOML)
    heatmap: bool = True
    heatmap_max_side: int = 320  # the safe preview's size, so the two can be overlaid
    threads: int = 1


def heatmap(detector: BaselineDetector, rgb: np.ndarray, max_side: int) -> bytes | None:
    """The baseline's score per tile as an RGBA PNG (red = higher), no picture content."""
    h, w = rgb.shape[:2]
    # At most HEATMAP_GRID tiles a side (tiles grow with the picture): bounded cost.
    tile = max(HEATMAP_TILE, -(-max(h, w) // HEATMAP_GRID))
    rows, cols = h // tile, w // tile
    if rows * cols < 2:
        return None
    grid = np.zeros((rows, cols), dtype=np.float64)
    for r in range(rows):
        for c in range(cols):
            part = rgb[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile]
            grid[r, c] = detector.score(np.ascontiguousarray(part))
    rgba = np.zeros((rows, cols, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = (255 * (1 - grid)).astype(np.uint8)
    rgba[..., 3] = (200 * grid).astype(np.uint8)
    size = preview_size(cols * tile, rows * tile, max_side)
    out = Image.fromarray(rgba, "RGBA").resize(size, Image.Resampling.NEAREST)
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return buf.getvalue()


class SyntheticAnalyzer(Analyzer):
    name: ClassVar[str] = "synthetic"
    # 2: size-invariant tile features, new baseline model; 3: the detector's measured
    # false-positive rate on unseen real photos travels with each score, reasons deduplicated
    version: ClassVar[str] = "3"
    media_kinds = frozenset({MediaKind.IMAGE})
    description = "Pixel detectors (built-in baseline + agency ONNX models): synthetic score."
    settings_cls: ClassVar[type] = SyntheticSettings
    time_limit: ClassVar[float] = 60.0

    settings: SyntheticSettings

    def __init__(self, settings: Any = None) -> None:
        super().__init__(settings)
        st = self.settings
        self.baseline = BaselineDetector() if st.baseline else None
        self.faceswap = None
        if st.faceswap:
            from haechi.analyze.synthetic.faceswap.detector import FaceSwapDetector

            self.faceswap = FaceSwapDetector()
        # Descriptions are checked at start-up: a wrong path stops `haechi analyze` early.
        self.extra = [load_description(Path(p), st.threads) for p in st.detectors]

    def setup(self) -> None:
        for detector in self.extra:
            detector.load()

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        still = image_still(item.path, None)  # full resolution: resizing erases the traces
        rgb = np.asarray(still.image)
        if min(rgb.shape[:2]) < F.MIN_SIDE:
            return AnalysisResult(warnings=[f"{rgb.shape[1]}x{rgb.shape[0]} is too small to score"])
        signals, artifacts, warnings = [], [], []
        if self.baseline is not None:
            p, parts = self.baseline.contributions(rgb)
            signals.append(
                self._signal(self.baseline, p, {"reasons": self.baseline.reasons(parts)})
            )
            if self.settings.heatmap:
                png = heatmap(self.baseline, rgb, self.settings.heatmap_max_side)
                if png:
                    artifacts.append(Artifact("synthetic_heatmap", png, "image/png"))
        if self.faceswap is not None:
            from haechi.analyze.synthetic.faceswap.detector import NoFace

            with contextlib.suppress(NoFace):  # no face to score: nothing to say
                signals.append(self._signal(self.faceswap, self.faceswap.score(rgb), {}))
        for detector in self.extra:
            try:
                signals.append(self._signal(detector, detector.score(rgb), {}))
            except Exception as exc:  # one agency model failing must not lose the others
                warnings.append(f"detector {detector.name} failed: {type(exc).__name__}: {exc}")
        if not signals and warnings:
            raise AnalysisError("; ".join(warnings))
        return AnalysisResult(signals=signals, artifacts=artifacts, warnings=warnings)

    @staticmethod
    def _signal(detector: Detector, p: float, extra: dict[str, Any]) -> Signal:
        return Signal(
            "synthetic",
            detector.name,
            round(p, 4),
            {
                "detector_version": detector.version,
                "threshold": detector.threshold,
                "above_threshold": p >= detector.threshold,
                **detector.describe(),
                **extra,
            },
        )
