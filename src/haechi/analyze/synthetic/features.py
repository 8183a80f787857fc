"""Hand-made pixel features of the built-in baseline detector (no learned filters).

Generators leave traces in the fine structure of pixels rather than in what a picture
shows: the upsampling layers of GAN and diffusion decoders imprint periodic patterns
(spectral peaks at 1/2, 1/4, 1/8 of the sampling rate; sub-pixel "checkerboard" phases
that differ), their spectra fall off differently at high frequencies than a camera's
(Durall et al. 2020, Dzanic et al. 2020), and their colour channels share fine detail
differently. Each feature measures one of these on the picture at its own resolution —
never resized, which would wipe the traces out.

**Size.** A picture's size must not decide its score (an earlier version mostly learned
"small = real"). So everything is measured on fixed 64x64 tiles of a centre crop (at most
512x512, i.e. 64 tiles) and aggregated so that the *expected* value does not depend on how
many tiles there are: per-tile statistics are averaged (the mean, whose expectation does
not move with the number of tiles, unlike a median's); spectra are averaged over tiles
(Welch) for their overall shape, while periodic peaks are measured per tile and their
logs averaged. A bigger picture only gives a less noisy estimate.

All features are scale-free (ratios, logs, correlations) so brightness and contrast do not
matter; the same :func:`features` runs at training time and at analysis time.
"""

from __future__ import annotations

import numpy as np

FEATURE_SET = "tiles64-v2"  # recorded in the model file; a model for other features is refused
TILE = 64
MAX_CROP = 512  # the centre crop analysed: at most 8x8 tiles
MIN_SIDE = TILE
_EPS = 1e-10

NAMES: list[str] = []  # filled below, one name per feature (for the model file and docs)

