"""Train the built-in baseline detector on data this module makes itself.

No generated image is used or made, and nothing from ``../shared/data`` (that is for
evaluation only). *Real* examples are crops of the colour photos that scikit-image and
scikit-learn ship, put through what photos go through (downscaling with different
filters, JPEG at various qualities, a little sensor-like noise). *Synthetic-like*
examples are the same photos with a generator's **decoder traces** imposed: reduced to a
latent-like resolution (1/2 to 1/8) and brought back up by stacks of random upsampling
layers — nearest-neighbour or zero-insertion ("transposed convolution") upsampling
followed by random convolution kernels, as in GAN generators and the VAE decoders of
latent diffusion models. What the classifier learns is therefore "was this picture
synthesised by upsampling layers from a smaller representation", not what any particular
generator draws; see docs/synthetic.md for what that does and does not catch.

    python -m haechi.analyze.synthetic.training [--out PATH] [--seed N] [--per-class N]

(``scripts/train_synthetic_baseline.py`` runs the same.) The model is a standardised
logistic regression written as JSON: a few kilobytes, no pickle, readable by a person.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from haechi.analyze.synthetic import features as F

MODEL_PATH = Path(__file__).with_name("baseline_model.json")


def selected_features() -> list[str]:
    """The features the model uses: the noise floor (``noise_*``, ``flat_fraction``), the
    tails of the high-frequency residual (``*_logkurt``) and the periodic peaks
    (``peak*``). The spectral-shape, colour and wavelet-energy features are computed but
    left out: with them the model learned the simulation's own quirks (a first version
    using every feature scored at chance level on real generators, see docs/synthetic.md)."""
    return [
        n
        for n in F.NAMES
        if "kurt" in n or n.startswith(("noise_", "peak")) or n == "flat_fraction"
    ]


COLOUR_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
)


def photos() -> list[np.ndarray]:
    """The colour photos installed packages ship (scikit-image, scikit-learn)."""
    from skimage import data

    out = []
    for name in COLOUR_PHOTOS:
        img = getattr(data, name)()
        if img.ndim == 3 and img.shape[2] >= 3:
            out.append(np.ascontiguousarray(img[..., :3]))
    left, right, _ = data.stereo_motorcycle()
    out += [np.ascontiguousarray(left), np.ascontiguousarray(right)]
    try:
        from sklearn.datasets import load_sample_images

        out += [np.ascontiguousarray(i) for i in load_sample_images().images]
    except (ImportError, OSError):  # scikit-learn is optional for training only
        pass
    return out


# -- what happens to real photos --------------------------------------------------------------
_FILTERS = (
    Image.Resampling.LANCZOS,
    Image.Resampling.BILINEAR,
    Image.Resampling.BICUBIC,
    Image.Resampling.BOX,
)


def _resize(img: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    size = (max(8, round(w / factor)), max(8, round(h / factor)))
    f = _FILTERS[int(rng.integers(len(_FILTERS)))]
    return np.asarray(Image.fromarray(img).resize(size, f))


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _crop(img: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    side = min(side, h, w)
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    return img[y : y + side, x : x + side]


def _side(rng: np.random.Generator) -> int:
    return int(rng.choice([64, 96, 128, 192, 256, 320, 384, 512]))


def real_example(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = photo
    if rng.random() < 0.5:
        img = _jpeg(img, int(rng.integers(70, 99)))
    if rng.random() < 0.7:
        img = _resize(img, float(rng.uniform(1.0, 4.0)), rng)
    img = _crop(img, _side(rng), rng)
    if rng.random() < 0.5:  # a sensor's noise floor, partly signal-dependent
        sigma = rng.uniform(0.5, 3.0) * np.sqrt(0.3 + img.astype(np.float64) / 255.0)
        img = np.clip(img + rng.normal(0, 1, img.shape) * sigma, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        img = _jpeg(img, int(rng.integers(75, 99)))
    return img


# -- what a generator's decoder does ----------------------------------------------------------
def _conv(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _random_kernel(size: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """A smoothing kernel with a random imperfection of relative size ``jitter``: a
    trained layer interpolates almost, never exactly, evenly — that residue is the trace."""
    ax = np.arange(size) - (size - 1) / 2
    sigma = rng.uniform(0.5, 1.2)
    base = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    k = base / base.sum()
    k = k + rng.normal(0, jitter, (size, size)) * k.max()
    return (k / k.sum()).astype(np.float32)


def _sharpen(x: np.ndarray, amount: float) -> np.ndarray:
    """Unsharp masking: generators draw crisp edges, not the blur of plain upsampling."""
    import cv2

    blur = cv2.GaussianBlur(x, (0, 0), 1.0)
    return np.clip(x + amount * (x - blur), 0.0, 1.0)


def _upsample_layer(
    x: np.ndarray, rng: np.random.Generator, mode: int, jitter: float
) -> np.ndarray:
    """One 2x upsampling layer of a decoder (float32 HxWx3 in [0, 1])."""
    import cv2

    h, w = x.shape[:2]
    if mode == 0:  # nearest-neighbour, then a 3x3 convolution (latent-diffusion VAE, ...)
        up = cv2.resize(x, (w * 2, h * 2), interpolation=cv2.INTER_NEAREST)
        out = _conv(up, _random_kernel(3, rng, jitter))
    elif mode == 1:  # transposed convolution: zero insertion, then a 4x4 kernel (GANs)
        up = np.zeros((h * 2, w * 2, 3), dtype=np.float32)
        up[::2, ::2] = x
        out = _conv(up, _random_kernel(4, rng, jitter) * 4.0)
    else:  # bilinear, then a 3x3 convolution
        up = cv2.resize(x, (w * 2, h * 2), interpolation=cv2.INTER_LINEAR)
        out = _conv(up, _random_kernel(3, rng, jitter))
    return np.clip(out, 0.0, 1.0)


def _denoise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h = float(rng.uniform(4, 14))
    return cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(img), None, h, h, 5, 15)


def synthetic_example(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A picture with what generated ones share: no sensor-noise floor (smooth areas are
    truly smooth, so the high-frequency residual is heavy-tailed), crisp drawn edges and,
    mostly, the faint periodic residue of a final 2x upsampling layer."""
    side = _side(rng)
    img = _crop(photo, min(int(side * rng.uniform(1.0, 2.5)), *photo.shape[:2]), rng)
    img = _resize(img, img.shape[0] / side, rng) if img.shape[0] > side else img
    x = _denoise(img, rng).astype(np.float32) / 255.0
    if rng.random() < 0.8:
        gan = rng.random() < 0.35
        layers = int(rng.integers(1, 3))
        h, w = x.shape[:2]
        x = _resize((x * 255).astype(np.uint8), 2**layers, rng).astype(np.float32) / 255.0
        jitter = float(rng.uniform(0.01, 0.05))
        for _ in range(layers):
            mode = 1 if gan else int(rng.choice([0, 0, 2]))
            x = _upsample_layer(x, rng, mode, jitter)
        x = x[:h, :w]
    x = _sharpen(x, float(rng.uniform(0.2, 1.5)))
    out = (x * 255.0 + 0.5).astype(np.uint8)
    out = _crop(out, side, rng)
    if rng.random() < 0.25:  # some fakes are resized or re-compressed after generation
        out = _resize(out, float(rng.uniform(1.0, 2.0)), rng)
    if rng.random() < 0.2:
        out = _jpeg(out, int(rng.integers(80, 99)))
    return out


