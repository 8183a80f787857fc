"""Faces in videos: keyframes sampled across the clip, one face per person per video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from haechi.analyze.faces import FaceAnalyzer
from haechi.domain.analysis import AnalysisError, AnalysisInput, MediaKind


def clip(path: Path, frames: list[np.ndarray], fps: int = 10, gop: int = 10) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.time_base = Fraction(1, fps)
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def run(path: Path):  # type: ignore[no-untyped-def]
    analyzer = FaceAnalyzer()
    analyzer.setup()
    return analyzer.analyze(AnalysisInput("0" * 64, path, path.stat().st_size, MediaKind.VIDEO))


def test_a_person_in_many_frames_is_one_face(tmp_path: Path) -> None:
    portrait = data.astronaut()
    frames = []
    for i in range(30):  # 3 s: the portrait slides a little, as in a re-encoded clip
        canvas = np.full((512, 640, 3), 40, dtype=np.uint8)
        x = 20 + 3 * i
        canvas[:, x : x + 512] = portrait[:, : min(512, 640 - x)]
        frames.append(canvas)
    result = run(clip(tmp_path / "a.mp4", frames))
    faces = [s for s in result.signals if (s.score or 0) > 0.5]
    assert len(faces) == 1, [(s.score, s.data["t"]) for s in result.signals]
    assert 0.0 <= faces[0].data["t"] <= 3.0 and len(faces[0].data["embedding"]) > 600


def test_a_video_without_people_and_a_broken_one(tmp_path: Path) -> None:
    coffee = np.asarray(Image.fromarray(data.coffee()).resize((320, 208)))
    assert [
        s for s in run(clip(tmp_path / "c.mp4", [coffee] * 12)).signals if (s.score or 0) > 0.3
    ] == []
    broken = tmp_path / "b.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    with pytest.raises(AnalysisError):
        run(broken)
