"""Hand-made pixel features of the built-in baseline detector (no learned filters).

Generators leave traces in the fine structure of pixels rather than in what a picture
shows: the upsampling layers of GAN and diffusion decoders imprint periodic patterns
(peaks in the spectrum at 1/2, 1/4, 1/8 of the sampling rate), their outputs lack a
camera's sensor noise and colour-filter demosaicing correlations, and they are smooth
where photos are grainy. Camera pictures, in turn, usually went through JPEG (8x8 block
traces). Each feature below measures one of these, on the luma (and RGB residuals) of
the picture at its own resolution — never resized, which would wipe the traces out.

All features are scale-free (ratios, logs, correlations) so brightness and contrast do
not matter; the same :func:`features` runs at training time and at analysis time.
"""

from __future__ import annotations

import numpy as np

MAX_CROP = 512  # the centre crop analysed (a multiple of 8, aligned to the 8-pixel grid)
MIN_SIDE = 32
RADIAL_BINS = 10
_EPS = 1e-8

NAMES: list[str] = []  # filled below, one name per feature (for the model file and docs)


def _luma(rgb: np.ndarray) -> np.ndarray:
    f = rgb.astype(np.float64) / 255.0
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def crop(rgb: np.ndarray, size: int = MAX_CROP) -> np.ndarray:
    """The centre crop, at most ``size`` square, starting on the 8-pixel grid."""
    h, w = rgb.shape[:2]
    ch, cw = min(h, size) // 8 * 8 or h, min(w, size) // 8 * 8 or w
    y0 = (h - ch) // 2 // 8 * 8
    x0 = (w - cw) // 2 // 8 * 8
    return rgb[y0 : y0 + ch, x0 : x0 + cw]


def _laplacian(g: np.ndarray) -> np.ndarray:
    return 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]


def _kurtosis(x: np.ndarray) -> float:
    x = x.ravel() - x.mean()
    x2 = x * x
    v = float(x2.mean())
    return float(np.log(float(np.dot(x2, x2)) / x2.size / (v * v + _EPS) + _EPS)) if v > 0 else 0.0


def _residual_stats(g: np.ndarray) -> list[float]:
    dh = np.diff(g, axis=1)
    dv = np.diff(g, axis=0)
    lap = _laplacian(g)
    second = g[:, 2:] - 2 * g[:, 1:-1] + g[:, :-2]
    out = []
    for r in (dh, dv, lap, second):
        s = float(r.std())
        out += [np.log(s + _EPS), _kurtosis(r), float(np.abs(r).mean() / (s + _EPS))]
    # How much of the residual energy is in the first difference vs the second: smooth
    # (generated) pictures put relatively less in the highest frequencies.
    out.append(float(np.log((lap.std() + _EPS) / (dh.std() + _EPS))))
    return out


def _spectrum(r: np.ndarray) -> np.ndarray:
    """Power spectrum of a residual (Hann-windowed, DC at index [0, 0], not shifted)."""
    h, w = r.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    return np.abs(np.fft.fft2((r - r.mean()) * win)) ** 2


def _radial(power: np.ndarray) -> list[float]:
    h, w = power.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    bins = np.minimum((radius / 0.5 * RADIAL_BINS).astype(int), RADIAL_BINS - 1)
    sums = np.bincount(bins.ravel(), weights=power.ravel(), minlength=RADIAL_BINS)
    counts = np.bincount(bins.ravel(), minlength=RADIAL_BINS)
    profile = np.log(sums / np.maximum(counts, 1) + _EPS)
    return list(profile - profile.mean())


