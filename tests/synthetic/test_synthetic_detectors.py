"""The synthetic analyzer: the built-in baseline and a drop-in ONNX detector (a real ONNX
model written by these tests, run by onnxruntime)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.synthetic.tiny_onnx import mean_colour_model

from haechi.analyze.synthetic import features as F
from haechi.analyze.synthetic import training
from haechi.analyze.synthetic.detectors import (
    BASELINE_MODEL,
    BaselineDetector,
    SyntheticAnalyzer,
    SyntheticSettings,
)
from haechi.analyze.synthetic.onnx_detector import load_description
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisInput, MediaKind


def _item(path: Path) -> AnalysisInput:
    return AnalysisInput("e" * 64, path, path.stat().st_size, MediaKind.IMAGE, "image/png")


def _png(tmp_path: Path, arr: np.ndarray, name: str = "x.png") -> Path:
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return path


def test_baseline_model_is_small_plain_json_and_scores() -> None:
    assert BASELINE_MODEL.stat().st_size < 16_000
    model = json.loads(BASELINE_MODEL.read_text())
    assert model["format"] == "haechi-logistic-v1" and set(model["features"]) <= set(F.NAMES)
    assert len(model["coef"]) == len(model["features"]) == len(model["mean"])
    d = BaselineDetector()
    p = d.score(data.astronaut())
    assert 0.0 <= p <= 1.0


def test_features_are_finite_and_scale_free() -> None:
    img = data.coffee()
    v = F.features(img)
    assert v.shape == (len(F.NAMES),) and np.all(np.isfinite(v))
    darker = (img.astype(np.float64) * 0.5).astype(np.uint8)
    w = F.features(darker)
    scale_free = [i for i, n in enumerate(F.NAMES) if "kurt" in n or n.startswith("peak")]
    assert np.allclose(v[scale_free], w[scale_free], atol=0.35)
    with pytest.raises(ValueError):
        F.features(np.zeros((16, 16, 3), np.uint8))


def test_analyzer_gives_signal_reasons_and_heatmap(tmp_path: Path) -> None:
    path = _png(tmp_path, data.astronaut())
    result = SyntheticAnalyzer().analyze(_item(path))
    (sig,) = result.signals
    assert sig.kind == "synthetic" and sig.value == "baseline-upsampling-traces"
    assert sig.data["above_threshold"] == (sig.score >= sig.data["threshold"])
    for reason in sig.data["reasons"]:
        assert reason["en"] and reason["ko"] and reason["contribution"] > 0
    (heat,) = result.artifacts
    im = Image.open(io.BytesIO(heat.data))
    assert heat.name == "synthetic_heatmap" and im.mode == "RGBA" and im.size == (320, 320)
    tiny = _png(tmp_path, data.astronaut()[:20, :20], "tiny.png")
    assert SyntheticAnalyzer().analyze(_item(tiny)).signals == []


def _description(tmp_path: Path, **extra: object) -> Path:
    model = tmp_path / "mean.onnx"
    model.write_bytes(mean_colour_model())
    lines = {
        "name": '"mean-red"',
        "model": '"mean.onnx"',
        "size": "[64, 64]",
        "output": '"logit"',
        "fake_index": "0",
        "scale": "255.0",
        "mean": "[0.5, 0.5, 0.5]",
        "std": "[0.25, 0.25, 0.25]",
        "threshold": "0.5",
        "description": '"test model: mean of the red channel"',
    }
    lines.update({k: str(v) for k, v in extra.items()})
    path = tmp_path / f"mean{len(list(tmp_path.glob('*.toml')))}.toml"
    path.write_text("\n".join(f"{k} = {v}" for k, v in lines.items()) + "\n")
    return path


def test_drop_in_onnx_detector_runs_with_its_preprocessing(tmp_path: Path) -> None:
    desc = _description(tmp_path)
    red = np.zeros((100, 80, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((100, 80, 3), np.uint8)
    blue[..., 2] = 255
    det = load_description(desc)
    # red channel 1.0 -> (1 - 0.5) / 0.25 = 2 -> sigmoid(2); blue: (0 - .5)/.25 = -2
    assert det.score(red) == pytest.approx(1 / (1 + np.exp(-2)), abs=1e-5)
    assert det.score(blue) == pytest.approx(1 / (1 + np.exp(2)), abs=1e-5)
    bgr = load_description(_description(tmp_path, colour='"BGR"'))
    assert bgr.score(blue) == pytest.approx(det.score(red), abs=1e-6)  # channels swapped
    analyzer = SyntheticAnalyzer(SyntheticSettings(baseline=False, detectors=(str(desc),)))
    analyzer.setup()
    result = analyzer.analyze(_item(_png(tmp_path, red, "red.png")))
    (sig,) = result.signals
    assert sig.value == "mean-red" and sig.data["above_threshold"]
    assert sig.data["model_sha256"] == hashlib.sha256(mean_colour_model()).hexdigest()
    assert sig.data["preprocessing"]["size"] == [64, 64]


def test_bad_descriptions_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="SHA-256"):
        load_description(_description(tmp_path, sha256='"' + "0" * 64 + '"'))
    with pytest.raises(UsageError, match="resize must be"):
        load_description(_description(tmp_path, resize='"zoom"'))
    with pytest.raises(UsageError, match="does not exist"):
        load_description(_description(tmp_path, model='"missing.onnx"'))
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_description(bad)


def test_training_script_runs_on_data_it_makes(tmp_path: Path) -> None:
    model = training.train(per_class=12, seed=3)
    assert model["format"] == "haechi-logistic-v1"
    assert model["features"] == training.selected_features()
    assert model["training"]["examples"] >= 20
    out = tmp_path / "m.json"
    assert training.main(["--per-class", "8", "--out", str(out)]) == 0
    assert BaselineDetector(out).score(data.coffee()) >= 0.0
