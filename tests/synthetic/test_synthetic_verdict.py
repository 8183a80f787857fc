"""The verdict: provenance first, detectors second, explained in English and Korean."""

from __future__ import annotations

import re

import pytest

from haechi.analyze.synthetic.validation import MIN_REAL, Validation, clopper_pearson
from haechi.analyze.synthetic.verdict import decide
from haechi.domain.analysis import Signal

C2PA_OK = Signal(
    "provenance",
    "c2pa",
    None,
    {
        "validation_state": "Valid",
        "broken": False,
        "trusted": False,
        "signer": {"common_name": "Example Generator", "issuer": "Example Corp"},
        "claim_generator": "ExampleAI 2.0",
        "actions": [{"action": "c2pa.created"}],
        "digital_source_types": ["trainedAlgorithmicMedia"],
    },
)
C2PA_BROKEN = Signal(
    "provenance",
    "c2pa",
    None,
    {
        "validation_state": "Invalid",
        "broken": True,
        "failures": ["assertion.dataHash.mismatch"],
        "signer": {"common_name": "Cam"},
        "claim_generator": "CameraApp",
        "digital_source_types": ["digitalCapture"],
    },
)
C2PA_CAMERA = Signal(
    "provenance",
    "c2pa",
    None,
    {
        "validation_state": "Trusted",
        "broken": False,
        "trusted": True,
        "signer": {"common_name": "Leica"},
        "claim_generator": "M11",
        "digital_source_types": ["digitalCapture"],
    },
)
A1111 = Signal(
    "provenance",
    "generator:AUTOMATIC1111",
    None,
    {
        "tool": "AUTOMATIC1111",
        "keys": ["parameters"],
        "models": ["sd15"],
        "seed": "42",
        "sampler": "Euler a",
    },
)
DETECTOR_HIGH = Signal(
    "synthetic",
    "baseline",
    0.91,
    {
        "threshold": 0.5,
        "above_threshold": True,
        "reasons": [{"en": "energy at the 2-pixel period", "ko": "2픽셀 주기"}],
    },
)
DETECTOR_LOW = Signal("synthetic", "baseline", 0.1, {"threshold": 0.5, "above_threshold": False})
VALID = {
    "real_images": 1200,
    "false_positives": 6,
    "threshold": 0.5,
    "dataset": "lab phone photos 2025",
    "disjoint_from_training": True,
}


def detector(score: float, validation: dict[str, object] | None, **extra: object) -> Signal:
    data: dict[str, object] = {
        "threshold": 0.5,
        "above_threshold": score >= 0.5,
        "validation": validation,
        "reasons": [
            {"en": "energy at the 2-pixel period", "ko": "2픽셀 주기"},
            {"en": "energy at the 2-pixel period", "ko": "2픽셀 주기"},  # an old duplicate
            {"en": "a pattern repeating every 2/4/8 pixels", "ko": "반복 무늬"},
        ],
    }
    data.update(extra)
    return Signal("synthetic", "lab", score, data)


def test_signed_c2pa_is_strong_and_explained_in_both_languages() -> None:
    v = decide([C2PA_OK, DETECTOR_LOW])
    assert (v.label, v.strength) == ("synthetic", "strong")
    en, ko = v.explanation_en, v.explanation_ko
    for text in (en, ko):
        assert "Example Generator" in text and "c2pa.created" in text
        assert "trainedAlgorithmicMedia" in text and "ExampleAI 2.0" in text
    assert "signature valid" in en and "서명 유효" in ko and "학습된 AI 모델로 생성됨" in ko
    assert v.evidence[0].source == "c2pa" and v.evidence[-1].source == "detector"


def test_unsigned_metadata_is_moderate_and_detectors_alone_weak() -> None:
    v = decide([A1111])
    assert (v.label, v.strength) == ("synthetic", "moderate")
    assert "seed 42" in v.explanation_en and "시드 42" in v.explanation_ko
    assert any("can be written or removed" in c for c in v.caveats_en)
    d = decide([DETECTOR_HIGH])  # no measured false-positive rate: never a headline
    assert (d.label, d.strength) == ("no_evidence", "none")
    assert "inconclusive" in d.explanation_en and "has not been measured" in d.explanation_en
    assert "suggests" not in d.explanation_en + d.label_en
    assert "판단할 수 없으며" in d.explanation_ko and d.caveats_ko


