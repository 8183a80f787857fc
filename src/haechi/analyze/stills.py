"""The still pictures a pixel analyzer looks at: the image itself, or a few frames.

Nudity detection, safe previews and the synthetic-image detectors all need decoded RGB
pixels of untrusted files, bounded in size and time. This module is the one place that
decodes them: images with Pillow (EXIF orientation applied, so boxes and previews match
what a person sees), animations frame by frame, videos with PyAV (key frames only, spread
over the duration). Decompression bombs are refused here too, not only by the worker's
global Pillow limit, so the analyzers behave the same when called directly.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from haechi.domain.analysis import AnalysisError, MediaKind

MAX_PIXELS = 64_000_000  # the worker's limit (haechi.run.analysis_worker.MAX_IMAGE_PIXELS)
MAX_FRAMES_SCANNED = 10_000  # an animation longer than this is sampled from its head


@dataclass
class Still:
    """One decoded picture: RGB pixels, where it came from and how it was scaled.

    ``scale`` maps working pixels back to the file's own pixels (``original = working *
    scale``), so regions found on a reduced copy are reported in the file's coordinates.
    """

    image: Image.Image  # mode RGB
    width: int  # of the file (after EXIF orientation), not of ``image``
    height: int
    scale: float = 1.0
    frame: int | None = None  # frame index of an animation
    seconds: float | None = None  # timestamp of a video frame

    def where(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {}
        if self.frame is not None:
            out["frame"] = self.frame
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 3)
        return out


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise AnalysisError(
            f"refused a {width}x{height} picture: more than {MAX_PIXELS:,} pixels "
            "(a decompression bomb or an implausible image)"
        )


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; transparency is laid on white (as viewers show it)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = float(arr.max()) or 1.0
        im = Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _reduce(im: Image.Image, max_side: int | None) -> tuple[Image.Image, float]:
    if not max_side or max(im.size) <= max_side:
        return im, 1.0
    scale = max(im.size) / max_side
    size = (max(1, round(im.width / scale)), max(1, round(im.height / scale)))
    return im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), scale


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise AnalysisError(f"not a readable image: {exc}") from exc
    except Image.DecompressionBombWarning as exc:
        raise AnalysisError(f"refused a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise AnalysisError(f"not a readable image: {exc}") from exc
    _check_size(im.width, im.height)
    return im


@contextlib.contextmanager
def strict_decoding() -> Iterator[None]:
    """Truncated files are errors while we decode (some libraries switch Pillow's
    process-wide ``LOAD_TRUNCATED_IMAGES`` on at import; evidence is never padded grey)."""
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def image_still(path: Path, max_side: int | None = None) -> Still:
    """The picture of a still image file, reduced to ``max_side`` (None: full size).

    JPEGs are decoded at a reduced DCT scale when much larger than needed (``draft``),
    which is several times faster and changes nothing a 320-pixel detector can see.
    """
    im = _open(path)
    try:
        with im, strict_decoding():
            return _decode_still(im, max_side)
    except AnalysisError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise AnalysisError(f"damaged image: {exc}") from exc


def _decode_still(im: Image.Image, max_side: int | None) -> Still:
    width, height = im.size
    orientation = im.getexif().get(0x0112)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if max_side and im.format == "JPEG" and max(im.size) > 2 * max_side:
        want = max_side / max(im.size)
        im.draft("RGB", (max(1, int(im.width * want)), max(1, int(im.height * want))))
    im.load()
    oriented = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
    rgb = to_rgb(oriented)
    reduced, _ = _reduce(rgb, max_side)
    return Still(reduced, width, height, scale=width / reduced.width)


def animation_stills(path: Path, count: int, max_side: int | None = None) -> list[Still]:
    """Up to ``count`` frames spread evenly over an animated GIF, WebP or APNG."""
    im = _open(path)
    try:
        with im, strict_decoding():
            total = min(int(getattr(im, "n_frames", 1)), MAX_FRAMES_SCANNED)
            picks = _spread(total, count)
            out = []
            for index in picks:
                im.seek(index)
                rgb = to_rgb(im)
                reduced, _ = _reduce(rgb, max_side)
                out.append(
                    Still(reduced, rgb.width, rgb.height, rgb.width / reduced.width, frame=index)
                )
            return out
    except AnalysisError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise AnalysisError(f"damaged animation: {exc}") from exc


def _spread(total: int, count: int) -> list[int]:
    if total <= 0:
        return [0]
    if total <= count:
        return list(range(total))
    return sorted({int((i + 0.5) * total / count) for i in range(count)})


def video_stills(path: Path, count: int, max_side: int | None = None) -> list[Still]:
    """Up to ``count`` key frames spread over a video's duration (seek, decode one)."""
    import av

    out: list[Still] = []
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise AnalysisError("the file has no video stream")
            stream = container.streams.video[0]
            if stream.codec_context is None:  # a stream FFmpeg has no decoder for
                raise AnalysisError("the video stream's codec cannot be decoded")
            stream.codec_context.skip_frame = "NONKEY"
            duration = _duration(container, stream)
            times = [duration * (i + 0.5) / count for i in range(count)] if duration else [0.0]
            seen: set[float] = set()
            for t in times:
                still = _frame_at(container, stream, t, max_side)
                if still is not None and still.seconds not in seen:
                    seen.add(still.seconds or 0.0)
                    out.append(still)
    except AnalysisError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise AnalysisError(f"not a readable video: {exc}") from exc
    if not out:
        raise AnalysisError("no video frame could be decoded")
    return out


def _duration(container: object, stream: object) -> float:
    dur = getattr(stream, "duration", None)
    base = getattr(stream, "time_base", None)
    if dur and base:
        return float(dur * base)
    cdur = getattr(container, "duration", None)
    return float(cdur) / 1e6 if cdur else 0.0


def _frame_at(
    container: object, stream: object, seconds: float, max_side: int | None
) -> Still | None:
    base = getattr(stream, "time_base", None)
    target = int(seconds / float(base)) if base else 0
    container.seek(target, stream=stream, any_frame=False, backward=True)  # type: ignore[attr-defined]
    for frame in container.decode(stream):  # type: ignore[attr-defined]
        _check_size(frame.width, frame.height)
        rgb = frame.to_image().convert("RGB")
        reduced, _ = _reduce(rgb, max_side)
        t = float(frame.pts * base) if frame.pts is not None and base else seconds
        return Still(reduced, rgb.width, rgb.height, rgb.width / reduced.width, seconds=t)
    return None


def stills_of(path: Path, kind: MediaKind, frames: int, max_side: int | None) -> list[Still]:
    """The pictures to look at for a file of ``kind``: one for an image, several otherwise."""
    if kind == MediaKind.IMAGE:
        return [image_still(path, max_side)]
    if kind == MediaKind.ANIMATION:
        return animation_stills(path, frames, max_side)
    if kind == MediaKind.VIDEO:
        return video_stills(path, frames, max_side)
    raise AnalysisError(f"no pictures in a file of kind {kind.value}")
