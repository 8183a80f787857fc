"""Detectors an agency drops in: an ONNX file plus a description of its preprocessing.

A detector is described by a small TOML file next to (or naming) the ONNX model, so the
model a laboratory validated is used exactly as validated, and the description is
recorded with every score::

    name = "lab-detector-2025"          # shown in reports; letters, digits, - _ .
    model = "detector.onnx"             # relative to this file
    sha256 = "…"                        # optional: refuse a different file
    size = [224, 224]                   # input height, width
    resize = "shorter_then_crop"        # or "stretch", "pad"
    colour = "RGB"                      # or "BGR"
    layout = "NCHW"                     # or "NHWC"
    scale = 255.0                       # pixel values are divided by this
    mean = [0.485, 0.456, 0.406]        # then (x - mean) / std per channel
    std = [0.229, 0.224, 0.225]
    output = "softmax"                  # "sigmoid", "softmax", "logit" or "probability"
    fake_index = 1                      # the output unit meaning "synthetic"
    threshold = 0.5
    description = "what it was trained on and validated for"

    [validation]                        # optional; without it scores are never a headline
    real_images = 1200                  # real photos the detector was NOT trained on
    false_positives = 6                 # of them at or above `threshold`
    dataset = "agency lab set 2025-03, phone photos, disjoint from training"
    disjoint_from_training = true
    measured_at = "2025-03-14"

Configure with ``[analyzers.synthetic] detectors = ["/path/lab-detector.toml"]``.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from haechi.analyze.synthetic.validation import Validation, check_table
from haechi.domain import UsageError

_RESIZE = ("shorter_then_crop", "stretch", "pad")
_OUTPUT = ("sigmoid", "softmax", "logit", "probability")


@dataclass(frozen=True)
class Preprocessing:
    size: tuple[int, int] = (224, 224)
    resize: str = "shorter_then_crop"
    colour: str = "RGB"
    layout: str = "NCHW"
    scale: float = 255.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def tensor(self, rgb: np.ndarray) -> np.ndarray:
        h, w = self.size
        im = Image.fromarray(rgb)
        if self.resize == "stretch":
            im = im.resize((w, h), Image.Resampling.BILINEAR)
        elif self.resize == "pad":
            factor = min(w / im.width, h / im.height)
            inner = im.resize(
                (max(1, round(im.width * factor)), max(1, round(im.height * factor))),
                Image.Resampling.BILINEAR,
            )
            canvas = Image.new("RGB", (w, h))
            canvas.paste(inner, ((w - inner.width) // 2, (h - inner.height) // 2))
            im = canvas
        else:
            factor = max(w / im.width, h / im.height)
            im = im.resize(
                (max(w, math.ceil(im.width * factor)), max(h, math.ceil(im.height * factor))),
                Image.Resampling.BILINEAR,
            )
            left, top = (im.width - w) // 2, (im.height - h) // 2
            im = im.crop((left, top, left + w, top + h))
        x = np.asarray(im, dtype=np.float32)
        if self.colour == "BGR":
            x = x[:, :, ::-1]
        mean, std = np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)
        x = ((x / np.float32(self.scale) - mean) / std).astype(np.float32)
        if self.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[np.newaxis], dtype=np.float32)


@dataclass
class OnnxDetector:
    name: str
    model_path: Path
    model_sha256: str
    pre: Preprocessing
    output: str = "sigmoid"
    fake_index: int = 1
    threshold: float = 0.5
    description: str = ""
    input_name: str | None = None
    threads: int = 1
    validation: Validation | None = None
    _session: Any = field(default=None, repr=False)

    version = "onnx"

    def load(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        if self.input_name is None:
            self.input_name = self._session.get_inputs()[0].name

    def score(self, rgb: np.ndarray) -> float:
        if self._session is None:
            self.load()
        out = np.asarray(
            self._session.run(None, {self.input_name: self.pre.tensor(rgb)})[0], dtype=np.float64
        ).reshape(-1)
        if self.output == "softmax":
            e = np.exp(out - out.max())
            return float(e[self.fake_index] / e.sum())
        value = float(out[self.fake_index] if out.size > 1 else out[0])
        if self.output in ("sigmoid", "logit"):
            return float(1 / (1 + math.exp(-value)))
        return min(1.0, max(0.0, value))

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "onnx",
            "model": self.model_path.name,
            "model_sha256": self.model_sha256,
            "preprocessing": {
                "size": list(self.pre.size),
                "resize": self.pre.resize,
                "colour": self.pre.colour,
                "layout": self.pre.layout,
                "scale": self.pre.scale,
                "mean": list(self.pre.mean),
                "std": list(self.pre.std),
            },
            "output": self.output,
            "fake_index": self.fake_index,
            "threshold": self.threshold,
            "description": self.description,
            "validation": self.validation.as_dict() if self.validation else None,
        }


def _bad(path: Path, why: str) -> UsageError:
    return UsageError(f"Detector description {path}: {why}.")


def _triple(value: Any, path: Path, key: str) -> tuple[float, float, float]:
    if not (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int | float) for v in value)
    ):
        raise _bad(path, f"{key} must be a list of three numbers")
    return (float(value[0]), float(value[1]), float(value[2]))


def load_description(path: Path, threads: int = 1) -> OnnxDetector:
    """Read and check a detector description; every mistake is one sentence."""
    path = path.expanduser()
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise _bad(path, f"is not valid TOML ({exc})") from exc
    name = spec.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[\w.\-]{1,64}", name):
        raise _bad(path, "name must be 1-64 letters, digits, '-', '_' or '.'")
    model = path.parent / str(spec.get("model", ""))
    if not spec.get("model") or not model.is_file():
        raise _bad(path, f"model file {model} does not exist")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if spec.get("sha256") and str(spec["sha256"]).lower() != digest:
        raise _bad(path, f"{model.name} has SHA-256 {digest}, not the {spec['sha256']} it names")
    size = spec.get("size", [224, 224])
    if not (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and 8 <= v <= 4096 for v in size)
    ):
        raise _bad(path, "size must be [height, width] in pixels")
    resize = spec.get("resize", "shorter_then_crop")
    if resize not in _RESIZE:
        raise _bad(path, f"resize must be one of {', '.join(_RESIZE)}")
    output = spec.get("output", "sigmoid")
    if output not in _OUTPUT:
        raise _bad(path, f"output must be one of {', '.join(_OUTPUT)}")
    colour, layout = spec.get("colour", "RGB"), spec.get("layout", "NCHW")
    if colour not in ("RGB", "BGR") or layout not in ("NCHW", "NHWC"):
        raise _bad(path, "colour must be RGB or BGR and layout NCHW or NHWC")
    pre = Preprocessing(
        size=(int(size[0]), int(size[1])),
        resize=resize,
        colour=colour,
        layout=layout,
        scale=float(spec.get("scale", 255.0)),
        mean=_triple(spec.get("mean", [0.0, 0.0, 0.0]), path, "mean"),
        std=_triple(spec.get("std", [1.0, 1.0, 1.0]), path, "std"),
    )
    if any(s == 0 for s in pre.std) or pre.scale == 0:
        raise _bad(path, "std and scale must not be zero")
    threshold = float(spec.get("threshold", 0.5))
    validation = None
    if "validation" in spec:
        try:
            validation = replace(check_table(spec["validation"], threshold), model_sha256=digest)
        except ValueError as exc:
            raise _bad(path, str(exc)) from exc
    return OnnxDetector(
        name=name,
        model_path=model,
        model_sha256=digest,
        pre=pre,
        output=output,
        fake_index=int(spec.get("fake_index", 1)),
        threshold=threshold,
        description=str(spec.get("description", "")),
        input_name=spec.get("input"),
        threads=threads,
        validation=validation,
    )
