"""The nudity analyzer with the real NudeNet model, on benign pictures only.

What is checked: that our pre/post-processing gives NudeNet's own detections, the
thresholds (which regions count, which are pixelated), and the safe-preview geometry on
synthetic boxes (every pixel of a widened box is pixelated, nothing outside it changes).
No explicit picture is used or needed: the regions for the geometry tests are made up.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data

from haechi.analyze import safe_preview
from haechi.analyze.nudity import EXPLICIT, NudityAnalyzer, NuditySettings, Region
from haechi.analyze.stills import Still, image_still
from haechi.domain.analysis import AnalysisError, AnalysisInput, MediaKind


@pytest.fixture(scope="module")
def analyzer() -> NudityAnalyzer:
    a = NudityAnalyzer()
    a.setup()
    return a


def _png(tmp_path: Path, arr: np.ndarray, name: str = "p.png") -> Path:
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return path


def test_same_detections_as_nudenet_itself(analyzer: NudityAnalyzer, tmp_path: Path) -> None:
    from nudenet import NudeDetector

    reference = NudeDetector()
    for name in ("astronaut", "coffee", "chelsea"):
        path = _png(tmp_path, getattr(data, name)(), f"{name}.png")
        ours = analyzer.detect(image_still(path, 1280))
        theirs = reference.detect(str(path))
        assert [(r.label, r.box) for r in ours] == [(d["class"], d["box"]) for d in theirs]
        for r, d in zip(ours, theirs, strict=True):
            assert r.score == pytest.approx(d["score"], abs=1e-4)


def test_benign_photo_scores_zero_and_gets_a_preview(
    analyzer: NudityAnalyzer, tmp_path: Path
) -> None:
    path = _png(tmp_path, data.astronaut())
    result = analyzer.analyze(AnalysisInput("a" * 64, path, path.stat().st_size, MediaKind.IMAGE))
    summary = result.signals[0]
    assert (summary.kind, summary.value, summary.score) == ("nudity", "none", 0.0)
    faces = [s for s in result.signals if s.kind == "nudity_region"]
    assert [s.value for s in faces] == ["FACE_FEMALE"] and faces[0].score > 0.5
    (preview,) = result.artifacts
    assert preview.name == "safe_preview" and preview.mime == "image/jpeg"
    im = Image.open(io.BytesIO(preview.data))
    assert im.mode == "L" and max(im.size) == 320 and not im.info.get("exif")
    assert summary.data["preview"]["hidden_regions"] == 1  # the face (faces are redacted)


def test_thresholds_decide_score_and_what_is_hidden() -> None:
    a = NudityAnalyzer(
        NuditySettings(exposed_threshold=0.6, pixelate_min_score=0.3, pixelate_faces=False)
    )
    regions = [
        Region("FEMALE_BREAST_EXPOSED", 0.35, [10, 10, 20, 20]),
        Region("BUTTOCKS_EXPOSED", 0.25, [50, 50, 10, 10]),
        Region("FACE_FEMALE", 0.9, [0, 0, 5, 5]),
        Region("FEET_EXPOSED", 0.95, [70, 70, 5, 5]),
    ]
    assert a.file_score(regions) == 0.35  # feet and faces are not explicit
    hidden = a.to_hide(regions)
    assert hidden == [safe_preview.Box(10.0, 10.0, 20.0, 20.0)]  # 0.25 < 0.3; no faces
    with_faces = NudityAnalyzer(NuditySettings(pixelate_min_score=0.2)).to_hide(regions)
    assert len(with_faces) == 3
    assert set(EXPLICIT) <= set(NuditySettings().explicit_labels)


def test_unknown_label_in_settings_is_one_sentence() -> None:
    from haechi.domain import UsageError

    with pytest.raises(UsageError, match="unknown labels: NOT_A_LABEL"):
        NudityAnalyzer(NuditySettings(explicit_labels=("NOT_A_LABEL",)))


def test_preview_rect_is_widened_and_rounded_outwards() -> None:
    # A 1000x500 file shown at 320x160: factor 0.32.
    size = safe_preview.preview_size(1000, 500, 320)
    assert size == (320, 160)
    rect = safe_preview.to_preview_rect(safe_preview.Box(100, 100, 100, 50), 1000, 500, size, 0.1)
    # x: (100 - 10) * 0.32 = 28.8 -> 28; (200 + 10) * 0.32 = 67.2 -> 68; y: (100-5)*.32=30.4
    assert rect == safe_preview.Rect(28, 30, 68, 50)
    edge = safe_preview.to_preview_rect(safe_preview.Box(950, 480, 100, 100), 1000, 500, size, 0.2)
    assert edge.x1 == 320 and edge.y1 == 160 and not edge.empty  # clipped, never past the edge
    assert safe_preview.preview_size(200, 100, 320) == (200, 100)  # never enlarged


def test_pixelation_covers_exactly_the_rect_in_uniform_blocks() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.uniform(0, 255, (100, 120)).astype(np.float32)
    before = pixels.copy()
    rect = safe_preview.Rect(13, 7, 61, 50)
    block = safe_preview.block_size(rect, 6, 4)
    assert block == 8  # ceil(48 / 6)
    safe_preview.pixelate(pixels, rect, block)
    outside = np.ones_like(pixels, dtype=bool)
    outside[rect.y0 : rect.y1, rect.x0 : rect.x1] = False
    assert np.array_equal(pixels[outside], before[outside])
    for y in range(rect.y0, rect.y1, block):
        for x in range(rect.x0, rect.x1, block):
            cell = pixels[y : min(y + block, rect.y1), x : min(x + block, rect.x1)]
            orig = before[y : min(y + block, rect.y1), x : min(x + block, rect.x1)]
            assert np.all(cell == cell.flat[0]) and cell.flat[0] == pytest.approx(
                round(orig.mean()), abs=0.5
            )


def test_rendered_preview_hides_the_box_and_keeps_the_rest(tmp_path: Path) -> None:
    # A picture whose left half is fine stripes: pixelating a box there must flatten them.
    arr = np.zeros((400, 800, 3), dtype=np.uint8)
    arr[:, :, :] = (np.arange(800) % 2 * 255).astype(np.uint8)[None, :, None]
    still = Still(Image.fromarray(arr), 800, 400)
    plain = safe_preview.render(still, [], max_side=400)
    hidden = safe_preview.render(
        still, [safe_preview.Box(0, 0, 200, 200)], max_side=400, margin=0.0, blocks=4
    )
    a = np.asarray(Image.open(io.BytesIO(plain)), dtype=float)
    b = np.asarray(Image.open(io.BytesIO(hidden)), dtype=float)
    assert a.shape == b.shape == (200, 400)
    assert np.abs(a[120:, 120:] - b[120:, 120:]).mean() < 2  # JPEG noise only
    box = b[:100, :100]
    assert box.std() < a[:100, :100].std() + 1e-9


def test_animation_and_video_get_a_preview(analyzer: NudityAnalyzer, tmp_path: Path) -> None:
    frames = [
        Image.fromarray(np.asarray(data.chelsea())[:, i * 20 : i * 20 + 300]) for i in range(6)
    ]
    gif = tmp_path / "a.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    res = analyzer.analyze(AnalysisInput("b" * 64, gif, gif.stat().st_size, MediaKind.ANIMATION))
    assert res.signals[0].data["frames_checked"] == 5 and res.artifacts[0].name == "safe_preview"

    mp4 = tmp_path / "v.mp4"
    with av.open(str(mp4), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        base = np.asarray(Image.fromarray(data.coffee()).resize((320, 240)))
        for i in range(30):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i * 4, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    res = analyzer.analyze(AnalysisInput("c" * 64, mp4, mp4.stat().st_size, MediaKind.VIDEO))
    assert res.signals[0].data["frames_checked"] >= 1
    assert Image.open(io.BytesIO(res.artifacts[0].data)).size == (320, 240)


def test_bad_pictures_raise_analysis_errors(analyzer: NudityAnalyzer, tmp_path: Path) -> None:
    truncated = tmp_path / "t.png"
    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, "PNG")
    truncated.write_bytes(buf.getvalue()[:5000])
    bomb = tmp_path / "bomb.png"
    Image.new("L", (10_000, 10_000)).save(bomb, optimize=True)  # 100 MP of zeros, ~100 KB
    for path in (truncated, bomb):
        with pytest.raises(AnalysisError):
            analyzer.analyze(AnalysisInput("d" * 64, path, path.stat().st_size, MediaKind.IMAGE))
