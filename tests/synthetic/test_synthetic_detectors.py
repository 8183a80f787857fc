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
from haechi.analyze.synthetic import simulate, training
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
    assert model["feature_set"] == F.FEATURE_SET
    assert len(model["coef"]) == len(model["features"]) == len(model["mean"])
    assert 0.0 < model["threshold"] < 1.0
    d = BaselineDetector()
    p = d.score(data.coffee())
    assert 0.0 <= p <= 1.0


def test_model_for_other_features_is_refused(tmp_path: Path) -> None:
    model = json.loads(BASELINE_MODEL.read_text())
    model["feature_set"] = "something-else"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(model))
    with pytest.raises(ValueError, match="feature set"):
        BaselineDetector(path)


def test_features_are_finite_and_scale_free() -> None:
    img = data.coffee()
    v = F.features(img)
    assert v.shape == (len(F.NAMES),) and np.all(np.isfinite(v))
    darker = (img.astype(np.float64) * 0.5).astype(np.uint8)
    w = F.features(darker)
    scale_free = [i for i, n in enumerate(F.NAMES) if n != "noise_level"]  # an absolute level
    assert np.allclose(v[scale_free], w[scale_free], atol=0.35)
    with pytest.raises(ValueError):
        F.features(np.zeros((F.MIN_SIDE - 1, 200, 3), np.uint8))
    flat = F.features(np.full((128, 128, 3), 200, np.uint8))
    assert np.all(np.isfinite(flat))


def test_features_do_not_depend_on_picture_size() -> None:
    """Expected values are the same for 64 px and 512 px pictures of the same kind (an
    earlier model mostly learned "small = real"): white-ish noise, many small samples
    against a few large ones."""
    rng = np.random.default_rng(0)

    def noise(side: int) -> np.ndarray:
        return np.clip(rng.normal(128, 20, (side, side, 3)), 0, 255).astype(np.uint8)

    small = np.mean([F.features(noise(64)) for _ in range(300)], axis=0)
    large = np.mean([F.features(noise(512)) for _ in range(12)], axis=0)
    gap = dict(zip(F.NAMES, np.round(np.abs(small - large), 3), strict=True))
    assert max(gap.values()) < 0.15, gap


def _upsampled(img: np.ndarray, factor: int) -> np.ndarray:
    """A picture rebuilt from a smaller one by nearest-neighbour upsampling layers."""
    h, w = img.shape[:2]
    box = Image.Resampling.BOX
    small = np.asarray(Image.fromarray(img).resize((w // factor, h // factor), box))
    return small.repeat(factor, axis=0).repeat(factor, axis=1)


def test_baseline_reacts_to_upsampling_traces_not_to_size() -> None:
    photo = data.chelsea()
    crops = [photo[y : y + 128, x : x + 128] for y in (0, 100, 160) for x in (0, 160, 300)]
    d = BaselineDetector()
    plain = [d.score(c) for c in crops]
    traced = [d.score(_upsampled(c, 2)) for c in crops]
    assert np.mean(traced) > np.mean(plain) + 0.2
    # The same photo at 64 px and 256 px (each downscaled, no other change) scores alike.
    small = np.asarray(Image.fromarray(photo).resize((64, 64), Image.Resampling.LANCZOS))
    large = np.asarray(Image.fromarray(photo).resize((256, 256), Image.Resampling.LANCZOS))
    assert abs(d.score(small) - d.score(large)) < 0.3


def test_analyzer_gives_signal_reasons_and_heatmap(tmp_path: Path) -> None:
    path = _png(tmp_path, data.coffee()[:384, :384])
    result = SyntheticAnalyzer().analyze(_item(path))
    (sig,) = result.signals
    assert sig.kind == "synthetic" and sig.value == "baseline-upsampling-traces"
    assert sig.data["above_threshold"] == (sig.score >= sig.data["threshold"])
    for reason in sig.data["reasons"]:
        assert reason["en"] and reason["ko"] and reason["contribution"] > 0
    (heat,) = result.artifacts
    im = Image.open(io.BytesIO(heat.data))
    assert heat.name == "synthetic_heatmap" and im.mode == "RGBA" and im.size == (320, 320)
    tiny = _png(tmp_path, data.coffee()[:40, :40], "tiny.png")
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


def test_simulation_uses_only_benign_camera_photos() -> None:
    groups = {group for group, _ in simulate.photos()}
    assert groups == {"coffee", "chelsea", "rocket", "motorcycle", "china", "flower"}


def test_decoder_simulation_rebuilds_the_photo_with_periodic_traces() -> None:
    target = data.coffee()[:128, :128].astype(np.float32) / 255.0
    out = simulate.decode(target, 2, "nearest", np.random.default_rng(1))
    assert out.shape == target.shape and out.dtype == np.float32
    assert float(np.abs(out - target).mean()) < 0.08  # the same picture, rebuilt
    rebuilt = (out * 255 + 0.5).astype(np.uint8)
    i = F.NAMES.index("phase4")
    assert F.features(rebuilt)[i] > F.features(data.coffee()[:128, :128])[i]


def test_training_script_runs_on_data_it_makes(tmp_path: Path) -> None:
    model = training.train(per_class=21, seed=3, log=lambda _: None)
    assert model["format"] == "haechi-logistic-v1"
    assert set(model["training"]["feature_groups"]) <= set(training.GROUPS)
    assert model["features"] and set(model["features"]) <= set(F.NAMES)
    assert model["training"]["examples"] == 42
    assert model["training"]["photos"] == sorted(
        {"coffee", "chelsea", "rocket", "motorcycle", "china", "flower"}
    )
    out = tmp_path / "m.json"
    assert training.main(["--per-class", "14", "--out", str(out)]) == 0
    assert BaselineDetector(out).score(data.coffee()) >= 0.0


def test_grouped_cv_holds_out_photo_and_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fold trains on a crop of its test photo, nor on its test operator."""
    n = 96
    photo = np.repeat(["a", "b", "c", "d"], n // 4)
    label = np.tile([0, 1], n // 2)
    op = np.where(label == 1, np.asarray(simulate.OPERATORS * (n // 3)), "real")
    rng = np.random.default_rng(0)
    x = np.stack([np.arange(n, dtype=float), rng.normal(size=n) + label], axis=1)
    trained: list[np.ndarray] = []
    fit = training._fit

    def spy(xs: np.ndarray, ys: np.ndarray, c: float) -> object:
        trained.append(xs[:, 0].astype(int))
        return fit(xs, ys, c)

    monkeypatch.setattr(training, "_fit", spy)
    d = training.Data(x, label, photo, op, np.ones(n), np.full(n, 64))
    cv = training.grouped_cv(d, [0, 1], 1.0)
    assert len(cv["folds"]) == len(trained) == 4 * len(simulate.OPERATORS)
    assert all(np.isfinite(a) for *_, a in cv["folds"])
    for (p, o, _), ids in zip(cv["folds"], trained, strict=True):
        assert not np.any(photo[ids] == p)
        assert not np.any(op[ids] == o)