# -- training ---------------------------------------------------------------------------------
def examples(per_class: int, seed: int) -> Iterator[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    pool = photos()
    for i in range(per_class):
        photo = pool[i % len(pool)]
        yield real_example(photo, rng), 0
        yield synthetic_example(photo, rng), 1


def train(per_class: int = 1000, seed: int = 20240901) -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.monotonic()
    xs, ys = [], []
    for img, label in examples(per_class, seed):
        if min(img.shape[:2]) < F.MIN_SIDE:
            continue
        xs.append(F.features(img))
        ys.append(label)
    names = selected_features()
    idx = [F.NAMES.index(n) for n in names]
    x, y = np.vstack(xs)[:, idx], np.asarray(ys)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=5000))
    cv = cross_val_predict(pipe, x, y, cv=5, method="predict_proba")[:, 1]
    pipe.fit(x, y)
    scaler, lr = pipe[0], pipe[1]
    return {
        "format": "haechi-logistic-v1",
        "name": "baseline-upsampling-traces",
        "version": "1",
        "features": names,
        "mean": [round(float(v), 8) for v in scaler.mean_],
        "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 8),
        "threshold": 0.5,
        "training": {
            "examples": len(y),
            "per_class": per_class,
            "seed": seed,
            "cv_auc_on_own_simulated_data": round(float(roc_auc_score(y, cv)), 4),
            "sources": "scikit-image and scikit-learn sample photos; synthetic = simulated "
            "decoder upsampling (haechi.analyze.synthetic.training)",
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(time.monotonic() - started, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--seed", type=int, default=20240901)
    parser.add_argument("--per-class", type=int, default=1000)
    args = parser.parse_args(argv)
    model = train(args.per_class, args.seed)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    auc = model["training"]["cv_auc_on_own_simulated_data"]  # type: ignore[index]
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes); CV AUC on its own data {auc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
