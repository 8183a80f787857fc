"""``pdq``: Meta's PDQ perceptual hash of every picture, with its quality.

One ``pdq`` signal per picture: ``value`` is the 64-hex-digit hash (searchable by
``(kind, value)``), ``score`` the quality (0–100; matching ignores hashes below 50, as
python-threatexchange does), ``data`` the seven other dihedral hashes (the hashes of the
rotated and mirrored picture, used at query time to find such re-posts), the anchored
region hashes of frame 0 (``regions``: the second matching stage, for crops, borders,
captions and stickers; ``regions.py``), the stored size and mode, how it was decoded and
the EXIF orientation tag. Animations get one signal for frame 0 and one per visibly
different sampled frame (``data.frame``). Decoding rules: ``decode.py``.

md5 and SHA-256 are not signals: the vault computed them at capture (``blobs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from haechi.analyze.base import Analyzer, Example
from haechi.analyze.hashes.decode import DECODE_POLICIES, FAST, DecodeError, decode_frames
from haechi.analyze.hashes.pdqcore import PdqHash, hamming, pdq_from_luma
from haechi.analyze.hashes.regions import RegionHashes, anchored_regions
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisError, AnalysisInput, AnalysisResult, MediaKind, Signal

KIND = "pdq"
MATCH_THRESHOLD = 31  # python-threatexchange's PDQ_CONFIDENT_MATCH_THRESHOLD
QUALITY_THRESHOLD = 50  # python-threatexchange's PdqSignal.QUALITY_THRESHOLD


@dataclass(frozen=True)
class PdqSettings:
    # "fast": reduced-size luma-only JPEG decode (a few bits of drift, see the eval);
    # "exact": full RGB decode, bit-identical with pdqhash / python-threatexchange.
    decode: str = FAST
    # The fast path keeps both sides of a JPEG at least this many pixels.
    fast_min_side: int = 256
    # Frames sampled from an animation (frame 0 included).
    animation_frames: int = 16
    # Anchored region hashes of frame 0 for the second matching stage (crops, borders,
    # captions, stickers); about 20 ms a picture. Off: whole-picture PDQ only.
    regions: bool = True


@dataclass(frozen=True, slots=True)
class PictureHash:
    """A PDQ hash of one frame with the facts the signal records."""

    pdq: PdqHash
    frame: int
    data: dict[str, Any]
    regions: RegionHashes | None = None  # frame 0 only, when asked for


def hash_picture(
    source: Any, *, decode: str = FAST, min_side: int = 256, frames: int = 1,
    regions: bool = False,
) -> list[PictureHash]:  # fmt: skip
    """PDQ of frame 0 and of the visibly different sampled frames of an animation, and
    with ``regions`` the anchored region hashes of frame 0 (also in ``data``).

    ``source`` is a path or a binary file object. Raises ``DecodeError``.
    """
    kept: list[PictureHash] = []
    for luma in decode_frames(source, policy=decode, min_side=min_side, frames=frames):
        result = pdq_from_luma(luma.luma, full_shape=(luma.height, luma.width), scale=luma.scale)
        if luma.frame and any(hamming(result.hex, k.pdq.hex) <= MATCH_THRESHOLD for k in kept):
            continue  # a frame like one already kept adds nothing to matching
        data: dict[str, Any] = {
            "quality": result.quality,
            "width": luma.width,
            "height": luma.height,
            "mode": luma.mode,
            "format": luma.format,
            "decode": luma.decode,
            "dihedral": result.dihedral,
        }
        if luma.exif_orientation and luma.exif_orientation != 1:
            data["exif_orientation"] = luma.exif_orientation
        if luma.frames > 1:
            data.update(frame=luma.frame, frames=luma.frames)
        found = anchored_regions(luma.luma) if regions and not kept else None
        if found is not None:
            data["regions"] = found.as_data()
        kept.append(PictureHash(result, luma.frame, data, found))
    return kept


class PdqAnalyzer(Analyzer):
    name: ClassVar[str] = "pdq"
    # 2: dihedral hashes of the transformed picture itself; anchored region hashes
    # 3: region hashes packed (regions.VERSION 2), 48 a picture, 12 indexed
    # 4: grid regions fill the places keypoints left, pictures under 256 px get two patch
    # sizes a keypoint (regions.VERSION 3; version 2 still read)
    # 5: pictures under 256 px get a third patch size, smaller grid squares, 20 indexed
    # regions and a lower region quality bar (regions.VERSION 4; 2 and 3 still read)
    # 6: pictures under 256 px index their central grid squares too and look every region
    # up (regions.VERSION 5; 2 to 4 still read)
    # 7: pictures under 256 px find keypoints at a fixed magnification, pictures under 100 px
    # take smaller patches (regions.VERSION 6; 2 to 5 still read)
    version: ClassVar[str] = "7"
    media_kinds = frozenset({MediaKind.IMAGE, MediaKind.ANIMATION})
    description = "PDQ perceptual hash and quality (near-duplicate matching, banks)."
    settings_cls: ClassVar[type] = PdqSettings
    time_limit: ClassVar[float] = 60.0

    def __init__(self, settings: Any = None) -> None:
        super().__init__(settings)
        s = self.settings
        if s.decode not in DECODE_POLICIES:
            raise UsageError(
                f"Setting analyzers.pdq.decode must be one of {', '.join(DECODE_POLICIES)}, "
                f"not {s.decode!r}."
            )
        if s.fast_min_side < 64 or s.animation_frames < 1:
            raise UsageError(
                "Settings analyzers.pdq.fast_min_side must be at least 64 and "
                "animation_frames at least 1."
            )

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        s = self.settings
        frames = s.animation_frames if item.kind == MediaKind.ANIMATION else 1
        try:
            hashes = hash_picture(
                item.path, decode=s.decode, min_side=s.fast_min_side, frames=frames,
                regions=s.regions,
            )  # fmt: skip
        except DecodeError as exc:
            raise AnalysisError(str(exc)) from exc
        signals = [Signal(KIND, h.pdq.hex, float(h.pdq.quality), h.data) for h in hashes]
        warnings = []
        if hashes and hashes[0].pdq.quality < QUALITY_THRESHOLD:
            warnings.append(
                f"PDQ quality {hashes[0].pdq.quality} is below {QUALITY_THRESHOLD}: "
                "too flat to match reliably, kept but never matched"
            )
        return AnalysisResult(signals=signals, warnings=warnings)

    @classmethod
    def examples(cls) -> list[Example]:
        """A scikit-image sample photo and its mirror image (written to a temp dir)."""
        import tempfile

        from PIL import Image, ImageOps
        from skimage import data as samples

        folder = Path(tempfile.gettempdir()) / "haechi-pdq-examples"
        folder.mkdir(exist_ok=True)
        photo = Image.fromarray(samples.coffee())
        original, mirrored = folder / "coffee.jpg", folder / "coffee-mirrored.jpg"
        photo.save(original, "JPEG", quality=90)
        ImageOps.mirror(photo).save(mirrored, "JPEG", quality=90)
        reference = hash_picture(original, decode="exact")[0].pdq

        def same_photo(result: AnalysisResult) -> None:
            sig = result.signals[0]
            assert sig.kind == KIND and sig.score is not None and sig.score >= 50
            assert sig.value is not None and hamming(sig.value, reference.hex) <= 16

        def mirror_found(result: AnalysisResult) -> None:
            sig = result.signals[0]
            assert sig.value is not None and hamming(sig.value, reference.hex) > 64
            assert hamming(sig.data["dihedral"]["flipy"], reference.hex) <= 31

        return [
            Example("a photo: quality >= 50, close to its exact hash", original, same_photo),
            Example("its mirror image: far as stored, close once flipped", mirrored, mirror_found),
        ]


def path_hash(path: Path, *, decode: str = FAST) -> PictureHash | None:
    """The frame-0 PDQ of a picture file (None when it has no frame)."""
    hashes = hash_picture(path, decode=decode)
    return hashes[0] if hashes else None
