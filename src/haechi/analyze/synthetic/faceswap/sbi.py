"""Self-blended images: a real face, transformed, blended back into its own picture.

What a face swap leaves (Shiohara & Yamasaki 2022) made without any fake imagery: the
source face differs from its surroundings in colour (RGB/HSV shifts, contrast) and in
frequency content (blur, down- and up-scaling, sharpening, JPEG), is slightly misaligned
(shift, scale), and is blended through a mask shaped like a swap's (the hull of the jaw
and brows, or of the inner face, eroded or dilated, wobbled, feathered, sometimes
half-transparent). Both classes then go through the same sharing (downscale, JPEG).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from haechi.analyze.synthetic.faceswap.landmarks import JAW_BROWS

INNER = list(range(1, 16)) + list(range(17, 27))  # jaw without its ends, and brows


def jpeg(rgb: np.ndarray, quality: float) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=int(quality))
    return np.asarray(Image.open(buf).convert("RGB"))


def face_size(pts: np.ndarray) -> float:
    """The square root of the jaw-and-brows hull's area, in pixels."""
    return float(np.sqrt(cv2.contourArea(cv2.convexHull(pts[JAW_BROWS].astype(np.float32)))))


def _source(rgb: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    x = rgb.astype(np.float32) + rng.uniform(-20, 20, 3)
    x = (x - x.mean()) * rng.uniform(0.85, 1.15) + x.mean() + rng.uniform(-15, 15)
    hsv = cv2.cvtColor(np.clip(x, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-5, 5)) % 180
    hsv[..., 1] *= rng.uniform(0.85, 1.15)
    x = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    h, w = x.shape[:2]
    kind = int(rng.integers(4))
    if kind == 0:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.8))
    elif kind == 1:
        f = rng.uniform(0.35, 0.85)
        small = cv2.resize(
            x, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
        up = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(2))]
        x = cv2.resize(small, (w, h), interpolation=up)
    elif kind == 2:
        x = x + rng.uniform(0.3, 1.2) * (x - cv2.GaussianBlur(x, (0, 0), 1.0))
    else:
        x = jpeg(np.clip(x, 0, 255).astype(np.uint8), rng.uniform(30, 80)).astype(np.float32)
    x = np.clip(x, 0, 255).astype(np.uint8)
    s = rng.uniform(0.96, 1.04)
    tx, ty = rng.uniform(-0.02, 0.02, 2) * size
    m = np.array([[s, 0, (1 - s) * w / 2 + tx], [0, s, (1 - s) * h / 2 + ty]], np.float32)
    return np.asarray(cv2.warpAffine(x, m, (w, h), borderMode=cv2.BORDER_REFLECT))


def blend_mask(shape: tuple[int, ...], pts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A swap-like blend mask in [0, 1]."""
    size = face_size(pts)
    idx = JAW_BROWS if rng.random() < 0.7 else INNER
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(pts[idx].astype(np.int32)), 255)
    mf: np.ndarray = m.astype(np.float32) / 255
    k = max(1, int(size * rng.uniform(0.0, 0.12)))
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    mf = np.asarray(cv2.erode(mf, ker) if rng.random() < 0.6 else cv2.dilate(mf, ker))
    if rng.random() < 0.5:  # wobble the outline
        h, w = mf.shape
        noise = [rng.normal(0, 1, (h, w)).astype(np.float32) for _ in range(2)]
        dx, dy = (cv2.GaussianBlur(n, (0, 0), size * 0.15) * size * 3 for n in noise)
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        mf = cv2.remap(mf, gx + dx, gy + dy, cv2.INTER_LINEAR)
    mf = cv2.GaussianBlur(mf, (0, 0), size * rng.uniform(0.02, 0.12))
    return mf * float(rng.choice([0.5, 0.75, 1.0, 1.0, 1.0]))


def self_blended(rgb: np.ndarray, pts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pseudo-fake of ``rgb`` (a face crop with its landmarks ``pts``)."""
    m = blend_mask(rgb.shape, pts, rng)[..., None]
    out = _source(rgb, face_size(pts), rng).astype(np.float32) * m
    out += rgb.astype(np.float32) * (1 - m)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def shared(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What sharing does to any picture: downscaled 60 % of the time, JPEG 70 %."""
    h, w = rgb.shape[:2]
    if rng.random() < 0.6:
        f = rng.uniform(0.4, 1.0)
        rgb = cv2.resize(
            rgb, (max(16, int(w * f)), max(16, int(h * f))), interpolation=cv2.INTER_AREA
        )
    if rng.random() < 0.7:
        rgb = jpeg(rgb, rng.uniform(50, 95))
    return rgb
