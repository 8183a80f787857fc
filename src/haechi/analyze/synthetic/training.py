"""Train the built-in baseline detector on data made by :mod:`.simulate` — nothing else.

Nothing from ``../shared/data`` is read here: that is for evaluation only, and it is
never used to choose features or settings either. Every choice is made by
cross-validation on the simulated data, **grouped by source photo and by simulation
operator**: each fold holds out one photo (all its crops, real and synthetic-like, so no
crop of a test photo is trained on) and one decoder upsampling kind (so the score says how
well the model does on a kind of upsampling it has not seen). The folds' AUCs are
averaged; the worst fold is recorded too.

What is chosen that way: which groups of features the model uses (greedy forward
selection: add the group that helps the held-out AUC most, stop when none helps by
0.002), the regularisation strength, and the threshold (the score that 5 % of held-out
simulated *real* pictures reach).

    python -m haechi.analyze.synthetic.training [--out PATH] [--seed N] [--per-class N]

(``scripts/train_synthetic_baseline.py`` runs the same.) The defaults reproduce the
shipped ``baseline_model.json`` exactly, apart from its time stamp; that takes 2 to 3
minutes on the shared 2-core development machine, almost all of it making the examples.
The model is a standardised logistic regression written as JSON: a few kilobytes, no
pickle, readable by a person.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from haechi.analyze.synthetic import features as F
from haechi.analyze.synthetic import simulate

MODEL_PATH = Path(__file__).with_name("baseline_model.json")
SEED = 20240901
PER_CLASS = 600
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
MIN_GAIN = 0.002
FALSE_POSITIVES = 0.05  # share of held-out simulated real pictures at or above threshold

# Feature groups, each one kind of trace (selection adds or leaves out whole groups).
GROUPS: dict[str, tuple[str, ...]] = {
    "spectrum": ("spec_mid", "spec_high", "spec_top", "spec_slope", "spec_curv", "spec_tail"),
    "peaks": ("peak2", "peak4", "peak8"),
    "checkerboard": ("chk2", "chk4", "chk8", "chk_alt"),
    "phase": ("phase2", "phase4", "phase8"),
    "jpeg": ("jpeg_block",),
    "noise": ("noise_share", "noise_level", "noise_kurt"),
    "colour": ("xcorr", "xcorr_phase"),
}


@dataclass
class Data:
    x: np.ndarray  # (n, len(F.NAMES))
    y: np.ndarray
    photo: np.ndarray
    operator: np.ndarray
    factor: np.ndarray
    side: np.ndarray


def dataset(per_class: int, seed: int) -> Data:
    rows, y, photo, op, factor, side = [], [], [], [], [], []
    for ex in simulate.examples(per_class, seed):
        rows.append(F.features(ex.rgb))
        y.append(ex.label)
        photo.append(ex.photo)
        op.append(ex.operator)
        factor.append(ex.factor)
        side.append(min(ex.rgb.shape[:2]))
    return Data(
        np.vstack(rows),
        np.asarray(y),
        np.asarray(photo),
        np.asarray(op),
        np.asarray(factor),
        np.asarray(side),
    )


def _columns(groups: list[str]) -> list[int]:
    return [F.NAMES.index(n) for g in groups for n in GROUPS[g]]


@dataclass
class Logistic:
    """A standardised L2 logistic regression (the same objective as scikit-learn's
    ``LogisticRegression(C=c)`` after a ``StandardScaler``), fitted by Newton's method:
    numpy only, a millisecond per fit, so hundreds of cross-validation fits are cheap."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> Logistic:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    a = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], 1.0 / c)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return Logistic(mean, scale, w[:-1], float(w[-1]))


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties count half); NaN without both classes."""
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    _, inv, counts = np.unique(np.concatenate([pos, neg]), return_inverse=True, return_counts=True)
    # rank of each distinct value = its first position + (ties - 1) / 2, 1-based
    first = np.cumsum(counts) - counts + 1
    ranks = (first + (counts - 1) / 2)[inv]
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def grouped_cv(d: Data, cols: list[int], c: float) -> dict[str, Any]:
    """Hold out one photo and one operator at a time; held-out scores of every example
    (real ones averaged over the folds that tested them) and per-fold AUCs."""
    x = d.x[:, cols]
    sums, counts = np.zeros(len(d.y)), np.zeros(len(d.y))
    folds = []
    for p in np.unique(d.photo):
        for o in simulate.OPERATORS:
            seen = (d.operator == "real") | (d.operator != o)
            train = (d.photo != p) & seen
            test = (d.photo == p) & ((d.operator == "real") | (d.operator == o))
            s = _fit(x[train], d.y[train], c).predict(x[test])
            folds.append((str(p), o, _auc(d.y[test], s)))
            sums[test] += s
            counts[test] += 1
    aucs = np.asarray([a for *_, a in folds])
    return {
        "auc_mean": float(np.nanmean(aucs)),
        "auc_worst": float(np.nanmin(aucs)),
        "folds": folds,
        "scores": sums / np.maximum(counts, 1),
    }


def select(d: Data, log: Any = print) -> tuple[list[str], float, dict[str, Any]]:
    """Greedy forward selection of feature groups, then the regularisation strength."""
    chosen: list[str] = []
    best = {"auc_mean": 0.5}
    while True:
        trials = {g: grouped_cv(d, _columns([*chosen, g]), 1.0) for g in GROUPS if g not in chosen}
        if not trials:
            break
        g, cv = max(trials.items(), key=lambda kv: kv[1]["auc_mean"])
        log("  groups: " + ", ".join(f"+{k} {v['auc_mean']:.4f}" for k, v in trials.items()))
        if cv["auc_mean"] < best["auc_mean"] + MIN_GAIN:
            break
        chosen.append(g)
        best = cv
    cvs = {c: grouped_cv(d, _columns(chosen), c) for c in C_GRID}
    c = max(cvs, key=lambda k: cvs[k]["auc_mean"])
    log("  C: " + ", ".join(f"{k} {v['auc_mean']:.4f}" for k, v in cvs.items()))
    return chosen, c, cvs[c]


def diagnostics(d: Data, scores: np.ndarray) -> dict[str, float]:
    """Held-out AUCs on slices that mimic the traps of real evaluation sets."""
    fake, real = d.y == 1, d.y == 0
    out: dict[str, float] = {}
    for o in simulate.OPERATORS:
        pick = real | (d.operator == o)
        out[f"operator {o}"] = _auc(d.y[pick], scores[pick])
    for lo, hi in ((64, 96), (128, 192), (256, 384)):
        pick = (d.side >= lo) & (d.side <= hi)
        out[f"sides {lo}-{hi}"] = _auc(d.y[pick], scores[pick])
    small_real = real & (d.side <= 96)
    big_fake = fake & (d.side >= 256)
    pick = small_real | big_fake
    out["synthetic >= 256 px vs real <= 96 px"] = _auc(d.y[pick], scores[pick])
    pick = (real & (d.factor >= 3)) | fake
    out["real downscaled >= 3x vs all synthetic"] = _auc(d.y[pick], scores[pick])
    pick = real | (fake & (d.factor >= 1.5))
    out["synthetic downscaled >= 1.5x vs all real"] = _auc(d.y[pick], scores[pick])
    return {k: round(v, 4) for k, v in out.items()}


def train(per_class: int = PER_CLASS, seed: int = SEED, log: Any = print) -> dict[str, Any]:
    started = time.monotonic()
    d = dataset(per_class, seed)
    log(f"  {len(d.y)} examples in {time.monotonic() - started:.0f} s")
    groups, c, cv = select(d, log)
    cols = _columns(groups)
    names = [F.NAMES[i] for i in cols]
    held_out_real = cv["scores"][d.y == 0]
    threshold = float(np.quantile(held_out_real, 1 - FALSE_POSITIVES))
    model = _fit(d.x[:, cols], d.y, c)
    return {
        "format": "haechi-logistic-v1",
        "feature_set": F.FEATURE_SET,
        "name": "baseline-upsampling-traces",
        "version": "2",
        "features": names,
        "mean": [round(float(v), 8) for v in model.mean],
        "scale": [round(float(v), 8) for v in model.scale],
        "coef": [round(float(v), 8) for v in model.coef],
        "intercept": round(model.intercept, 8),
        "threshold": round(threshold, 4),
        "training": {
            "examples": len(d.y),
            "per_class": per_class,
            "seed": seed,
            "photos": sorted(set(d.photo.tolist())),
            "operators": list(simulate.OPERATORS),
            "feature_groups": groups,
            "C": c,
            "threshold_rule": f"{FALSE_POSITIVES:.0%} of held-out simulated real pictures "
            "at or above it",
            "grouped_cv_auc_mean": round(cv["auc_mean"], 4),
            "grouped_cv_auc_worst_fold": round(cv["auc_worst"], 4),
            "held_out_diagnostics": diagnostics(d, cv["scores"]),
            "sources": "benign camera photos shipped by scikit-image and scikit-learn; "
            "synthetic = the same photos rebuilt by random decoders "
            "(haechi.analyze.synthetic.simulate); never ../shared/data",
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(time.monotonic() - started, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args(argv)
    model = train(args.per_class, args.seed)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    t = model["training"]
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes) in {t['seconds']} s; "
        f"groups {t['feature_groups']}, C {t['C']}; grouped CV AUC on its own simulated "
        f"data {t['grouped_cv_auc_mean']} (worst fold {t['grouped_cv_auc_worst_fold']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
