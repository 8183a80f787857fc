"""Training data for the baseline detector, made from benign photos that packages ship.

Nothing here generates an image of a person or anything sexual, and no image generator is
used: only the colour *camera photos* of objects, animals and scenes that scikit-image and
scikit-learn ship (coffee, a cat, a rocket, a motorcycle, a temple, a flower) — not the
astronaut portrait, and not the microscopy and telescope pictures (retina,
immunohistochemistry, Hubble deep field), which are not camera photos.

* **real**: a crop of a photo, downscaled by 1-16x (as far as the photo allows; web and
  messenger pictures are mostly downscaled, and downscaling makes a photo clean), with a
  random resampling filter, sometimes a sensor-like noise floor, sometimes JPEG.
* **synthetic-like**: the same photo *rebuilt by a random decoder* from a 2x-8x smaller
  version of itself, the way GAN generators and the VAE decoders of latent diffusion
  models build a picture: a random stack of 2x upsampling layers (nearest-neighbour,
  zero-insertion = transposed convolution, or bilinear), random 3x3 convolutions with
  ReLU and, sometimes, StyleGAN-like noise injection; the output is a linear read-out of
  the last layer fitted by ridge regression to rebuild the photo, separately for every
  sub-pixel phase (a trained decoder's output layer is not phase-blind either). Then the
  same size and sharing treatment as real ones: sometimes downscaled 1-4x, sometimes JPEG.

Both classes are cut to the same distribution of sizes, so size cannot tell them apart.
Every example records its source photo and simulation operator (the upsampling kind), so
cross-validation can hold out photos *and* operators (:mod:`.training`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

OPERATORS = ("nearest", "zeros", "bilinear")  # the simulated decoder's upsampling
SIDES = (64, 96, 128, 160, 192, 256, 320, 384)  # final sizes, the same for both classes
_FILTERS = (
    Image.Resampling.LANCZOS,
    Image.Resampling.BILINEAR,
    Image.Resampling.BICUBIC,
    Image.Resampling.BOX,
    Image.Resampling.HAMMING,
)
SKIMAGE_PHOTOS = ("coffee", "chelsea", "rocket")


@dataclass
class Example:
    rgb: np.ndarray
    label: int  # 1 = synthetic-like
    photo: str  # the source photo (a cross-validation group)
    operator: str  # "real" or one of OPERATORS
    factor: float  # how much the picture was downscaled at the end (1 = not)


def photos() -> list[tuple[str, np.ndarray]]:
    """(group, RGB) of every benign colour camera photo the installed packages ship; the
    two views of the stereo motorcycle are one group (the same scene and camera)."""
    from skimage import data

    out = [(name, np.ascontiguousarray(getattr(data, name)()[..., :3])) for name in SKIMAGE_PHOTOS]
    left, right, _ = data.stereo_motorcycle()
    out += [("motorcycle", np.ascontiguousarray(left)), ("motorcycle", np.ascontiguousarray(right))]
    try:
        from sklearn.datasets import load_sample_images

        for name, img in zip(("china", "flower"), load_sample_images().images, strict=True):
            out.append((name, np.ascontiguousarray(img)))
    except (ImportError, OSError):  # scikit-learn is optional for training only
        pass
    return out


# -- what happens to any picture shared online ------------------------------------------------
def _resize(img: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """Square ``img`` to ``side`` with a random resampling filter (only ever reduces)."""
    if img.shape[0] == side:
        return img
    f = _FILTERS[int(rng.integers(len(_FILTERS)))]
    return np.asarray(Image.fromarray(img).resize((side, side), f))


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _crop(img: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop starting on the 8-pixel grid (a JPEG source's blocks stay
    where the JPEG feature looks for them)."""
    h, w = img.shape[:2]
    y = int(rng.integers(0, (h - side) // 8 + 1)) * 8
    x = int(rng.integers(0, (w - side) // 8 + 1)) * 8
    return img[y : y + side, x : x + side]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return lo if hi <= lo else float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _share(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sharing: JPEG with the same probability for both classes."""
    return _jpeg(img, int(rng.integers(70, 99))) if rng.random() < 0.3 else img


def real_example(group: str, photo: np.ndarray, rng: np.random.Generator) -> Example:
    room = min(photo.shape[:2])
    side = int(rng.choice([s for s in SIDES if s <= room]))
    factor = _log_uniform(rng, 1.0, min(16.0, room / side))
    img = _crop(photo, min(room, round(side * factor)), rng)
    if factor < 1.5 and rng.random() < 0.4:  # a sensor's noise floor survives only near 1:1
        sigma = rng.uniform(0.5, 3.0) * np.sqrt(0.3 + img.astype(np.float64) / 255.0)
        img = np.clip(img + rng.normal(0, 1, img.shape) * sigma, 0, 255).astype(np.uint8)
    img = _resize(img, side, rng)
    return Example(_share(img, rng), 0, group, "real", factor)


# -- a random decoder -------------------------------------------------------------------------
def _conv3(h: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 convolution, ``h`` (H, W, Cin), ``w`` (3, 3, Cin, Cout): nine matrix products."""
    p = np.pad(h, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    height, width = h.shape[:2]
    out = np.broadcast_to(b, (height, width, len(b))).copy()
    for dy in range(3):
        for dx in range(3):
            out += p[dy : dy + height, dx : dx + width] @ w[dy, dx]
    return out


def _upsample(h: np.ndarray, mode: str) -> np.ndarray:
    import cv2

    height, width, c = h.shape
    if mode == "nearest":
        return h.repeat(2, axis=0).repeat(2, axis=1)
    if mode == "zeros":  # transposed convolution = zero insertion, then the convolution
        out = np.zeros((2 * height, 2 * width, c), dtype=h.dtype)
        out[::2, ::2] = 4 * h
        return out
    up = cv2.resize(h, (2 * width, 2 * height), interpolation=cv2.INTER_LINEAR)
    return up.reshape(2 * height, 2 * width, c)


def _weights(rng: np.random.Generator, cin: int, cout: int) -> tuple[np.ndarray, np.ndarray]:
    w = rng.normal(0, math.sqrt(2.0 / (9 * cin)), (3, 3, cin, cout)).astype(np.float32)
    return w, rng.normal(0, 0.05, cout).astype(np.float32)


def decode(target: np.ndarray, layers: int, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Rebuild ``target`` (float32 HxWx3 in [0, 1], sides divisible by f = 2**layers) from a
    compressed latent code through random upsampling layers. Returns float32 in [0, 1].

    The code is a random linear projection of every f x f x 3 cell to a few channels (like
    a VAE's 4 channels per 8x8 cell): it keeps some of the cell's detail, not all. The
    output is read out, separately for each of the f x f sub-pixel phases, by ridge
    regression from the last layer and the code (of the pixel's own cell, as in a pixel
    shuffle, or interpolated between cells), so its errors repeat with the cell grid, as
    a real decoder's do.
    """
    import cv2

    f = 2**layers
    height, width = target.shape[:2]
    cells = target.reshape(height // f, f, width // f, f, 3).swapaxes(1, 2)
    cells = cells.reshape(height // f, width // f, 3 * f * f) - 0.5
    k = int(np.clip(round(3 * f * f * rng.uniform(0.08, 0.35)), 3, 24))
    proj = rng.normal(0, 1 / math.sqrt(3 * f * f), (3 * f * f, k)).astype(np.float32)
    z = cells @ proj
    c = int(rng.integers(6, 13))
    slope = float(rng.choice([0.0, 0.2]))  # ReLU or leaky ReLU

    def act(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, slope * x)

    w, b = _weights(rng, k, c)
    h = act(_conv3(z, w, b))
    noise = rng.random() < 0.5
    for _ in range(layers):
        w, b = _weights(rng, c, c)
        h = _conv3(_upsample(h, mode), w, b)
        if noise:  # StyleGAN-like noise injection: one noise image, per-channel strength
            strength = rng.uniform(0.02, 0.3, c).astype(np.float32) * h.std()
            h += rng.normal(0, 1, (*h.shape[:2], 1)).astype(np.float32) * strength
        h = act(h)
    code: np.ndarray
    if rng.random() < 0.3:  # each pixel reads its own cell's code (a pixel shuffle)
        code = z.repeat(f, axis=0).repeat(f, axis=1)
    else:  # or the code interpolated between cells: no hard cell edges
        code = cv2.resize(z, (width, height), interpolation=cv2.INTER_LINEAR)
        code = code.reshape(height, width, k)
    feats = np.concatenate([h, code, np.ones((height, width, 1), np.float32)], axis=2)
    out = np.empty_like(target)
    d = feats.shape[2]
    for py in range(f):
        for px in range(f):
            x = feats[py::f, px::f].reshape(-1, d).astype(np.float64)
            y = target[py::f, px::f].reshape(-1, 3).astype(np.float64)
            gram = x.T @ x
            ridge = 1e-3 * np.trace(gram) / d
            beta = np.linalg.solve(gram + ridge * np.eye(d), x.T @ y)
            out[py::f, px::f] = (x @ beta).reshape(out[py::f, px::f].shape)
    # A least-squares read-out never invents detail (it regresses to the mean), while a
    # trained generator draws sharp, plausible texture where the content calls for it. So
    # a phase-blind random read-out of the layers' own fine structure is added where the
    # photo had fine detail, to about the photo's fine-detail energy (0.6-1.4 times: real
    # generators err both ways): invented texture that carries the upsampling's traces.
    fine = h - cv2.GaussianBlur(h, (0, 0), 1.0).reshape(h.shape)
    v = rng.normal(0, 1, (c, 1)) + 0.3 * rng.normal(0, 1, (c, 3))  # mostly luminance
    detail = (fine.reshape(-1, c) @ v).reshape(height, width, 3).astype(np.float32)
    where = cv2.resize(_local_energy(target, f), (width, height), interpolation=cv2.INTER_LINEAR)
    detail *= (where / (where.mean() + 1e-6))[..., None]
    want = _fine_energy(target) * rng.uniform(0.6, 1.4)  # generators err either way
    have, extra = _fine_energy(out), _fine_energy(detail)
    if extra > 0 and want > have:
        out = out + detail * np.float32(math.sqrt(want**2 - have**2) / extra)
    return np.clip(out, 0.0, 1.0)


def _local_energy(x: np.ndarray, f: int) -> np.ndarray:
    """Mean |Laplacian| per f x f cell: where the picture has fine detail."""
    import cv2

    g = x.mean(axis=2)
    lap = np.abs(cv2.Laplacian(g, cv2.CV_32F))
    return cv2.resize(lap, (x.shape[1] // f, x.shape[0] // f), interpolation=cv2.INTER_AREA)


def _fine_energy(x: np.ndarray) -> float:
    """Std of the 4-neighbour Laplacian of the luma-like channel mean."""
    g = x.mean(axis=2)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.std())


def _sharpen(x: np.ndarray, amount: float) -> np.ndarray:
    """Unsharp masking: generators draw crisp edges."""
    import cv2

    blur = cv2.GaussianBlur(x, (0, 0), 1.0)
    return np.clip(x + amount * (x - blur), 0.0, 1.0)


def synthetic_example(
    group: str, photo: np.ndarray, operator: str, rng: np.random.Generator
) -> Example:
    import cv2

    room = min(photo.shape[:2])
    layers = int(rng.integers(1, 4))
    f = 2**layers
    while True:  # a final size and post-downscale the photo has room for
        side = int(rng.choice(SIDES))
        factor = 1.0 if rng.random() < 0.5 else _log_uniform(rng, 1.0, 4.0)
        out_side = -(-round(side * factor) // f) * f
        if out_side <= room:
            break
    pre = _log_uniform(rng, 1.0, min(4.0, room / out_side))  # the photo made clean first
    src = _crop(photo, min(room, round(out_side * pre)), rng).astype(np.float32) / 255.0
    target = cv2.resize(src, (out_side, out_side), interpolation=cv2.INTER_AREA)
    x = decode(target, layers, operator, rng)
    if rng.random() < 0.3:
        x = _sharpen(x, float(rng.uniform(0.2, 1.0)))
    img = (x * 255.0 + 0.5).astype(np.uint8)
    img = _resize(img, round(out_side / factor) if factor > 1 else out_side, rng)
    img = _crop(img, min(side, img.shape[0]), rng)
    return Example(_share(img, rng), 1, group, operator, factor)


def examples(per_class: int, seed: int) -> list[Example]:
    """``per_class`` real and as many synthetic-like examples, cycling through the photos
    and the operators; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    pool = photos()
    out = []
    for i in range(per_class):
        group, photo = pool[i % len(pool)]
        out.append(real_example(group, photo, rng))
        out.append(synthetic_example(group, photo, OPERATORS[i % len(OPERATORS)], rng))
    return out
