"""Benign media for the demo export, made only from scikit-image's bundled sample photos.

Everything here is deterministic: every encoder parameter is pinned (quality, chroma
subsampling, PNG compression level, WebP method, x264 options, one thread), no metadata
with a clock in it is written, and nothing depends on the environment. The same install
therefore produces the same bytes on every run, which the demo's tests check.

The variants (resized, cropped, re-encoded) exist so that later near-duplicate detection
has realistic re-posts to find: the same picture saved and re-uploaded, not just copied.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

# The only pictures the demo may use: scikit-image's bundled samples of objects, a cat, a
# rocket, the sky, a logo and a scanned page. None of them shows a person, on purpose.
SAMPLE_NAMES: tuple[str, ...] = (
    "coffee",
    "chelsea",
    "rocket",
    "moon",
    "coins",
    "hubble_deep_field",
    "colorwheel",
    "logo",
    "page",
)


@dataclass(frozen=True, slots=True)
class Encoded:
    """Encoded bytes with the pixel size a Telegram export reports beside them."""

    data: bytes
    width: int
    height: int


@functools.cache
def sample(name: str) -> Image.Image:
    """One scikit-image sample photo as a PIL image (RGB, or RGBA for ``logo``)."""
    if name not in SAMPLE_NAMES:
        raise ValueError(f"not an allowed sample photo: {name!r}")
    from skimage import data  # imported lazily: it takes a noticeable moment

    array = np.asarray(getattr(data, name)())
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    image = Image.fromarray(array)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    return image


def flatten(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """RGB version of an image; transparent areas become ``background`` (JPEG has no alpha)."""
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")


def crop_fraction(image: Image.Image, fraction: float) -> Image.Image:
    """Cut ``fraction`` of width and height away, evenly from every side (a re-poster's crop)."""
    if fraction <= 0:
        return image
    w, h = image.size
    dx, dy = round(w * fraction / 2), round(h * fraction / 2)
    return image.crop((dx, dy, w - dx, h - dy))


def fit(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale so the longer side is at most ``max_side``, keeping the aspect ratio."""
    w, h = image.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return image
    return image.resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS
    )


def jpeg(
    image: Image.Image,
    *,
    quality: int = 87,
    max_side: int | None = None,
    crop: float = 0.0,
    subsampling: int = 2,
) -> Encoded:
    """Baseline JPEG. Telegram stores photos as JPEG, so every exported ``photo`` is one."""
    img = crop_fraction(image, crop)
    if max_side is not None:
        img = fit(img, max_side)
    img = flatten(img)
    buf = io.BytesIO()
    # optimize/progressive off and no EXIF: nothing varies between runs.
    img.save(buf, "JPEG", quality=quality, subsampling=subsampling, optimize=False)
    return Encoded(buf.getvalue(), img.width, img.height)


def photo(
    name: str, *, quality: int = 87, max_side: int | None = None, crop: float = 0.0
) -> Encoded:
    """JPEG of a named sample, optionally scaled down and cropped (see :func:`jpeg`)."""
    return jpeg(sample(name), quality=quality, max_side=max_side, crop=crop)


def png(name: str, *, max_side: int | None = None) -> Encoded:
    """Lossless PNG of a sample, as when a picture is sent "as a file" (uncompressed)."""
    img = sample(name)
    if max_side is not None:
        img = fit(img, max_side)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=6, optimize=False)
    return Encoded(buf.getvalue(), img.width, img.height)


def sticker_webp(name: str = "logo", size: int = 512) -> Encoded:
    """A sticker-like WebP: transparent background, longer side exactly 512 px like Telegram's."""
    img = sample(name).convert("RGBA")
    w, h = img.size
    scale = size / max(w, h)
    img = img.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=80, method=4, exact=False)
    return Encoded(buf.getvalue(), img.width, img.height)


def thumbnail(image: Image.Image, max_side: int = 320, quality: int = 80) -> Encoded:
    """The ``_thumb.jpg`` Telegram keeps beside documents and videos (longer side <= 320)."""
    return jpeg(image, quality=quality, max_side=max_side)


def _ken_burns_frames(
    image: Image.Image, width: int, height: int, count: int, zoom: float
) -> list[np.ndarray]:
    """Frames of a slow centred zoom, each cropped to the output aspect ratio first."""
    src = flatten(image)
    sw, sh = src.size
    # Largest centred box with the output's aspect ratio: frame 0 is the whole sample.
    if sw / sh > width / height:
        box_w, box_h = sh * width / height, float(sh)
    else:
        box_w, box_h = float(sw), sw * height / width
    frames = []
    for i in range(count):
        z = 1.0 + (zoom - 1.0) * i / max(1, count - 1)
        w, h = box_w / z, box_h / z
        left, top = (sw - w) / 2, (sh - h) / 2
        frame = src.resize(
            (width, height), Image.Resampling.BILINEAR, box=(left, top, left + w, top + h)
        )
        frames.append(np.asarray(frame))
    return frames


def _yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 planes stacked as PyAV's ``yuv420p`` ndarray.

    Integer arithmetic only, so the planes are exact whatever SIMD path numpy takes. We
    convert ourselves because libx264 fed ``rgb24`` through PyAV's conversion gave different
    bytes from one call to the next in the same process (PyAV 18); fed exact planes, the
    encoder is byte-stable.
    """
    a = rgb.astype(np.int32)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
    u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128
    v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128
    h, w = y.shape
    u = (u.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3)) + 2) // 4
    v = (v.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3)) + 2) // 4
    planes = [np.clip(p, 0, 255).astype(np.uint8).ravel() for p in (y, u, v)]
    return np.concatenate(planes).reshape(h * 3 // 2, w)


@dataclass(frozen=True, slots=True)
class Video:
    data: bytes
    width: int
    height: int
    duration_seconds: int
    mime_type: str
    first_frame: Image.Image


def video_mp4(
    name: str = "rocket",
    *,
    width: int = 360,
    height: int = 240,
    seconds: int = 3,
    fps: int = 10,
    zoom: float = 1.15,
) -> Video:
    """A few seconds of H.264 (MPEG-4 Part 2 if this FFmpeg lacks libx264) in MP4.

    One encoder thread and fixed options keep the output byte-identical between runs of the
    same install; the encoder does write its version into the stream, so another PyAV
    build may give other bytes.
    """
    import av  # lazy: only the demo needs video

    frames = _ken_burns_frames(sample(name), width, height, seconds * fps, zoom)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        try:
            stream = container.add_stream(
                "libx264", rate=fps, options={"crf": "30", "preset": "veryfast", "threads": "1"}
            )
        except (av.FFmpegError, ValueError):  # pragma: no cover - depends on the FFmpeg build
            stream = container.add_stream("mpeg4", rate=fps, options={"qscale": "6"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        for index, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(_yuv420p(array), format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Video(buf.getvalue(), width, height, seconds, "video/mp4", Image.fromarray(frames[0]))


class DemoAssets:
    """Every picture and clip of the demo export, encoded once and reused across chats.

    Originals as a channel would post them, plus re-posts that someone saved, scaled down
    or cropped, and compressed again: the near-duplicates an analyst has to link up.
    """

    def __init__(self) -> None:
        self.latte = photo("coffee", quality=87)
        self.cat = photo("chelsea", quality=87)
        self.sky = photo("hubble_deep_field", quality=85, max_side=800)
        self.moon = photo("moon", quality=85)
        self.coins = photo("coins", quality=85)
        self.notes = photo("page", quality=85)
        self.cat_small = photo("chelsea", quality=70, max_side=320)
        self.latte_crop = photo("coffee", quality=75, crop=0.08)
        self.sky_small = photo("hubble_deep_field", quality=80, max_side=640)
        self.cat_crop = photo("chelsea", quality=80, crop=0.12)
        self.video = video_mp4("rocket")
        self.video_thumb = thumbnail(self.video.first_frame)
        self.chart = png("colorwheel")
        self.chart_thumb = thumbnail(sample("colorwheel"))
        self.sticker = sticker_webp("logo")
        self.sticker_thumb = thumbnail(sample("logo"), max_side=128)
