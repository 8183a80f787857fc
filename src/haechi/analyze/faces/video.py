"""Frames of a video for face analysis: up to ``max_frames`` keyframes spread over the clip.

Only keyframes are decoded (``skip_frame="NONKEY"``: a fraction of the cost of decoding every
frame), and from them at most ``max_frames``, as evenly spaced in time as the keyframes allow.
A person who appears in several sampled frames is kept once per video (her largest, best
detected face), so a video counts once per person, like a picture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from haechi.analyze.faces.image import Picture
from haechi.analyze.faces.pipeline import Face
from haechi.domain.analysis import AnalysisError

SAME_PERSON_IN_CLIP = 0.45  # the clustering threshold: faces closer than this are one person


def sample_frames(path: Path, max_frames: int, max_side: int) -> Iterator[tuple[float, Picture]]:
    import av
    from PIL import Image

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AnalysisError(f"not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise AnalysisError("the file has no video stream")
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        duration = float(container.duration / 1e6) if container.duration else None
        step = duration / max_frames if duration else 1.0
        next_t, taken = 0.0, 0
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else next_t
                if t + 1e-6 < next_t:
                    continue
                im: Image.Image = frame.to_image()
                w, h = im.size
                if max_side and max(w, h) > max_side:
                    ratio = max_side / max(w, h)
                    im = im.resize((max(1, round(w * ratio)), max(1, round(h * ratio))))
                arr = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
                yield t, Picture(arr, w, h, arr.shape[1] / w, "RGB", False)
                taken += 1
                next_t = t + step
                if taken >= max_frames:
                    break
        except av.FFmpegError as exc:
            if not taken:
                raise AnalysisError(f"the video cannot be decoded: {exc}") from exc


def one_per_person(faces: list[tuple[float, Face]]) -> list[tuple[float, Face]]:
    """Keep, per person, the face with the largest size x score (greedy, best first)."""
    ranked = sorted(faces, key=lambda tf: -(tf[1].size * max(tf[1].score, 0.01)))
    kept: list[tuple[float, Face]] = []
    for t, face in ranked:
        if all(
            float(np.linalg.norm(face.embedding - k.embedding)) >= SAME_PERSON_IN_CLIP
            for _, k in kept
        ):
            kept.append((t, face))
    return kept
