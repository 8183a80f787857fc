"""A detector's measured false-positive rate travels with its scores and decides whether a
score may headline a verdict: the shipped baseline's measurement (far above 1 %), an ONNX
detector's [validation] table, the measuring command, and reasons said once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.synthetic.test_synthetic_detectors import _description, _item, _png

from haechi.analyze.synthetic import validate
from haechi.analyze.synthetic.detectors import (
    BASELINE_MODEL,
    BASELINE_VALIDATION,
    BaselineDetector,
    SyntheticAnalyzer,
    SyntheticSettings,
    baseline_validation,
)
from haechi.analyze.synthetic.onnx_detector import load_description
from haechi.analyze.synthetic.validation import MAX_FPR, Validation
from haechi.analyze.synthetic.verdict import decide
from haechi.domain import UsageError

TABLE = (
    "\n[validation]\nreal_images = 1500\nfalse_positives = 9\n"
    'dataset = "lab phone photos"\ndisjoint_from_training = true\n'
)


def _with_validation(desc: Path, table: str = TABLE) -> Path:
    desc.write_text(desc.read_text() + table)
    return desc


def test_the_shipped_baseline_carries_its_measurement_and_never_headlines(
    tmp_path: Path,
) -> None:
    v = BaselineDetector().validation
    assert v is not None and v.disjoint_from_training
    assert v.model_sha256 == hashlib.sha256(BASELINE_MODEL.read_bytes()).hexdigest()
    assert v.real_images >= 300 and v.fpr > MAX_FPR  # about half of unseen face photos
    assert v.supports_label(BaselineDetector().threshold) == (False, "fpr_too_high")
    # Whatever the baseline scores, the verdict does not lean on it.
    for crop in (data.coffee()[:256, :256], data.chelsea()[:256, :256]):
        (sig,) = (
            SyntheticAnalyzer(SyntheticSettings(heatmap=False))
            .analyze(_item(_png(tmp_path, crop)))
            .signals
        )
        assert sig.data["validation"]["false_positives"] == v.false_positives
        verdict = decide([sig])
        assert verdict.label == "no_evidence" and "suggests" not in verdict.explanation_en


def test_a_measurement_of_another_model_file_does_not_apply(tmp_path: Path) -> None:
    other = tmp_path / "baseline_model.json"
    model = json.loads(BASELINE_MODEL.read_text(encoding="utf-8"))
    model["intercept"] += 1.0  # another model
    other.write_text(json.dumps(model), encoding="utf-8")
    assert baseline_validation(str(other), str(BASELINE_VALIDATION)) is None
    assert BaselineDetector(other).validation is None
    assert baseline_validation(str(BASELINE_MODEL), str(tmp_path / "absent.json")) is None


def test_reasons_are_distinct(tmp_path: Path) -> None:
    det = BaselineDetector()
    big = np.asarray(Image.fromarray(data.coffee()).resize((1280, 960), Image.Resampling.BILINEAR))
    _, parts = det.contributions(big[:512, :512])
    reasons = det.reasons(parts, top=5)
    texts = [r["en"] for r in reasons]
    assert texts and len(texts) == len(set(texts))
    covered = [f for r in reasons for f in r["features"]]
    assert len(covered) == len(set(covered)) and len(covered) >= len(texts)
    positive = int((parts > 0).sum())
    assert len(covered) >= min(positive, len(texts))


def test_an_onnx_detector_with_a_validation_table_can_headline(tmp_path: Path) -> None:
    desc = _with_validation(_description(tmp_path))
    det = load_description(desc)
    assert det.validation == Validation(
        1500, 9, 0.5, "lab phone photos", True, "", det.model_sha256
    )
    red = np.zeros((100, 80, 3), np.uint8)
    red[..., 0] = 255
    analyzer = SyntheticAnalyzer(SyntheticSettings(baseline=False, detectors=(str(desc),)))
    analyzer.setup()
    (sig,) = analyzer.analyze(_item(_png(tmp_path, red, "red.png"))).signals
    assert sig.data["validation"]["fpr"] == pytest.approx(0.006)
    v = decide([sig])
    assert v.label == "detector_suggests_synthetic"
    assert "9 of 1500 real photos it was not trained on" in v.label_en
    # The same model without the table: its score is only a detail.
    plain = SyntheticAnalyzer(
        SyntheticSettings(baseline=False, detectors=(str(_description(tmp_path)),))
    )
    plain.setup()
    (sig2,) = plain.analyze(_item(_png(tmp_path, red, "red2.png"))).signals
    assert sig2.data["validation"] is None and decide([sig2]).label == "no_evidence"


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("\n[validation]\nreal_images = 10\n", "needs real_images > 0 and 0 <= false_positives"),
        (TABLE.replace('dataset = "lab phone photos"\n', ""), "must say what the real photos"),
        (TABLE + "threshold = 0.3\n", "measured at threshold 0.3, the detector uses 0.5"),
        (TABLE + "colour = 1\n", "unknown keys"),
        (TABLE.replace("true", '"yes"'), "disjoint_from_training = true or false"),
    ],
)
def test_bad_validation_tables_are_one_sentence(tmp_path: Path, table: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        load_description(_with_validation(_description(tmp_path), table))


def test_the_measuring_command_counts_refuses_training_photos_and_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    # Benign pictures that are not among the baseline's training photos.
    for name, arr in (
        ("hubble.png", data.hubble_deep_field()[:200, :200]),
        ("cells.png", data.immunohistochemistry()[:200, :200]),
        ("coins.png", np.stack([data.coins()[:200, :200]] * 3, axis=-1)),
        ("tiny.png", data.hubble_deep_field()[:32, :32]),  # under 64 px: skipped
    ):
        Image.fromarray(arr).save(real / name)
    (real / "again.png").write_bytes((real / "hubble.png").read_bytes())  # counted once
    out = tmp_path / "v.json"
    assert validate.main(["--real", str(real), "--dataset", "three crops", "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["real_images"] == 3 and record["skipped"] == 1
    assert record["disjoint_from_training"] is True and record["dataset"] == "three crops"
    det = BaselineDetector()
    flagged = sum(
        det.score(np.asarray(Image.open(real / n).convert("RGB"))) >= det.threshold
        for n in ("hubble.png", "cells.png", "coins.png")
    )
    assert record["false_positives"] == flagged
    assert Validation.from_dict(record) is not None
    # A training photo among them: refused, nothing written.
    Image.fromarray(data.coffee()).save(real / "coffee.png")
    out2 = tmp_path / "v2.json"
    assert validate.main(["--real", str(real), "--dataset", "x", "--out", str(out2)]) == 2
    assert "training photos" in capsys.readouterr().err and not out2.exists()


def test_the_measuring_command_on_an_onnx_detector_prints_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    for i, colour in enumerate(((255, 0, 0), (0, 0, 255), (0, 255, 0))):
        Image.fromarray(np.full((80, 80, 3), colour, np.uint8)).save(real / f"{i}.png")
    desc = _description(tmp_path)
    args = ["--real", str(real), "--dataset", "flat colours", "--detector", str(desc)]
    assert validate.main([*args, "--not-in-training"]) == 0
    printed = capsys.readouterr().out
    assert "real_images = 3\nfalse_positives = 1\n" in printed  # only the red one
    assert "disjoint_from_training = true" in printed
    assert validate.main(args) == 0
    assert "disjoint_from_training = false" in capsys.readouterr().out
