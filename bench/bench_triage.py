#!/usr/bin/env python3
"""Benchmark: images per second per core for the nudity, provenance and synthetic analyzers.

Each analyzer runs in this one process on one thread (onnxruntime, OpenCV and BLAS are
limited to one thread, as each runner worker is), over benign scikit-image photos written
as 512 px and 1280 px JPEGs and PNGs (a C2PA-signed JPEG and an AUTOMATIC1111 PNG
included), several rounds, median time per image. Each is compared with a baseline
measured in the same run:

* nudity — NudeNet's own ``NudeDetector().detect(path)`` (detections only, no preview; its
  session reopened on one thread);
* provenance — Pillow reading the metadata (``Image.open``, ``info``, ``getexif``);
* synthetic — decoding the picture to RGB with Pillow (the detector's unavoidable part).

    .venv/bin/python bench/bench_triage.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402 - after the thread limits above
from PIL import Image, PngImagePlugin  # noqa: E402 - after the thread limits above

from haechi.analyze.nudity import NudityAnalyzer  # noqa: E402 - after the thread limits above
from haechi.analyze.sniff import sniff  # noqa: E402 - after the thread limits above
from haechi.analyze.synthetic.detectors import SyntheticAnalyzer  # noqa: E402 - after the thread limits above
from haechi.analyze.synthetic.provenance import ProvenanceAnalyzer  # noqa: E402 - after the thread limits above
from haechi.demo.c2pa_demo import make_signer, sign_jpeg  # noqa: E402 - after the thread limits above
from haechi.domain.analysis import AnalysisInput  # noqa: E402 - after the thread limits above

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def make_images(folder: Path) -> list[Path]:
    from skimage import data

    paths = []
    signer = make_signer()
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)())
        for side in (512, 1280):
            scaled = img.resize((side, round(side * img.height / img.width)))
            buf = io.BytesIO()
            scaled.save(buf, "JPEG", quality=90)
            jpeg = buf.getvalue()
            if name == "rocket" and side == 512:
                jpeg = sign_jpeg(jpeg, signer)
            (folder / f"{name}_{side}.jpg").write_bytes(jpeg)
            info = PngImagePlugin.PngInfo()
            if name == "coffee":
                info.add_text("parameters", "a cup\nSteps: 20, Sampler: Euler a, Seed: 1, Model: m")
            scaled.save(folder / f"{name}_{side}.png", pnginfo=info)
            paths += [folder / f"{name}_{side}.jpg", folder / f"{name}_{side}.png"]
    return paths


def item(path: Path) -> AnalysisInput:
    kind, mime = sniff(path.read_bytes()[:65536])
    return AnalysisInput("0" * 64, path, path.stat().st_size, kind, mime)


def timed(fn: Callable[[Path], object], paths: list[Path], rounds: int) -> float:
    """Median seconds per image over ``rounds`` passes (after one warm-up pass)."""
    for p in paths:
        fn(p)
    per_image = []
    for _ in range(rounds):
        for p in paths:
            t = time.perf_counter()
            fn(p)
            per_image.append(time.perf_counter() - t)
    return statistics.median(per_image)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import cv2
    from nudenet import NudeDetector

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp))
        nudity = NudityAnalyzer()
        nudity.setup()
        reference = NudeDetector()
        # NudeNet opens its session with onnxruntime's default thread pool (one thread per
        # core); reopen the same model on one thread, as ours runs, so the ratio is per core.
        import nudenet
        import onnxruntime as ort

        one_thread = ort.SessionOptions()
        one_thread.intra_op_num_threads = 1
        one_thread.inter_op_num_threads = 1
        reference.onnx_session = ort.InferenceSession(
            str(Path(nudenet.__file__).with_name("320n.onnx")),
            sess_options=one_thread,
            providers=["CPUExecutionProvider"],
        )
        provenance = ProvenanceAnalyzer()
        synthetic = SyntheticAnalyzer()

        def pillow_meta(p: Path) -> object:
            with Image.open(p) as im:
                return dict(im.info), dict(im.getexif())

        def decode(p: Path) -> object:
            with Image.open(p) as im:
                return np.asarray(im.convert("RGB"))

        rows = [
            (
                "nudity (score, regions, safe preview)",
                lambda p: nudity.analyze(item(p)),
                "NudeDetector.detect",
                lambda p: reference.detect(str(p)),
            ),
            (
                "provenance (all findings + watermarks)",
                lambda p: provenance.analyze(item(p)),
                "Pillow metadata read",
                pillow_meta,
            ),
            (
                "synthetic (baseline + heat map)",
                lambda p: synthetic.analyze(item(p)),
                "Pillow decode to RGB",
                decode,
            ),
        ]
        print(
            f"{len(paths)} images (512 and 1280 px, JPEG and PNG), {args.rounds} rounds, "
            "1 thread; median per image"
        )
        head = f"{'analyzer':42s} {'img/s/core':>10s}   {'baseline':24s} {'img/s':>8s}"
        print(f"{head} {'ratio':>6s}")
        for name, fn, base_name, base_fn in rows:
            ours = timed(fn, paths, args.rounds)
            base = timed(base_fn, paths, args.rounds)
            print(
                f"{name:42s} {1 / ours:10.1f}   {base_name:24s} {1 / base:8.1f} {ours / base:6.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