def test_a_validated_detector_headlines_with_its_rate_beside_the_label() -> None:
    v = decide([detector(0.91, VALID)])
    assert (v.label, v.strength) == ("detector_suggests_synthetic", "weak")
    lo, hi = clopper_pearson(6, 1200)
    assert v.label_en.startswith("detector suggests synthetic (false-positive rate 0.5 %")
    assert "6 of 1200 real photos it was not trained on" in v.label_en
    assert f"{100 * lo:.1f}".rstrip("0").rstrip(".") in v.label_en
    assert f"{100 * hi:.1f}".rstrip("0").rstrip(".") in v.label_en
    assert "lab phone photos 2025" in v.label_en
    assert v.label_ko.startswith("탐지기가 합성 가능성을 제시(이 기준에서 오탐률 0.5 %")
    assert "1200장 중 6장" in v.label_ko
    assert v.as_dict()["label_en"] == v.label_en
    # Provenance still outranks it, with its own basis.
    both = decide([A1111, detector(0.91, VALID)])
    assert (both.label, both.strength) == ("synthetic", "moderate") and both.basis_en == ""


@pytest.mark.parametrize(
    ("validation", "needle_en", "needle_ko"),
    [
        (None, "has not been measured on real photos", "측정되지 않았습니다"),
        (
            {**VALID, "false_positives": 632},
            "flags 52.7 % of real photos it was not trained on (632 of 1200",
            "실제 사진의 52.7 %",
        ),
        ({**VALID, "real_images": 120, "false_positives": 0}, "only 120 real photos", "120장"),
        ({**VALID, "threshold": 0.3}, "another threshold (0.3)", "다른 기준(0.3)"),
        ({**VALID, "disjoint_from_training": False}, "may have been trained on", "학습에 쓰였을"),
        ({"real_images": "many"}, "has not been measured", "측정되지 않았습니다"),
    ],
)
def test_an_unvalidated_score_is_an_inconclusive_detail(
    validation: dict[str, object] | None, needle_en: str, needle_ko: str
) -> None:
    v = decide([detector(0.97, validation)])
    assert (v.label, v.strength) == ("no_evidence", "none")
    assert v.label_en == "no evidence either way" and v.basis_en == ""
    item = v.evidence[0]
    assert (item.points_to, item.strength) == ("inconclusive", "none")
    assert needle_en in v.explanation_en and needle_ko in v.explanation_ko
    assert "suggests" not in v.explanation_en and "합성 가능성" not in v.explanation_ko
    assert "2-pixel" not in v.explanation_en  # reasons argue for synthetic: not shown here


def test_the_rule_needs_enough_photos_and_at_most_one_percent() -> None:
    ok = Validation(MIN_REAL, 3, 0.5, "x", True)
    assert ok.supports_label(0.5) == (True, "ok")
    assert Validation(MIN_REAL, 4, 0.5, "x", True).supports_label(0.5)[1] == "fpr_too_high"
    assert Validation(MIN_REAL - 1, 0, 0.5, "x", True).supports_label(0.5)[1] == "too_few"
    lo, hi = clopper_pearson(0, MIN_REAL)
    assert lo == 0.0 and 0.011 < hi < 0.013  # two-sided 95 %: 0 of 300 is at most 1.2 %
    lo, hi = clopper_pearson(6, 1200)
    assert 0.0018 < lo < 0.0019 and 0.0108 < hi < 0.0109


def _sentences(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"(?<=[.!?])\s+", text) if x.strip()]


def test_no_reason_or_sentence_is_said_twice() -> None:
    v = decide([detector(0.91, VALID), detector(0.91, VALID), A1111, A1111])
    for text in (v.explanation_en, v.explanation_ko):
        parts = _sentences(text)
        assert len(parts) == len(set(parts)), parts
    assert v.explanation_en.count("energy at the 2-pixel period") == 1
    assert v.explanation_ko.count("2픽셀 주기") == 1
    assert len(v.caveats_en) == len(set(v.caveats_en))


def test_broken_manifest_and_camera_capture() -> None:
    b = decide([C2PA_BROKEN])
    assert b.label == "provenance_broken" and "dataHash.mismatch" in b.explanation_en
    assert "검증되지 않습니다" in b.explanation_ko
    # Independent generator parameters outweigh a broken camera manifest.
    assert decide([C2PA_BROKEN, A1111]).label == "synthetic"
    c = decide([C2PA_CAMERA])
    assert (c.label, c.strength) == ("captured", "strong")


def test_nothing_found_says_absence_is_not_proof() -> None:
    v = decide([DETECTOR_LOW])
    assert v.label == "no_evidence"
    assert "does not show the picture is real" in v.explanation_en
    assert any("not proof of authenticity" in c for c in v.caveats_en)
    assert any("진본이라는 뜻은 아닙니다" in c for c in v.caveats_ko)
    assert decide([]).explanation_en.endswith(
        "No provenance or detector result was found for this file."
    )