def _peaks(power: np.ndarray) -> list[float]:
    """Energy at the spectral positions of 2-, 4- and 8-pixel periods against its 5x5
    surroundings (wrapping around: the spectrum is periodic). Upsampling layers put
    peaks exactly there."""
    h, w = power.shape
    logp = np.log(power + _EPS)
    dy, dx = (a.ravel() for a in np.mgrid[-2:3, -2:3])
    ring = (dy != 0) | (dx != 0)
    dy, dx = dy[ring], dx[ring]
    out = []
    for period in (2, 4, 8):
        ky, kx = (a.ravel() for a in np.mgrid[0:period, 0:period])
        # Skip DC and positions already counted at a shorter period.
        keep = ~((ky == 0) & (kx == 0)) & ~((period > 2) & (ky % 2 == 0) & (kx % 2 == 0))
        y = np.rint(ky[keep] * h / period).astype(int) % h
        x = np.rint(kx[keep] * w / period).astype(int) % w
        around = logp[(y[:, None] + dy[None, :]) % h, (x[:, None] + dx[None, :]) % w]
        ratios = logp[y, x] - np.median(around, axis=1)
        out += [float(ratios.max()), float(ratios.mean())]
    return out


def _colour(rgb: np.ndarray) -> list[float]:
    f = rgb.astype(np.float64) / 255.0
    res = [_laplacian(f[..., c]) for c in range(3)]
    out = []
    for a, b in ((0, 1), (1, 2), (0, 2)):
        x, y = res[a].ravel(), res[b].ravel()
        sx, sy = x.std(), y.std()
        out.append(float((x * y).mean() / (sx * sy + _EPS)) if sx > 0 and sy > 0 else 1.0)
    return out


def _blocks(g: np.ndarray) -> list[float]:
    """Distribution of local noise (8x8 blocks) and JPEG's 8x8 grid."""
    lap = np.abs(_laplacian(g))
    h, w = (lap.shape[0] // 8) * 8, (lap.shape[1] // 8) * 8
    if h < 8 or w < 8:
        return [0.0] * 5
    cells = lap[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
    logc = np.log(cells.ravel() + 1e-4)
    q10, q50, q90 = np.percentile(logc, [10, 50, 90])
    dh = np.abs(np.diff(g, axis=1))
    cols = dh.mean(axis=0)
    n = len(cols) // 8 * 8
    if n >= 16:
        grid = cols[:n].reshape(-1, 8)
        blockiness = float(np.log((grid[:, 7].mean() + _EPS) / (grid[:, :7].mean() + _EPS)))
    else:
        blockiness = 0.0
    return [
        float(q10 - q50),
        float(q90 - q50),
        float(q50),
        blockiness,
        float((logc < q50 - 2.0).mean()),
    ]


def _wavelets(g: np.ndarray) -> list[float]:
    import pywt

    coeffs = pywt.wavedec2(g, "haar", level=3)
    energies = [
        float(np.mean(np.square(np.concatenate([c.ravel() for c in d])))) for d in coeffs[1:]
    ]  # coarsest .. finest detail levels
    e3, e2, e1 = energies
    fine = np.concatenate([c.ravel() for c in coeffs[-1]])
    return [
        float(np.log((e1 + _EPS) / (e2 + _EPS))),
        float(np.log((e2 + _EPS) / (e3 + _EPS))),
        _kurtosis(fine),
    ]


def features(rgb: np.ndarray) -> np.ndarray:
    """The baseline's feature vector for an ``HxWx3`` uint8 RGB picture."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("features need an HxWx3 RGB array")
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise ValueError(f"the picture is smaller than {MIN_SIDE} pixels on a side")
    c = crop(rgb)
    g = _luma(c)
    lap = _laplacian(g)
    power = _spectrum(lap)
    vec = _residual_stats(g) + _radial(power) + _peaks(power) + _colour(c) + _blocks(g)
    vec += _wavelets(g)
    return np.asarray(vec, dtype=np.float64)


def _names() -> list[str]:
    out = []
    for r in ("dh", "dv", "lap", "d2"):
        out += [f"{r}_logstd", f"{r}_logkurt", f"{r}_mad_ratio"]
    out.append("lap_over_dh")
    out += [f"radial_{i}" for i in range(RADIAL_BINS)]
    for p in (2, 4, 8):
        out += [f"peak{p}_max", f"peak{p}_mean"]
    out += ["corr_rg", "corr_gb", "corr_rb"]
    out += ["noise_q10", "noise_q90", "noise_q50", "jpeg_blockiness", "flat_fraction"]
    out += ["wav_e1_e2", "wav_e2_e3", "wav_fine_logkurt"]
    return out


NAMES.extend(_names())
