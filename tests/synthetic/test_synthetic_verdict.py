"""The verdict: provenance first, detectors second, explained in English and Korean."""

from __future__ import annotations

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
    d = decide([DETECTOR_HIGH])
    assert (d.label, d.strength) == ("detector_suggests_synthetic", "weak")
    assert "2-pixel" in d.explanation_en and d.caveats_ko


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
    assert any("not proof of authenticity" in c for c in v.caveats_en)
    assert any("진본이라는 뜻은 아닙니다" in c for c in v.caveats_ko)
    assert decide([]).explanation_en.endswith(
        "No provenance or detector result was found for this file."
    )
