"""The face analyzer on real pictures with real dlib: one face where there is one, none
where there is none, and awkward files (tiny, huge, grey, CMYK, 16-bit, rotated,
transparent, corrupt) handled without stopping anything."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.faces.conftest import write

from haechi.analyze.faces import FaceAnalyzer, FaceSettings, codec
from haechi.domain.analysis import AnalysisError, AnalysisInput, AnalysisResult, MediaKind


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    a = FaceAnalyzer()
    a.setup()
    return a


def run(analyzer: FaceAnalyzer, path: Path) -> AnalysisResult:
    return analyzer.analyze(AnalysisInput("0" * 64, path, path.stat().st_size, MediaKind.IMAGE))


def faces(result: AnalysisResult, min_score: float = 0.5) -> list[dict]:
    return [
        s.data | {"score": s.score}
        for s in result.signals
        if s.kind == "face" and (s.score or 0) >= min_score
    ]


def save(tmp_path: Path, im: Image.Image, name: str, **kw: object) -> Path:
    path = tmp_path / name
    im.save(path, **kw)
    return path


def test_the_examples_hold(analyzer: FaceAnalyzer) -> None:
    for example in FaceAnalyzer.examples():
        example.check(run(analyzer, example.path))


def test_a_face_has_box_landmarks_quality_and_embedding(
    analyzer: FaceAnalyzer, tmp_path: Path
) -> None:
    path = save(tmp_path, Image.fromarray(data.astronaut()), "a.png")
    (face,) = faces(run(analyzer, path))
    x, y, w, h = face["box"]
    assert len(face["landmarks"]) == 5
    for px, py in face["landmarks"]:  # the landmarks lie on the face
        assert x - 5 <= px <= x + w + 5 and y - 5 <= py <= y + h + 5
    assert face["size"] == min(w, h) and face["sharpness"] > 10
    vector = codec.decode(face["embedding"])
    assert vector.shape == (128,) and 0.5 < float(np.linalg.norm(vector)) < 2.0
    assert face["model"] == codec.MODEL and face["detector"] == "hog"


def test_no_face_is_an_ok_result_without_signals(analyzer: FaceAnalyzer, tmp_path: Path) -> None:
    for name in ("coffee", "rocket", "chelsea"):
        path = save(tmp_path, Image.fromarray(getattr(data, name)()), f"{name}.jpg", quality=90)
        assert faces(run(analyzer, path), min_score=0.3) == [], name


def test_tiny_pictures_warn_instead_of_failing(analyzer: FaceAnalyzer, tmp_path: Path) -> None:
    path = save(tmp_path, Image.new("RGB", (12, 9), "white"), "tiny.png")
    result = run(analyzer, path)
    assert result.signals == [] and "too small" in result.warnings[0]


def test_a_small_face_is_found_by_upsampling(analyzer: FaceAnalyzer, tmp_path: Path) -> None:
    small = Image.fromarray(data.astronaut()).resize((128, 128), Image.Resampling.LANCZOS)
    path = save(tmp_path, small, "small.png")
    found = faces(run(analyzer, path), min_score=0.0)
    face = max(found, key=lambda f: f["score"])  # (the mission patch is a weak second)
    x, y, _, _ = face["box"]
    assert face["upsample"] == 2 and face["size"] < 40
    assert 40 < x < 55 and 15 < y < 30  # a quarter of (175, 76)


def test_a_huge_picture_is_reduced_and_boxes_stay_in_file_pixels(
    analyzer: FaceAnalyzer, tmp_path: Path
) -> None:
    big = Image.new("RGB", (6000, 4000), (90, 110, 130))
    portrait = Image.fromarray(data.astronaut()).resize((1536, 1536))
    big.paste(portrait, (3000, 1000))
    path = save(tmp_path, big, "big.jpg", quality=85)
    result = run(analyzer, path)
    (face,) = faces(result)
    x, y, w, _ = face["box"]
    # the face sits at about (175, 76) + 90 px in the 512 px portrait: x3 and shifted
    assert 3000 + 3 * 150 < x < 3000 + 3 * 210 and 1000 + 3 * 50 < y < 1000 + 3 * 110
    assert 200 < w < 340
    assert any("reduced from 6000x4000" in w_ for w_ in result.warnings)


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16", "RGBA", "P"])
def test_every_pixel_format_gives_the_face(
    analyzer: FaceAnalyzer, tmp_path: Path, mode: str
) -> None:
    im = Image.fromarray(data.astronaut())
    if mode == "I;16":
        grey = np.asarray(im.convert("L"), dtype=np.uint16) * 200  # 16-bit range
        converted = Image.fromarray(grey)
        path = save(tmp_path, converted, "x16.png")
        assert Image.open(path).mode.startswith("I")
    elif mode == "CMYK":
        path = save(tmp_path, im.convert("CMYK"), "cmyk.jpg", quality=92)
        assert Image.open(path).mode == "CMYK"
    elif mode == "RGBA":
        rgba = im.convert("RGBA")
        rgba.putalpha(Image.new("L", im.size, 255).point(lambda _: 200))
        path = save(tmp_path, rgba, "a.png")
    elif mode == "P":
        path = save(tmp_path, im.convert("P", palette=Image.Palette.ADAPTIVE), "p.gif")
    else:
        path = save(tmp_path, im.convert("L"), "grey.png")
    assert len(faces(run(analyzer, path))) == 1, mode


def test_exif_orientation_is_applied(analyzer: FaceAnalyzer, tmp_path: Path) -> None:
    im = Image.fromarray(data.astronaut()).rotate(90, expand=True)  # stored lying on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = save(tmp_path, im, "rot.jpg", quality=92, exif=exif.tobytes())
    (face,) = faces(run(analyzer, path))
    x, y, _, _ = face["box"]
    assert 150 < x < 200 and 60 < y < 100  # where it is in the upright picture


def test_corrupt_files_raise_and_truncated_ones_are_read_as_far_as_they_go(
    analyzer: FaceAnalyzer, tmp_path: Path
) -> None:
    from PIL import ImageFile

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG", quality=90)
    garbage = write(tmp_path / "junk.jpg", b"\xff\xd8\xff\xe0" + b"\x00garbage" * 200)
    half = write(tmp_path / "half.jpg", buf.getvalue()[: len(buf.getvalue()) // 2])
    for lenient in (False, True):  # whatever another library set process-wide
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient
        try:
            with pytest.raises(AnalysisError):
                run(analyzer, garbage)
            result = run(analyzer, half)  # the face is in the top half of the portrait
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
        assert "truncated" in result.warnings[0]
        assert len(faces(result)) == 1


def test_bad_settings_are_one_sentence() -> None:
    from haechi.domain import UsageError

    with pytest.raises(UsageError, match="hog or cnn"):
        FaceAnalyzer(FaceSettings(detector="yolo"))
