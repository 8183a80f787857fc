"""PDQ: the numpy implementation against Meta's C++ (``pdqhash``) and python-threatexchange,
the decoding policies, every Pillow mode, EXIF orientation, animations, and the
ThreatExchange reference vectors in ../shared/data/pdq (skipped when absent)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps
from skimage import data as samples
from tests.conftest import SHARED_DATA

from haechi.analyze.hashes.decode import EXACT, FAST, DecodeError, frame_indices, rgb_array
from haechi.analyze.hashes.pdq import PdqAnalyzer, hash_picture
from haechi.analyze.hashes.pdqcore import DIHEDRAL, hamming, luma_from_rgb, pdq_from_luma
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisError, AnalysisInput, MediaKind

SAMPLES = ("coffee", "chelsea", "rocket", "hubble_deep_field", "coins", "page", "moon")
TRANSFORMS = {
    "rotate90": lambda a: np.rot90(a, 1),
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flipx": lambda a: a[::-1],
    "flipy": lambda a: a[:, ::-1],
    "flipplus1": lambda a: a.swapaxes(0, 1),
    "flipminus1": lambda a: np.rot90(a, 2).swapaxes(0, 1),
}


def _sample(name: str) -> np.ndarray:
    a = np.asarray(getattr(samples, name)())
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a[..., :3], dtype=np.uint8)


def _reference(rgb: np.ndarray) -> tuple[list[str], int]:
    hashes, quality = pdqhash.compute_dihedral(rgb)
    return [np.packbits(h).tobytes().hex() for h in hashes], quality


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize("name", SAMPLES)
def test_numpy_pdq_is_bit_identical_with_the_cpp(name: str) -> None:
    rgb = _sample(name)
    ref, quality = _reference(rgb)
    mine = pdq_from_luma(luma_from_rgb(rgb))
    assert mine.hex == ref[0] and mine.quality == quality
    # The dihedral variants are the C++ hashes of the rotated / mirrored picture itself
    # (not the C++'s DCT shortcut, which is off by up to ~16 bits on these sizes).
    for name_, op in TRANSFORMS.items():
        turned, _ = _reference(np.ascontiguousarray(op(rgb)))
        assert hamming(mine.dihedral[name_], turned[0]) <= 1, name_


@pytest.mark.parametrize("shape", [(3, 40), (5, 5), (64, 64), (65, 63), (17, 1031), (2000, 9)])
def test_odd_sizes_match_the_cpp(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    rgb = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    rgb[: shape[0] // 2] //= 3  # some structure, so the hash is not noise
    ref, quality = _reference(rgb)
    mine = pdq_from_luma(luma_from_rgb(rgb))
    assert (mine.hex, mine.quality) == (ref[0], quality)


def test_the_hash_is_the_one_python_threatexchange_computes(tmp_path: Path) -> None:
    pytest.importorskip("threatexchange")
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

    for name in ("coffee", "rocket"):
        path = tmp_path / f"{name}.png"
        Image.fromarray(_sample(name)).save(path)
        expected, quality = pdq_from_file(path)
        got = hash_picture(path, decode=EXACT)[0].pdq
        assert (got.hex, got.quality) == (expected, quality)


def test_fast_decode_stays_within_a_few_bits_and_is_marked(tmp_path: Path) -> None:
    big = np.asarray(Image.fromarray(_sample("coffee")).resize((1800, 1200), Image.LANCZOS))
    path = tmp_path / "big.jpg"
    path.write_bytes(_jpeg(big))
    exact = hash_picture(path, decode=EXACT)[0]
    assert exact.data["decode"] == "exact"
    for side, how in ((512, "jpeg-luma-1/2"), (256, "jpeg-luma-1/4"), (2000, "jpeg-luma")):
        fast = hash_picture(path, decode=FAST, min_side=side)[0]
        assert fast.data["decode"] == how  # 1/4: 450 x 300, both sides still >= 256
        assert hamming(exact.pdq.hex, fast.pdq.hex) <= 4, side
        assert (fast.data["width"], fast.data["height"]) == (1800, 1200)  # the stored size


def test_fast_decode_falls_back_to_exact_for_non_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.fromarray(_sample("rocket")).save(path)
    assert hash_picture(path, decode=FAST)[0].data["decode"] == "exact"


MODES = ["1", "L", "LA", "P", "PA", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_pillow_mode_hashes_close_to_rgb(mode: str) -> None:
    rgb = Image.fromarray(_sample("chelsea"))
    base = pdq_from_luma(luma_from_rgb(np.asarray(rgb))).hex
    converted = rgb.convert(mode) if mode not in ("I", "F") else rgb.convert("L").convert(mode)
    h = pdq_from_luma(luma_from_rgb(rgb_array(converted)))
    limit = 40 if mode == "1" else 16  # 1-bit dithering really changes the picture
    assert h.quality >= 50 and hamming(h.hex, base) <= limit, (mode, hamming(h.hex, base))


def test_sixteen_bit_pictures_are_scaled_not_clipped(tmp_path: Path) -> None:
    grey = np.asarray(Image.fromarray(_sample("coins")).convert("L"))
    path = tmp_path / "deep.png"
    Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    got = hash_picture(path, decode=EXACT)[0].pdq
    expected = pdq_from_luma(grey.astype(np.float32))
    assert got.quality >= 50 and hamming(got.hex, expected.hex) <= 4


def test_exif_orientation_is_recorded_not_applied(tmp_path: Path) -> None:
    photo = Image.fromarray(_sample("rocket"))
    plain, tagged = tmp_path / "plain.jpg", tmp_path / "tagged.jpg"
    photo.save(plain, quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    photo.save(tagged, quality=95, exif=exif)
    a, b = hash_picture(plain, decode=EXACT)[0], hash_picture(tagged, decode=EXACT)[0]
    assert a.pdq.hex == b.pdq.hex and b.data["exif_orientation"] == 6
    # a copy with the rotation baked into the pixels is found through a dihedral variant
    rotated = tmp_path / "rotated.jpg"
    ImageOps.exif_transpose(Image.open(tagged)).save(rotated, quality=95)
    baked = hash_picture(rotated, decode=EXACT)[0].pdq
    assert hamming(baked.hex, a.pdq.hex) > 64
    assert min(hamming(v, a.pdq.hex) for v in baked.dihedral.values()) <= 31


def test_mirrored_repost_is_close_through_a_dihedral_variant() -> None:
    rgb = _sample("coffee")
    original = pdq_from_luma(luma_from_rgb(rgb))
    mirrored = pdq_from_luma(luma_from_rgb(np.ascontiguousarray(rgb[:, ::-1])))
    assert hamming(original.hex, mirrored.hex) > 64
    assert hamming(original.dihedral["flipy"], mirrored.hex) <= 8


def _animation(frames: list[np.ndarray], fmt: str = "GIF") -> bytes:
    images = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    extra = {"lossless": True} if fmt == "WEBP" else {}
    images[0].save(buf, fmt, save_all=True, append_images=images[1:], duration=100, loop=0, **extra)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])  # GIF, animated WebP, APNG
def test_animations_hash_frame_zero_and_distinct_frames(tmp_path: Path, fmt: str) -> None:
    cat, rocket = (
        _sample("chelsea"),
        np.asarray(Image.fromarray(_sample("rocket")).resize((451, 300))),
    )
    rng = np.random.default_rng(3)

    def jitter(a: np.ndarray) -> np.ndarray:  # a different frame that looks the same
        return np.clip(a.astype(int) + rng.integers(-6, 7, a.shape), 0, 255).astype(np.uint8)

    path = tmp_path / f"anim.{fmt.lower()}"
    path.write_bytes(_animation([cat, jitter(cat), jitter(cat), rocket, jitter(rocket)], fmt))
    with Image.open(path) as im:  # really an animation in that container
        assert im.format == fmt and getattr(im, "n_frames", 1) == 5
    item = AnalysisInput("a" * 64, path, path.stat().st_size, MediaKind.ANIMATION)
    result = PdqAnalyzer().analyze(item)
    assert [s.data["frame"] for s in result.signals] == [0, 3]  # the repeats add nothing
    assert all(s.data["frames"] == 5 for s in result.signals)
    assert hamming(result.signals[0].value or "", result.signals[1].value or "") > 31


def test_frame_indices_are_bounded_and_start_at_zero() -> None:
    assert frame_indices(1, 16) == [0]
    assert frame_indices(5, 16) == [0, 1, 2, 3, 4]
    picked = frame_indices(10**9, 16)
    assert picked[0] == 0 and len(picked) == 16 and max(picked) < 10_000


def test_analyzer_signal_shape_and_low_quality_warning(tmp_path: Path) -> None:
    photo, flat = tmp_path / "p.jpg", tmp_path / "flat.png"
    photo.write_bytes(_jpeg(_sample("coffee")))
    Image.new("RGB", (300, 200), (120, 120, 120)).save(flat)
    analyzer = PdqAnalyzer()
    sig = analyzer.analyze(AnalysisInput("b" * 64, photo, 1, MediaKind.IMAGE)).signals[0]
    assert sig.kind == "pdq" and len(sig.value or "") == 64 and sig.score == 100.0
    assert set(sig.data["dihedral"]) == set(DIHEDRAL[1:])
    low = analyzer.analyze(AnalysisInput("c" * 64, flat, 1, MediaKind.IMAGE))
    assert low.signals[0].score == 0.0 and "below 50" in low.warnings[0]


def test_broken_file_is_an_analysis_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(_jpeg(_sample("coffee"))[:300])
    with pytest.raises(AnalysisError):
        PdqAnalyzer().analyze(AnalysisInput("d" * 64, bad, 300, MediaKind.IMAGE))
    with pytest.raises(DecodeError):
        hash_picture(io.BytesIO(b"not a picture"))


def test_bad_settings_are_one_sentence() -> None:
    from haechi.analyze.hashes.pdq import PdqSettings

    with pytest.raises(UsageError, match=r"analyzers\.pdq\.decode"):
        PdqAnalyzer(PdqSettings(decode="quick"))


def test_examples_hold() -> None:
    analyzer = PdqAnalyzer()
    for example in analyzer.examples():
        item = AnalysisInput("e" * 64, example.path, 1, MediaKind.IMAGE)
        example.check(analyzer.analyze(item))


# -- ../shared/data/pdq -------------------------------------------------------------------------

PDQ_DATA = SHARED_DATA / "pdq"


def _manifest() -> list[dict[str, str]]:
    path = PDQ_DATA / "manifest.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["expected_pdq_hex"]]


@pytest.mark.skipif(not _manifest(), reason="../shared/data/pdq is not present")
@pytest.mark.parametrize("policy", [EXACT, FAST])
def test_threatexchange_vectors_within_16_bits(policy: str) -> None:
    far = []
    for row in _manifest():
        got = hash_picture(PDQ_DATA / row["file"], decode=policy)[0].pdq
        if got.quality < 50 and policy == FAST:
            continue  # a flat picture's hash is unstable, and never matched
        d = hamming(got.hex, row["expected_pdq_hex"])
        if d > 16:
            far.append((row["file"], d))
    assert not far


@pytest.mark.skipif(not _manifest(), reason="../shared/data/pdq is not present")
@pytest.mark.parametrize("policy", [EXACT, FAST])
def test_bridge_mods_match_their_original(policy: str) -> None:
    folder = PDQ_DATA / "threatexchange" / "data" / "bridge-mods"
    original = hash_picture(folder / "aaa-orig.jpg", decode=policy)[0].pdq.hex
    distances = {
        p.name: hamming(original, hash_picture(p, decode=policy)[0].pdq.hex)
        for p in sorted(folder.glob("*.jpg"))
    }
    assert len(distances) == 12 and max(distances.values()) <= 31, distances
