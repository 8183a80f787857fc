"""What a blended face looks like next to its surroundings, as numbers.

The face (with its landmarks) is cropped, scaled so the jaw-and-brows hull has a fixed size
(``FACE`` px), and cut into bands by signed distance from that hull (in face units, positive
inside): outside, just outside, on the outline, just inside, inside, the core. Features
compare the bands: fine-detail energy (high-pass, Laplacian, gradient, chroma detail), the
noise floor, gradients across vs along the outline, colour steps across it, and the 8×8
DCT magnitude profile inside, outside and on the outline. A swap generated at another
resolution or colour, blended in, differs there; a camera photo need not.
"""

from __future__ import annotations

import cv2
import numpy as np

from haechi.analyze.synthetic.faceswap.landmarks import JAW_BROWS
from haechi.analyze.synthetic.faceswap.sbi import face_size

FACE = 96.0  # face size after normalisation (pixels)
FEATURE_SET = "faceswap-bands-dct-v1"
BANDS = [(-0.16, -0.08), (-0.08, -0.02), (-0.03, 0.03), (0.02, 0.08), (0.08, 0.16), (0.16, 0.40)]
_EPS = 0.5
_RADIAL = np.add.outer(np.arange(8), np.arange(8))  # 8×8 DCT frequency index, 0..14
_RADIAL_N = np.bincount(_RADIAL.ravel(), minlength=15)


def crop(rgb: np.ndarray, pts: np.ndarray, margin: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """The face with ``margin`` face-boxes of context each side, and its landmarks in it."""
    hull = pts[JAW_BROWS]
    (x0, y0), (x1, y1) = hull.min(0), hull.max(0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (0.5 + margin)
    h, w = rgb.shape[:2]
    a, b = int(max(0, cx - half)), int(max(0, cy - half))
    c, d = int(min(w, cx + half)), int(min(h, cy + half))
    return rgb[b:d, a:c].copy(), pts - [a, b]


def normalise(rgb: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = FACE / face_size(pts)
    h, w = rgb.shape[:2]
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    out = cv2.resize(rgb, (max(8, round(w * f)), max(8, round(h * f))), interpolation=interp)
    return out, pts * f


def signed_distance(shape: tuple[int, ...], pts: np.ndarray) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(pts[JAW_BROWS].astype(np.int32)), 1)
    inside = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, 5)
    return np.where(m > 0, inside, -outside) / FACE


def _maps(rgb: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    b1, b2 = cv2.GaussianBlur(g, (0, 0), 1.0), cv2.GaussianBlur(g, (0, 0), 2.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    maps = {
        "hp1": np.abs(g - b1),
        "hp2": np.abs(b1 - b2),
        "lap": np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=1)),
        "grad": np.hypot(gx, gy),
        "ca": np.abs(lab[..., 1] - cv2.GaussianBlur(lab[..., 1], (0, 0), 1.5)),
        "cb": np.abs(lab[..., 2] - cv2.GaussianBlur(lab[..., 2], (0, 0), 1.5)),
        "L": lab[..., 0],
        "A": lab[..., 1],
        "B": lab[..., 2],
        "gray": g,
    }
    return maps, gx, gy


def _dct_profile(g: np.ndarray, d: np.ndarray, lo: float, hi: float) -> np.ndarray | None:
    acc, n = np.zeros(15), 0
    h, w = g.shape
    for y in range(0, h - 8, 4):
        for x in range(0, w - 8, 4):
            if lo < d[y + 4, x + 4] <= hi:
                c = np.abs(cv2.dct(np.ascontiguousarray(g[y : y + 8, x : x + 8])))
                acc += np.bincount(_RADIAL.ravel(), weights=c.ravel(), minlength=15)
                n += 1
    return acc / n / _RADIAL_N if n >= 6 else None


def _band_features(
    mp: dict[str, np.ndarray], gx: np.ndarray, gy: np.ndarray, d: np.ndarray
) -> list[float] | None:
    bands = [(d > lo) & (d <= hi) for lo, hi in BANDS]
    if any(b.sum() < 20 for b in bands):
        return None
    f: list[float] = []
    for k in ("hp1", "hp2", "lap", "grad", "ca", "cb"):
        o2, o1, bd, i1, _i2, core = (float(mp[k][b].mean()) + _EPS for b in bands)
        f += [np.log(i1 / o1), np.log(core / o2), np.log(bd / np.sqrt(i1 * o1)), np.log(core / i1)]
        if k in ("hp1", "lap"):
            f.append(np.log(core / (float(mp["grad"][bands[5]].mean()) + _EPS)))
    for k in ("L", "A", "B"):
        f.append(abs(float(np.median(mp[k][bands[3]]) - np.median(mp[k][bands[1]]))))
        f.append(abs(float(np.median(mp[k][bands[4]]) - np.median(mp[k][bands[0]]))))
    dy, dx = np.gradient(d)
    nn = np.hypot(dx, dy) + 1e-6
    normal = np.abs(gx * dx / nn + gy * dy / nn)
    along = np.abs(-gx * dy / nn + gy * dx / nn)
    for b in (bands[2], bands[3]):
        f.append(np.log((normal[b].mean() + _EPS) / (along[b].mean() + _EPS)))
    r = mp["hp1"]
    f.append(np.log((np.median(r[bands[3]]) + _EPS) / (np.median(r[bands[1]]) + _EPS)))
    f.append(np.log((np.median(r[bands[5]]) + _EPS) / (np.median(r[bands[0]]) + _EPS)))
    return f


def _spectral_features(mp: dict[str, np.ndarray], d: np.ndarray) -> list[float] | None:
    g = mp["gray"]
    outer, inner = _dct_profile(g, d, -0.18, -0.02), _dct_profile(g, d, 0.02, 0.16)
    core, seam = _dct_profile(g, d, 0.16, 0.5), _dct_profile(g, d, -0.04, 0.04)
    if outer is None or inner is None or core is None or seam is None:
        return None

    def lg(a: np.ndarray) -> np.ndarray:
        return np.log(a[1:] + 0.05)

    f = list(lg(inner) - lg(outer)) + list(lg(core) - lg(outer))
    f += list(lg(seam) - (lg(inner) + lg(outer)) / 2)
    f += [float(lg(p)[-5:].mean() - lg(p)[:4].mean()) for p in (outer, inner, core)]
    for k in ("L", "A", "B"):
        ins, out = mp[k][(d > 0.02) & (d <= 0.08)], mp[k][(d > -0.08) & (d <= -0.02)]
        f.append(abs(float(np.median(ins) - np.median(out))) if ins.size and out.size else 0.0)
    return f


def features(rgb: np.ndarray, pts: np.ndarray) -> np.ndarray | None:
    """The feature vector of the face with landmarks ``pts`` in ``rgb``, or None when the
    face is too close to the picture's edge to have every band."""
    face, p = normalise(*crop(rgb, pts))
    d = signed_distance(face.shape, p)
    mp, gx, gy = _maps(face)
    bands = _band_features(mp, gx, gy, d)
    spectral = _spectral_features(mp, d) if bands is not None else None
    if bands is None or spectral is None:
        return None
    return np.nan_to_num(np.asarray(bands + spectral, dtype=np.float64))
