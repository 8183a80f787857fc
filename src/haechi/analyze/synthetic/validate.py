"""Measure a detector's false-positive rate on real photos it was not trained on.

    python -m haechi.analyze.synthetic.validate --real ../shared/data/faces \\
        --dataset "470 face photos of public test suites (deepface, LFW, ...)"

Every picture under the ``--real`` folders (JPEG, PNG, WebP, BMP; the same bytes counted
once, pictures under 64 px on a side skipped) is decoded as the ``synthetic`` analyzer
decodes it and scored; the count at or above the detector's threshold is the measured
false-positive rate (:mod:`.validation`). For the built-in baseline the result is written to
``baseline_validation.json`` next to the model (``--out`` elsewhere) with the model's
SHA-256, after checking that no picture is one of the baseline's training photos (the
pixels of every photo :func:`.simulate.photos` uses). For an agency's ONNX detector
(``--detector lab.toml``) nobody here knows its training data: ``--not-in-training`` states
that the pictures were not used to train it, and the command prints the ``[validation]``
table for its description.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from haechi.analyze.stills import image_still
from haechi.analyze.synthetic import features as F
from haechi.analyze.synthetic.validation import Validation
from haechi.domain.analysis import AnalysisError

SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})


def pictures(folders: list[Path]) -> Iterator[tuple[Path, str]]:
    """(path, SHA-256 of its bytes) of every picture under ``folders``, each content once."""
    seen: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                yield path, digest


def _pixels(rgb: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()).hexdigest()


def training_pixels() -> set[str]:
    """SHA-256 of the pixels of every photo the baseline was trained on."""
    from haechi.analyze.synthetic.simulate import photos

    return {_pixels(rgb) for _, rgb in photos()}


def measure(
    score: Any, threshold: float, folders: list[Path], exclude: set[str] | None = None
) -> dict[str, Any]:
    """Score every picture; refuse (ValueError) a picture whose pixels are in ``exclude``."""
    n = k = skipped = 0
    digests: list[str] = []
    for path, digest in pictures(folders):
        try:
            rgb = np.asarray(image_still(path, None).image.convert("RGB"))
        except AnalysisError:
            skipped += 1
            continue
        if min(rgb.shape[:2]) < F.MIN_SIDE:
            skipped += 1
            continue
        if exclude is not None and _pixels(rgb) in exclude:
            raise ValueError(f"{path} is one of the detector's training photos")
        n += 1
        k += int(score(rgb) >= threshold)
        digests.append(digest)
    listing = hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()
    return {"real_images": n, "false_positives": k, "skipped": skipped, "files_sha256": listing}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--real", type=Path, action="append", required=True, help="folder of real photos"
    )
    ap.add_argument("--dataset", required=True, help="what the photos are, in a sentence")
    ap.add_argument(
        "--detector", type=Path, help="an ONNX detector description (default: baseline)"
    )
    ap.add_argument("--not-in-training", action="store_true", help="ONNX: photos not trained on")
    ap.add_argument("--out", type=Path, help="where to write the measurement (JSON)")
    args = ap.parse_args(argv)
    for folder in args.real:
        if not folder.is_dir():
            print(f"error: {folder} is not a folder", file=sys.stderr)
            return 2
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.detector is None:
        from haechi.analyze.synthetic.detectors import (
            BASELINE_MODEL,
            BASELINE_VALIDATION,
            BaselineDetector,
        )

        det = BaselineDetector()
        try:
            m = measure(det.score, det.threshold, args.real, training_pixels())
        except ValueError as exc:
            print(f"error: {exc}: not a validation set", file=sys.stderr)
            return 2
        model_sha = hashlib.sha256(BASELINE_MODEL.read_bytes()).hexdigest()
        out, disjoint, name, threshold = (
            args.out or BASELINE_VALIDATION,
            True,
            det.name,
            det.threshold,
        )
    else:
        from haechi.analyze.synthetic.onnx_detector import load_description

        onnx = load_description(args.detector)
        onnx.load()
        m = measure(onnx.score, onnx.threshold, args.real)
        model_sha, out, name, threshold = onnx.model_sha256, args.out, onnx.name, onnx.threshold
        disjoint = args.not_in_training
    v = Validation(
        m["real_images"],
        m["false_positives"],
        threshold,
        args.dataset,
        disjoint,
        now,
        model_sha,
    )
    record = {"detector": name, **v.as_dict(), **{k: m[k] for k in ("skipped", "files_sha256")}}
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
    print(text, end="")
    if args.detector is not None:
        print(
            "\n[validation]\n"
            f"real_images = {v.real_images}\nfalse_positives = {v.false_positives}\n"
            f"dataset = {json.dumps(v.dataset, ensure_ascii=False)}\n"
            f"disjoint_from_training = {'true' if disjoint else 'false'}\n"
            f'measured_at = "{now}"'
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
