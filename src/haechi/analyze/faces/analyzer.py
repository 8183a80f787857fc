"""``faces``: every face in a picture, with its box, landmarks, quality and embedding.

Each face is one ``face`` signal (score = the detector's score) whose data holds the box
and five landmarks in the file's own pixels (after EXIF orientation), the face's size and
sharpness, and the 128-d embedding (float32, base64). The ``faces`` analysis hook copies
new faces into the face table and the vector index, where subject search and clustering
find them. A picture with no face gives an ``ok`` result with no signals; a picture too
small to hold a face gives the same, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from typing import ClassVar

from haechi.analyze.base import Analyzer, Example
from haechi.analyze.faces import codec
from haechi.analyze.faces.image import TooSmall, load_picture
from haechi.analyze.faces.pipeline import Face, FacePipeline, PipelineSettings
from haechi.domain.analysis import AnalysisInput, AnalysisResult, MediaKind, Signal

if find_spec("dlib") is None:  # the registry lists the analyzer as unavailable
    raise ImportError("dlib is not installed: pip install 'haechi[faces]'", name="dlib")


@dataclass(frozen=True)
class FaceSettings:
    detector: str = "hog"  # "hog" (fast) or "cnn" (MMOD: more poses, ~20x slower)
    max_side: int = 2560  # larger pictures are reduced to this before detection
    upsample_limit: int = 2600
    max_upsample: int = 2
    min_score: float = 0.0
    jitters: int = 0
    max_faces: int = 64
    video_frames: int = 8  # keyframes sampled from a video, spread over its length


class FaceAnalyzer(Analyzer):
    name: ClassVar[str] = "faces"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.IMAGE, MediaKind.ANIMATION, MediaKind.VIDEO})
    description = (
        "Faces in pictures and video keyframes: dlib HOG detection, 5-point alignment, "
        "128-d ResNet embedding."
    )
    settings_cls: ClassVar[type] = FaceSettings
    time_limit: ClassVar[float] = 180.0

    def __init__(self, settings: FaceSettings | None = None) -> None:
        super().__init__(settings)
        s: FaceSettings = self.settings
        if s.detector not in ("hog", "cnn"):
            from haechi.domain import UsageError

            raise UsageError(
                f"Setting analyzers.faces.detector must be hog or cnn, not {s.detector!r}."
            )
        self._pipeline: FacePipeline | None = None

    def setup(self) -> None:
        s: FaceSettings = self.settings
        self._pipeline = FacePipeline(
            PipelineSettings(
                detector=s.detector,
                upsample_limit=s.upsample_limit,
                max_upsample=s.max_upsample,
                min_score=s.min_score,
                jitters=s.jitters,
                max_faces=s.max_faces,
            )
        )

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if self._pipeline is None:
            self.setup()
        assert self._pipeline is not None
        if item.kind == MediaKind.VIDEO:
            return self._video(item)
        try:
            picture = load_picture(item.path, self.settings.max_side)
        except TooSmall as small:
            return AnalysisResult(warnings=[str(small)])
        faces = self._pipeline.faces(picture)
        signals = [self._signal(number, face) for number, face in enumerate(faces)]
        warnings = []
        if picture.truncated:
            warnings.append("the file is truncated: only its decodable part was analysed")
        if picture.scale < 1.0:
            warnings.append(
                f"reduced from {picture.width}x{picture.height} px for detection "
                f"(scale {picture.scale:.3f}); boxes are in the file's pixels"
            )
        if len(faces) == self.settings.max_faces:
            warnings.append(f"only the {len(faces)} largest faces were kept")
        return AnalysisResult(signals=signals, warnings=warnings)

    def _video(self, item: AnalysisInput) -> AnalysisResult:
        from haechi.analyze.faces.video import one_per_person, sample_frames

        assert self._pipeline is not None
        found, frames = [], 0
        for t, picture in sample_frames(
            item.path, self.settings.video_frames, self.settings.max_side
        ):
            frames += 1
            found += [(t, face) for face in self._pipeline.faces(picture)]
        kept = one_per_person(found)
        signals = []
        for number, (t, face) in enumerate(kept):
            sig = self._signal(number, face)
            sig.data["t"] = round(t, 3)  # seconds into the video; box in that frame's pixels
            signals.append(sig)
        return AnalysisResult(
            signals=signals,
            warnings=[] if frames else ["no frame of the video could be decoded"],
        )

    def _signal(self, number: int, face: Face) -> Signal:
        return Signal(
            "face",
            None,
            face.score,
            {
                "i": number,
                "box": list(face.box),
                "landmarks": [list(p) for p in face.landmarks],
                "size": face.size,
                "sharpness": face.sharpness,
                "upsample": face.upsample,
                "detector": self.settings.detector,
                "model": codec.MODEL,
                "embedding": codec.encode(face.embedding),
            },
        )

    @classmethod
    def examples(cls) -> list[Example]:
        from pathlib import Path

        import skimage

        astronaut = Path(skimage.data.__file__).parent / "astronaut.png"

        def one_face(result: AnalysisResult) -> None:
            faces = [s for s in result.signals if s.kind == "face" and (s.score or 0) > 0.5]
            assert len(faces) == 1, result.signals
            x, y, w, _h = faces[0].data["box"]
            assert 150 < x < 200 and 60 < y < 100 and 70 < w < 110, faces[0].data["box"]

        return [Example("NASA portrait of Eileen Collins: one face", astronaut, one_face)]
