"""Re-post variants of a picture, as re-posters make them: crops, borders, caption bars,
caption text and stickers over the picture, mirror images, rotations, re-encodes and
resizes. Used by the re-post evaluation (``eval/eval_repost.py``), the matching benchmark
and the tests; never by matching itself.

Every variant is deterministic given its parameters (and a seed for the random ones) and
says where the original's content sits in it, so a test can check the geometry and an
evaluation can check what a match reported. Overlays are bounded: caption text and
stickers cover at most ``MAX_OVERLAY`` of the picture. Text is drawn with Pillow's
bundled font, so the output does not depend on the fonts installed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MAX_CROP = 0.20  # per side
MAX_OVERLAY = 0.25  # share of the picture's area
CAPTIONS = ("LOL", "full video", "new leak", "DM me", "part 2", "link in bio", "share!!", "wow")


@dataclass(frozen=True)
class Variant:
    name: str  # crop, pad, caption-bar, caption-text, sticker, mirror, rotate90, ...
    image: Image.Image  # RGB
    params: dict[str, Any] = field(default_factory=dict)
    # The original's pixels that are still visible, as (x0, y0, x1, y1) in the original
    # and where they sit in the variant (before any rotation or mirror image).
    source_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    target_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    overlay_box: tuple[int, int, int, int] | None = None  # what an overlay covers


def _rgb(im: Image.Image) -> Image.Image:
    return im if im.mode == "RGB" else im.convert("RGB")


def _full(im: Image.Image) -> tuple[int, int, int, int]:
    return (0, 0, im.width, im.height)


def crop(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Variant:
    """Cut ``left`` ... ``bottom`` (shares of the width / height, each <= MAX_CROP)."""
    for v in (left, top, right, bottom):
        if not 0 <= v <= MAX_CROP:
            raise ValueError(f"a crop takes 0 to {MAX_CROP:.0%} per side, not {v!r}")
    im = _rgb(im)
    w, h = im.size
    box = (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
    out = im.crop(box)
    return Variant("crop", out, {"left": left, "top": top, "right": right, "bottom": bottom},
                   box, _full(out))  # fmt: skip


def pad(
    im: Image.Image, left: float, top: float, right: float, bottom: float,
    color: tuple[int, int, int] = (0, 0, 0),
) -> Variant:  # fmt: skip
    """Borders of ``left`` ... ``bottom`` (shares of the width / height) in one colour."""
    im = _rgb(im)
    w, h = im.size
    lx, ty = round(w * left), round(h * top)
    out = Image.new("RGB", (w + lx + round(w * right), h + ty + round(h * bottom)), color)
    out.paste(im, (lx, ty))
    params = {"left": left, "top": top, "right": right, "bottom": bottom, "color": list(color)}
    return Variant("pad", out, params, _full(im), (lx, ty, lx + w, ty + h))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, size))


def caption_bar(
    im: Image.Image, height: float, text: str, *, top: bool = False, dark: bool = False
) -> Variant:
    """A bar of ``height`` (share of the picture's height) with a line of text, added
    above or below the picture, as meme makers and channel watermarks do."""
    im = _rgb(im)
    w, h = im.size
    bar = max(8, round(h * height))
    back, ink = ((0, 0, 0), (255, 255, 255)) if dark else ((255, 255, 255), (0, 0, 0))
    out = Image.new("RGB", (w, h + bar), back)
    out.paste(im, (0, bar if top else 0))
    draw = ImageDraw.Draw(out)
    font = _font(int(bar * 0.6))
    draw.text((w * 0.04, (0 if top else h) + bar * 0.15), text, fill=ink, font=font)
    y = bar if top else 0
    params = {"height": height, "text": text, "top": top, "dark": dark}
    return Variant("caption-bar", out, params, _full(im), (0, y, w, y + h),
                   (0, 0 if top else h, w, bar if top else h + bar))  # fmt: skip


def _fit_font(draw: ImageDraw.ImageDraw, text: str, w: int, h: int, area: float) -> Any:
    """The largest font whose text box stays within ``area`` of the picture and its width."""
    size = max(6, h // 20)
    best = _font(size)
    while size < 4 * h:
        font = _font(size)
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font, stroke_width=max(1, size // 12))
        if (x1 - x0) * (y1 - y0) > area * w * h or x1 - x0 > 0.96 * w or y1 - y0 > 0.96 * h:
            break
        best = font
        size = int(size * 1.15) + 1
    return best


def caption_text(
    im: Image.Image, area: float, text: str, *, x: float = 0.5, y: float = 0.5
) -> Variant:
    """White text with a black outline drawn over the picture, its box covering up to
    ``area`` of it (<= MAX_OVERLAY), placed at (``x``, ``y``) in [0, 1] of the free room."""
    if not 0 < area <= MAX_OVERLAY:
        raise ValueError(f"caption text covers up to {MAX_OVERLAY:.0%} of a picture")
    im = _rgb(im).copy()
    w, h = im.size
    draw = ImageDraw.Draw(im)
    font = _fit_font(draw, text, w, h, area)
    stroke = max(1, int(getattr(font, "size", 12)) // 12)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    left = round(x * max(0, w - (x1 - x0))) - x0
    top = round(y * max(0, h - (y1 - y0))) - y0
    draw.text((left, top), text, fill=(255, 255, 255), font=font, stroke_width=stroke,
              stroke_fill=(0, 0, 0))  # fmt: skip
    box = (max(0, math.floor(left + x0)), max(0, math.floor(top + y0)),
           min(w, math.ceil(left + x1)), min(h, math.ceil(top + y1)))  # fmt: skip
    params = {"area": area, "text": text, "x": x, "y": y}
    return Variant("caption-text", im, params, _full(im), _full(im), box)


STICKERS = ("disc", "star", "badge")


def sticker(
    im: Image.Image, area: float, *, kind: str = "disc", x: float = 0.5, y: float = 0.5,
    color: tuple[int, int, int] = (250, 200, 0),
) -> Variant:  # fmt: skip
    """An opaque sticker covering ``area`` of the picture (<= MAX_OVERLAY): a disc, a
    star or a badge with text, placed at (``x``, ``y``) in [0, 1] of the free room."""
    if not 0 < area <= MAX_OVERLAY:
        raise ValueError(f"a sticker covers up to {MAX_OVERLAY:.0%} of a picture")
    if kind not in STICKERS:
        raise ValueError(f"sticker kinds: {', '.join(STICKERS)}")
    im = _rgb(im).copy()
    w, h = im.size
    # The shape's own area is what is covered: a disc fills pi/4 of its square, the star
    # (radii 1/2 and 1/5 of the side) 5 * 0.5 * 0.2 * sin(36 deg) = 0.294, the badge
    # (0.8 of the side high, rounded corners) about 0.79.
    fill = {"disc": math.pi / 4, "star": 0.294, "badge": 0.79}[kind]
    side = min(math.sqrt(area * w * h / fill), 0.98 * min(w, h))
    # Pillow fills every pixel the outline touches, so a small sticker covers more than its
    # geometric area (a star of 38 px on a 60x75 picture: 11.2 % for 9.6 % asked): measured
    # on a mask and shrunk until it covers at most what was asked.
    while side > 2:
        left, top = x * (w - side), y * (h - side)
        mask = Image.new("L", im.size, 0)
        _shape(ImageDraw.Draw(mask), kind, left, top, side, 255)
        if sum(mask.histogram()[1:]) <= area * w * h:
            break
        side *= 0.97
    left, top = x * (w - side), y * (h - side)
    draw = ImageDraw.Draw(im)
    _shape(draw, kind, left, top, side, color)
    if kind == "badge":
        font = _font(int(side / 4))
        tx0, ty0, tx1, ty1 = draw.textbbox((0, 0), "hi!", font=font)
        if tx1 - tx0 <= 0.8 * side and ty1 - ty0 <= 0.6 * side:  # too small a badge: no text
            draw.text((left + side * 0.1 - tx0, top + side * 0.1 - ty0), "hi!",
                      fill=(255, 255, 255), font=font)  # fmt: skip
    # Pillow's shapes include their right and bottom edges
    box = (max(0, math.floor(left)), max(0, math.floor(top)),
           min(w, math.ceil(left + side) + 1), min(h, math.ceil(top + side) + 1))  # fmt: skip
    params = {"area": area, "kind": kind, "x": x, "y": y, "color": list(color)}
    return Variant("sticker", im, params, _full(im), _full(im), box)


def _shape(
    draw: ImageDraw.ImageDraw, kind: str, left: float, top: float, side: float, fill: Any
) -> None:
    """A sticker's shape in a ``side`` square at (``left``, ``top``)."""
    if kind == "disc":
        draw.ellipse((left, top, left + side, top + side), fill=fill)
    elif kind == "star":
        points = []
        for i in range(10):
            radius = side / 2 if i % 2 == 0 else side / 5
            angle = math.pi / 2 + i * math.pi / 5
            points.append((left + side / 2 + radius * math.cos(angle),
                           top + side / 2 - radius * math.sin(angle)))  # fmt: skip
        draw.polygon(points, fill=fill)
    else:
        draw.rounded_rectangle((left, top, left + side, top + side * 0.8), radius=side / 8,
                               fill=fill)  # fmt: skip


_TURNS = {
    "mirror": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip": Image.Transpose.FLIP_TOP_BOTTOM,
    "rotate90": Image.Transpose.ROTATE_90,
    "rotate180": Image.Transpose.ROTATE_180,
    "rotate270": Image.Transpose.ROTATE_270,
}


def turn(im: Image.Image, how: str) -> Variant:
    """A mirror image (``mirror``, ``flip``) or a rotation (counter-clockwise)."""
    im = _rgb(im)
    return Variant(how, im.transpose(_TURNS[how]), {}, _full(im), _full(im))


def reencode(im: Image.Image, quality: int) -> Variant:
    """Saved as JPEG at ``quality`` and read back, as Telegram re-compresses photos."""
    buf = io.BytesIO()
    _rgb(im).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        out.load()
        return Variant("reencode", out.convert("RGB"), {"quality": quality}, _full(im), _full(im))


def resize(im: Image.Image, factor: float) -> Variant:
    im = _rgb(im)
    w, h = max(1, round(im.width * factor)), max(1, round(im.height * factor))
    out = im.resize((w, h), Image.Resampling.LANCZOS)
    return Variant("resize", out, {"factor": factor}, _full(im), (0, 0, w, h))


def jpeg_bytes(im: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    _rgb(im).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# -- the evaluation's set ------------------------------------------------------------------------

CROPS = (0.02, 0.05, 0.10, 0.20)


def _named(v: Variant, name: str, **more: Any) -> Variant:
    return Variant(name, v.image, {**v.params, **more}, v.source_box, v.target_box, v.overlay_box)


def _color(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(0, 256, 3))
    return (r, g, b)


def standard(im: Image.Image, seed: int) -> Iterator[Variant]:
    """One of each re-post the evaluation measures, random parameters drawn from ``seed``:
    symmetric crops of 2, 5, 10 and 20 % per side, a crop of 0-20 % on each side drawn
    independently, borders (one colour, 3-20 % per side, and uneven black ones), a caption
    bar, caption text and a sticker over 8-25 % of the area, a mirror image, rotations,
    a JPEG re-encode at quality 40 and a half-size copy. Each one is finally saved as a
    JPEG (quality 80-92), as a re-post would be; their names say what was done."""
    rng = np.random.default_rng(seed)
    picks = [_named(crop(im, c, c, c, c), f"crop-{round(c * 100)}") for c in CROPS]
    picks.append(_named(crop(im, *(float(x) for x in rng.uniform(0, MAX_CROP, 4))), "crop-uneven"))
    p = float(rng.uniform(0.03, 0.20))
    picks.append(_named(pad(im, p, p, p, p, _color(rng)), "border"))
    a, b, c, d = (float(x) for x in rng.uniform(0.0, 0.25, 4))
    picks.append(_named(pad(im, a, b, c, d), "border-uneven"))
    text = CAPTIONS[int(rng.integers(len(CAPTIONS)))]
    top, dark = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    picks.append(caption_bar(im, float(rng.uniform(0.10, 0.25)), text, top=top, dark=dark))
    text = CAPTIONS[int(rng.integers(len(CAPTIONS)))]
    area, x, y = float(rng.uniform(0.08, MAX_OVERLAY)), float(rng.random()), float(rng.random())
    picks.append(caption_text(im, area, text, x=x, y=y))
    kind = STICKERS[int(rng.integers(len(STICKERS)))]
    area, x, y = float(rng.uniform(0.08, MAX_OVERLAY)), float(rng.random()), float(rng.random())
    picks.append(sticker(im, area, kind=kind, x=x, y=y, color=_color(rng)))
    picks += [turn(im, how) for how in ("mirror", "rotate90", "rotate180", "rotate270")]
    picks += [reencode(im, 40), resize(im, 0.5)]
    for v in picks:
        quality = int(rng.integers(80, 93))
        yield _named(Variant(v.name, reencode(v.image, quality).image, v.params, v.source_box,
                             v.target_box, v.overlay_box), v.name, jpeg=quality)  # fmt: skip
