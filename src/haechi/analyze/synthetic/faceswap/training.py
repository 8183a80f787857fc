"""Train the self-blended-image face-swap detector on benign real faces.

    python -m haechi.analyze.synthetic.faceswap.training --faces ../shared/data/faces \\
        --exclude ../shared/data/synthetic

Every face of at least 60 px in the ``--faces`` pictures gives ``--per-face`` real examples
and as many self-blended ones (:mod:`.sbi`), both through the same sharing (downscale,
JPEG). Nothing under ``--exclude`` (the evaluation set) may be among them: a picture with
the same bytes is refused. Choices are judged only by cross-validation grouped by identity
(a person's faces never on both sides), on self-blended data; the model is a standardised
logistic regression written as plain JSON (``faceswap_model.json``), with its threshold at
the score that 5 % of held-out real faces reach.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from haechi.analyze.synthetic.faceswap.features import FEATURE_SET, crop, features
from haechi.analyze.synthetic.faceswap.landmarks import faces
from haechi.analyze.synthetic.faceswap.sbi import self_blended, shared

MODEL = Path(__file__).with_name("faceswap_model.json")
SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
C = 0.3  # logistic regression's inverse regularisation (grouped CV: 0.03-1 all within 0.003)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def identities(folder: Path) -> dict[str, str]:
    """file (relative) -> identity: the folder's manifest.csv (``identity_key``, else
    ``identity``) when there is one, else the picture's own folder."""
    manifest = folder / "manifest.csv"
    out: dict[str, str] = {}
    if manifest.is_file():
        with open(manifest, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out[row["file"]] = row.get("identity_key") or row.get("identity") or row["file"]
    return out


def pictures(folder: Path, exclude: list[Path]) -> list[tuple[Path, str]]:
    """(picture, identity), each content once; ValueError if one is in ``exclude``."""
    banned = {_digest(p) for f in exclude for p in f.rglob("*") if p.suffix.lower() in SUFFIXES}
    names = identities(folder)
    seen: set[str] = set()
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        digest = _digest(path)
        if digest in banned:
            raise ValueError(f"{path} is also in the evaluation set")
        if digest in seen:
            continue
        seen.add(digest)
        rel = path.relative_to(folder).as_posix()
        out.append((path, names.get(rel) or path.parent.name))
    return out


def examples(
    folder: Path, exclude: list[Path], per_face: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Features, labels (1 = self-blended), identity groups, and the number of faces."""
    from PIL import Image, ImageOps

    rng = np.random.default_rng(seed)
    xs: list[np.ndarray] = []
    ys: list[int] = []
    groups: list[str] = []
    n_faces = 0
    for path, who in pictures(folder, exclude):
        with Image.open(path) as im:
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        for pts in faces(rgb):
            n_faces += 1
            face, p = crop(rgb, pts, margin=1.2)
            for _ in range(per_face):
                for label in (0, 1):
                    img = self_blended(face, p, rng) if label else face
                    out = shared(img, rng)
                    scale = np.array([out.shape[1] / img.shape[1], out.shape[0] / img.shape[0]])
                    v = features(out, p * scale)
                    if v is not None:
                        xs.append(v)
                        ys.append(label)
                        groups.append(who)
    return np.asarray(xs), np.asarray(ys), np.asarray(groups), n_faces


def grouped_cv(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Held-out scores of 5-fold cross-validation grouped by identity, and each fold's AUC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pred = np.zeros(len(y))
    aucs = []
    for tr, te in GroupKFold(5).split(x, y, groups):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        pred[te] = m.fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
        aucs.append(float(roc_auc_score(y[te], pred[te])))
    return pred, aucs


def train(
    folder: Path, exclude: list[Path], per_face: int = 2, seed: int = 20261206
) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    x, y, groups, n_faces = examples(folder, exclude, per_face, seed)
    pred, aucs = grouped_cv(x, y, groups)
    scaler = StandardScaler().fit(x)
    lr = LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(x), y)
    threshold = float(np.quantile(pred[y == 0], 0.95))
    return {
        "format": "haechi-logistic-v1",
        "name": "faceswap-sbi",
        "version": "1",
        "feature_set": FEATURE_SET,
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": lr.coef_[0].tolist(),
        "intercept": float(lr.intercept_[0]),
        "threshold": round(threshold, 4),
        "training": {
            "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "faces": n_faces,
            "identities": len(set(groups.tolist())),
            "examples": len(y),
            "per_face": per_face,
            "seed": seed,
            "cv_auc_grouped_by_identity": round(float(roc_auc_score(y, pred)), 4),
            "cv_fold_aucs": [round(a, 4) for a in aucs],
            "data": "self-blended images of benign real face photos (no fake imagery)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=Path, required=True, help="folder of real face photos")
    ap.add_argument("--exclude", type=Path, action="append", default=[], help="evaluation set")
    ap.add_argument("--per-face", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--out", type=Path, default=MODEL)
    args = ap.parse_args(argv)
    try:
        model = train(args.faces, args.exclude, args.per_face, args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(model["training"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