_F = np.fft.fftfreq(TILE)
_FY, _FX = _F[:, None], _F[None, :]
_RADIUS = np.sqrt(_FX**2 + _FY**2)
_HANN = np.outer(np.hanning(TILE), np.hanning(TILE))
# |transfer function|^2 of the 4-neighbour Laplacian: the spectrum of the high-pass residual
# without a second transform, flat enough that a peak stands out from its neighbours.
_LAP_GAIN = (4 - 2 * np.cos(2 * np.pi * _FY) - 2 * np.cos(2 * np.pi * _FX)) ** 2
_BINS = np.minimum((_RADIUS * TILE).astype(int), TILE // 2)  # radial bins of width 1/64
_RADIAL_F = (np.arange(TILE // 2) + 0.5) / TILE  # centre frequency of bins 0..31


def _peak_positions(period: int) -> np.ndarray:
    """Spectral bins of a ``period``-pixel pattern in a 64-bin spectrum, one of each
    mirror pair, without DC and without the positions of shorter periods."""
    step = TILE // period
    out = set()
    for ky in range(0, TILE, step):
        for kx in range(0, TILE, step):
            if (ky, kx) == (0, 0) or (period > 2 and ky % (2 * step) == 0 == kx % (2 * step)):
                continue
            mirror = ((-ky) % TILE, (-kx) % TILE)
            out.add(min((ky, kx), mirror))
    return np.asarray(sorted(out))


_PEAKS = {p: _peak_positions(p) for p in (2, 4, 8)}
_RING = np.asarray(
    [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4) if max(abs(dy), abs(dx)) >= 2]
)


def crop(rgb: np.ndarray, size: int = MAX_CROP) -> np.ndarray:
    """The centre crop, whole tiles only (at most ``size`` square), starting on the 8-pixel
    grid so that 8-periodic traces (latent grids, JPEG blocks) keep their phase."""
    h, w = rgb.shape[:2]
    ch, cw = min(h, size) // TILE * TILE, min(w, size) // TILE * TILE
    y0 = (h - ch) // 2 // 8 * 8
    x0 = (w - cw) // 2 // 8 * 8
    return rgb[y0 : y0 + ch, x0 : x0 + cw]


def _tiles(x: np.ndarray) -> np.ndarray:
    """``(H, W, ...)`` with H, W multiples of TILE -> ``(n, TILE, TILE, ...)``."""
    h, w = x.shape[:2]
    t = x.reshape(h // TILE, TILE, w // TILE, TILE, *x.shape[2:]).swapaxes(1, 2)
    return t.reshape(-1, TILE, TILE, *x.shape[2:])


def _laplacian(t: np.ndarray) -> np.ndarray:
    """4-neighbour Laplacian of each tile of ``(n, TILE, TILE, ...)`` on its own (edges
    replicated): a tile of a 64 px picture is then treated exactly like any tile of a
    large one, so no statistic depends on how many tiles touch the picture's border."""
    pad = [(0, 0), (1, 1), (1, 1)] + [(0, 0)] * (t.ndim - 3)
    p = np.pad(t, pad, mode="edge")
    return 4 * t - p[:, :-2, 1:-1] - p[:, 2:, 1:-1] - p[:, 1:-1, :-2] - p[:, 1:-1, 2:]


def _spectral(tiles: np.ndarray) -> list[float]:
    """Spectrum of every tile: the Welch average's azimuthal shape, and periodic peaks."""
    x = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    per_tile = np.abs(np.fft.fft2(x * _HANN)) ** 2
    power = per_tile.mean(axis=0)
    # Azimuthal log-power, normalised by its low band (radial bins 1-4), Durall et al.
    sums = np.bincount(_BINS.ravel(), weights=power.ravel(), minlength=TILE // 2 + 1)
    counts = np.bincount(_BINS.ravel(), minlength=TILE // 2 + 1)
    prof = np.log(sums[: TILE // 2] / np.maximum(counts[: TILE // 2], 1) + _EPS)
    # (the low band pooled before the log: few bins each, so a per-bin log would be biased)
    prof = prof - np.log(sums[1:5].sum() / counts[1:5].sum() + _EPS)
    f = _RADIAL_F
    mid, high, top = (f >= 0.125) & (f < 0.25), (f >= 0.25) & (f < 0.375), f >= 0.375
    # Power-law fit of the decay over 1/16..1/2 (Dzanic et al.): exponent, curvature, and
    # how far the last octave's tail departs from the law (generators' tails bend).
    fit = f >= 1 / 16
    lf = np.log(f[fit])
    quad = np.polyfit(lf, prof[fit], 2)
    lin = np.polyfit(lf, prof[fit], 1)
    resid = prof[fit] - np.polyval(lin, lf)
    tail = float(
        resid[f[fit] >= 0.375].mean() - resid[(f[fit] >= 0.1875) & (f[fit] < 0.3125)].mean()
    )
    out = [
        float(prof[mid].mean()),
        float(prof[high].mean()),
        float(prof[top].mean()),
        float(lin[0]),
        float(quad[0]),
        tail,
    ]
    # Peaks of the residual's spectrum at 2-, 4- and 8-pixel periods against a ring of
    # neighbours 2-3 bins away (wrapping: the spectrum is periodic): per tile, the log of
    # the peak bins' mean power over the rings' mean power, then averaged over tiles. Per
    # tile, not on the Welch average: the log of an average is biased by how many tiles
    # were averaged, the average of per-tile logs is not.
    resid = per_tile * _LAP_GAIN
    for period in (2, 4, 8):
        pos = _PEAKS[period]
        ry = (pos[:, :1] + _RING[None, :, 0]) % TILE
        rx = (pos[:, 1:] + _RING[None, :, 1]) % TILE
        ring = resid[:, ry, rx].mean(axis=(1, 2))
        peak = resid[:, pos[:, 0], pos[:, 1]].mean(axis=1)
        out.append(float(np.log((peak + _EPS) / (ring + _EPS)).mean()))
    return out


def _phase_spread(a: np.ndarray, period: int) -> np.ndarray:
    """Per tile: std of the log mean |residual| over the ``period``x``period`` sub-pixel
    phases (0 when every phase is alike; an upsampling layer makes them differ)."""
    n = a.shape[0]
    m = a.reshape(n, TILE // period, period, TILE // period, period).mean(axis=(1, 3))
    return np.log(m.reshape(n, -1) + 1e-6).std(axis=1)


def _phase_share(r: np.ndarray, period: int) -> np.ndarray:
    """Per tile: how much of the residual's variance is a pattern that repeats every
    ``period`` pixels (between-phase share of the signed residual), as log of its ratio
    to what chance gives for this many pixels — so the same for any picture size."""
    n = r.shape[0]
    m = r.reshape(n, TILE // period, period, TILE // period, period).mean(axis=(1, 3))
    m = m.reshape(n, -1)
    total = ((r - r.mean(axis=(1, 2), keepdims=True)) ** 2).sum(axis=(1, 2))
    between = ((m - m.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) * (TILE * TILE) / m.shape[1]
    chance = (period * period - 1) / (TILE * TILE - 1)
    # (clipped below: a perfectly flat tile has no residual at all, log 0)
    return np.log(np.maximum(between / np.maximum(total, _EPS) / chance, np.exp(-5.0)))


def _corr(x: np.ndarray, y: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    x = x - x.mean(axis=axes, keepdims=True)
    y = y - y.mean(axis=axes, keepdims=True)
    num = (x * y).mean(axis=axes)
    den = np.sqrt((x * x).mean(axis=axes) * (y * y).mean(axis=axes))
    return np.where(den > _EPS, num / np.maximum(den, _EPS), 1.0)


def _kurtosis(r: np.ndarray) -> np.ndarray:
    """Per tile: log kurtosis of the residual (heavy tails: smooth areas with crisp edges)."""
    x = r.reshape(r.shape[0], -1)
    x = x - x.mean(axis=1, keepdims=True)
    v = (x * x).mean(axis=1)
    k = (x**4).mean(axis=1) / np.maximum(v * v, _EPS)
    return np.log(np.where(v > _EPS, k, 3.0))


def _local(c: np.ndarray, g: np.ndarray) -> list[float]:
    """Per-tile statistics of the high-pass residual, averaged over tiles."""
    r = _laplacian(_tiles(g))  # (n, 64, 64)
    lum = _tiles(g)
    a = np.abs(r)
    # Averaged over tiles with the mean, not the median: the median of a skewed per-tile
    # statistic moves with the number of tiles (about 0.1 for phase2 between 64 and 512 px
    # of noise), the mean's expectation does not. Logs and clips keep outliers in check.
    avg = np.mean
    chk = [float(avg(_phase_spread(a, p))) for p in (2, 4, 8)]
    phase = [float(avg(_phase_share(r, p))) for p in (2, 4, 8)]
    # Log ratio of the two phases mod 2 of horizontal and vertical differences: the
    # classic checkerboard of zero-insertion / transposed-convolution upsampling.
    dh = np.abs(np.diff(_tiles(g), axis=2))[:, :, :62]
    dv = np.abs(np.diff(_tiles(g), axis=1))[:, :62]
    alt = np.abs(
        np.log(
            (dh[:, :, 0::2].mean(axis=(1, 2)) + 1e-6) / (dh[:, :, 1::2].mean(axis=(1, 2)) + 1e-6)
        )
    )
    alt += np.abs(
        np.log((dv[:, 0::2].mean(axis=(1, 2)) + 1e-6) / (dv[:, 1::2].mean(axis=(1, 2)) + 1e-6))
    )
    # JPEG's 8x8 grid (a camera/sharing trace, so the model can tell it from a latent grid)
    cols = dh[:, :, :56].reshape(dh.shape[0], TILE, 7, 8).mean(axis=(1, 2))
    block = np.log((cols[:, 7] + 1e-6) / (cols[:, :7].mean(axis=1) + 1e-6))
    # Residual level relative to the tile's contrast, absolute level, and tails.
    sd = lum.reshape(len(lum), -1).std(axis=1)
    share = np.log((r.reshape(len(r), -1).std(axis=1) + 1e-6) / (sd + 1e-6))
    level = np.log(r.reshape(len(r), -1).std(axis=1) + 1e-6)
    # Colour: how alike the channels' fine detail is, and whether that differs between
    # the sub-pixel phases mod 2 (a camera's colour-filter demosaicing does).
    rc = _laplacian(_tiles(c))  # (n, 64, 64, 3)
    pairs = ((0, 1), (1, 2), (0, 2))
    xc = np.mean([_corr(rc[..., i], rc[..., j], (1, 2)) for i, j in pairs], axis=0)
    ph = []
    for dy in (0, 1):
        for dx in (0, 1):
            s = rc[:, dy::2, dx::2]
            ph.append(np.mean([_corr(s[..., i], s[..., j], (1, 2)) for i, j in pairs], axis=0))
    xspread = np.ptp(np.asarray(ph), axis=0)
    return [
        *chk,
        float(avg(alt)),
        *phase,
        float(avg(block)),
        float(avg(share)),
        float(avg(level)),
        float(avg(_kurtosis(r))),
        float(avg(xc)),
        float(avg(xspread)),
    ]


def features(rgb: np.ndarray) -> np.ndarray:
    """The baseline's feature vector for an ``HxWx3`` uint8 RGB picture."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("features need an HxWx3 RGB array")
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise ValueError(f"the picture is smaller than {MIN_SIDE} pixels on a side")
    c = crop(rgb).astype(np.float64) / 255.0
    g = 0.299 * c[..., 0] + 0.587 * c[..., 1] + 0.114 * c[..., 2]
    vec = _spectral(_tiles(g)) + _local(c, g)
    return np.asarray(vec, dtype=np.float64)


def _names() -> list[str]:
    out = ["spec_mid", "spec_high", "spec_top", "spec_slope", "spec_curv", "spec_tail"]
    for p in (2, 4, 8):
        out.append(f"peak{p}")
    out += ["chk2", "chk4", "chk8", "chk_alt", "phase2", "phase4", "phase8", "jpeg_block"]
    out += ["noise_share", "noise_level", "noise_kurt", "xcorr", "xcorr_phase"]
    return out


NAMES.extend(_names())
