"""The verdict on one picture: is it synthetic, and on what evidence — in Korean and English.

Order of evidence (strongest first), as a prosecutor would weigh it:

1. A **C2PA manifest whose signature validates**: the signer vouches for the
   ``digitalSourceType`` it declares (``trainedAlgorithmicMedia`` = made by a trained
   model). Strong. A manifest that no longer validates is reported as *broken*: the file
   was changed after signing, or the manifest is damaged; its claims are leads only.
2. **Unsigned declarations**: generator parameters (AUTOMATIC1111, ComfyUI, ...), IPTC
   DigitalSourceType in XMP, EXIF Software naming a generator, a Stable Diffusion
   invisible watermark. Moderate: they are not put there by accident, but anyone can
   write or strip them.
3. **Pixel detectors**: statistical scores. A score headlines the verdict
   (``detector_suggests_synthetic``, weak) only when the detector's false-positive rate at
   its threshold was measured on real photos it was not trained on and is at most 1 %
   (:mod:`.validation`); the label then states that rate, its sample size and its 95 %
   interval. Any other score is an inconclusive detail, never "suggests synthetic". A score
   below threshold proves nothing either way.

Absence of provenance is never evidence that a picture is real: Telegram strips metadata
from photos (not from files sent as documents). Every explanation says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from haechi.analyze.synthetic.tags import dst_class
from haechi.analyze.synthetic.validation import MAX_FPR, MIN_REAL, Validation
from haechi.domain.analysis import Signal

DST_KO = {
    "trainedAlgorithmicMedia": "학습된 AI 모델로 생성됨",
    "compositeWithTrainedAlgorithmicMedia": "AI 생성 요소가 합성됨",
    "algorithmicMedia": "알고리즘으로 생성됨",
    "compositeSynthetic": "합성 요소로 구성됨",
    "algorithmicallyEnhanced": "알고리즘으로 보정됨",
    "dataDrivenMedia": "데이터 기반으로 생성됨",
    "digitalCapture": "디지털 카메라로 촬영됨",
    "computationalCapture": "계산 사진 기법으로 촬영됨",
    "screenCapture": "화면 캡처",
    "compositeCapture": "촬영 이미지의 합성",
    "humanEdits": "사람이 편집함",
    "minorHumanEdits": "사람이 약간 편집함",
    "digitalCreation": "디지털로 직접 제작됨",
    "digitalArt": "디지털로 직접 제작됨",
    "softwareImage": "소프트웨어로 제작됨",
}
DST_EN = {
    "trainedAlgorithmicMedia": "made by a trained AI model",
    "compositeWithTrainedAlgorithmicMedia": "a composite including AI-generated elements",
    "algorithmicMedia": "made by an algorithm",
    "compositeSynthetic": "a composite of synthetic elements",
    "algorithmicallyEnhanced": "enhanced by an algorithm",
    "dataDrivenMedia": "generated from data",
    "digitalCapture": "captured by a digital camera",
    "computationalCapture": "captured with computational photography",
    "screenCapture": "a screen capture",
    "compositeCapture": "a composite of captured images",
    "humanEdits": "edited by a person",
    "minorHumanEdits": "slightly edited by a person",
    "digitalCreation": "created digitally by a person",
    "digitalArt": "created digitally by a person",
    "softwareImage": "made with software",
}

LABELS = {
    # label: (English, Korean)
    "synthetic": ("synthetic (AI-generated)", "합성(AI 생성)"),
    "provenance_broken": ("provenance broken", "출처 정보 손상"),
    "captured": ("declared as a camera capture", "카메라 촬영으로 표시됨"),
    "detector_suggests_synthetic": ("detector suggests synthetic", "탐지기가 합성 가능성을 제시"),
    "no_evidence": ("no evidence either way", "판단 근거 없음"),
}

CAVEAT_ABSENCE = (
    "No provenance is not proof of authenticity: Telegram removes metadata from photos "
    "(files sent as documents keep it), and anyone can strip it.",
    "출처 정보가 없다고 해서 진본이라는 뜻은 아닙니다. 텔레그램은 사진의 메타데이터를 "
    "삭제하며(파일로 전송된 경우는 유지), 누구나 이를 지울 수 있습니다.",
)
CAVEAT_DETECTOR = (
    "A detector's score counts only where its false-positive rate on real photos it was "
    "not trained on was measured at 1 % or less; otherwise it is an inconclusive detail. "
    "No score is sufficient on its own, and a low score does not show that a picture is "
    "real (docs/accuracy.md).",
    "탐지기 점수는 학습에 쓰이지 않은 실제 사진에서 측정한 오탐률이 1% 이하인 경우에만 "
    "근거가 되며, 그렇지 않으면 판단을 내릴 수 없는 참고 정보입니다. 어떤 점수도 단독 "
    "증거로는 충분하지 않으며, 점수가 낮다고 해서 진짜 사진이라는 뜻은 아닙니다"
    "(docs/accuracy.md).",
)
CAVEAT_UNSIGNED = (
    "Unsigned metadata is not put there by accident, but it can be written or removed by "
    "anyone; it is corroborating evidence.",
    "서명되지 않은 메타데이터는 우연히 생기지 않지만 누구나 쓰거나 지울 수 있으므로 보강 "
    "증거입니다.",
)


@dataclass
class Evidence:
    source: str  # c2pa, iptc_dst, exif, generator, watermark, detector
    strength: str  # strong, moderate, weak, none (an inconclusive detector score)
    points_to: str  # synthetic, captured, broken, edited, unknown, inconclusive
    en: str
    ko: str
    signal: dict[str, Any] = field(default_factory=dict)  # kind, value, score


@dataclass
class Verdict:
    label: str
    strength: str  # strong, moderate, weak, none
    evidence: list[Evidence]
    explanation_en: str
    explanation_ko: str
    caveats_en: list[str] = field(default_factory=list)
    caveats_ko: list[str] = field(default_factory=list)
    # What a detector label rests on, stated beside it: its measured false-positive rate.
    basis_en: str = ""
    basis_ko: str = ""

    @property
    def label_en(self) -> str:
        head = LABELS[self.label][0]
        return f"{head} ({self.basis_en})" if self.basis_en else head

    @property
    def label_ko(self) -> str:
        head = LABELS[self.label][1]
        return f"{head}({self.basis_ko})" if self.basis_ko else head

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["label_en"], out["label_ko"] = self.label_en, self.label_ko
        return out


def _ref(s: Signal) -> dict[str, Any]:
    return {"kind": s.kind, "value": s.value, "score": s.score}


def _dst_words(terms: list[str]) -> tuple[str, str]:
    en = ", ".join(f"{t} ({DST_EN.get(t, 'unlisted type')})" for t in terms)
    ko = ", ".join(f"{t}({DST_KO.get(t, '목록에 없는 유형')})" for t in terms)
    return en, ko


def _points_to(terms: list[str]) -> str:
    """What a list of digital source types says about origin (synthetic wins)."""
    classes = {dst_class(t) for t in terms}
    if "synthetic" in classes:
        return "synthetic"
    if "capture" in classes:
        return "captured"
    return "edited" if classes & {"edit", "enhanced"} else "unknown"


def _c2pa(s: Signal) -> Evidence:
    d = s.data
    signer = d.get("signer", {})
    who = signer.get("common_name") or signer.get("issuer") or "an unnamed signer"
    org = f" ({signer['issuer']})" if signer.get("issuer") and signer.get("common_name") else ""
    gen = d.get("claim_generator") or "unknown software"
    actions = ", ".join(str(a.get("action")) for a in d.get("actions", []) if a.get("action"))
    terms = list(d.get("digital_source_types") or [])
    dst_en, dst_ko = _dst_words(terms)
    if d.get("error"):
        url = d.get("remote_url")
        if url:
            return Evidence(
                "c2pa",
                "weak",
                "unknown",
                f"The file points to a remote C2PA manifest at {url}; it was not "
                "fetched (no network access from evidence).",
                f"파일이 원격 C2PA 매니페스트({url})를 가리키지만, 증거 보호를 위해 "
                "가져오지 않았습니다.",
                _ref(s),
            )
        return Evidence(
            "c2pa",
            "moderate",
            "broken",
            f"A C2PA manifest is present but cannot be read: {d['error']}.",
            f"C2PA 매니페스트가 있으나 읽을 수 없습니다: {d['error']}.",
            _ref(s),
        )
    if d.get("broken"):
        codes = ", ".join(d.get("failures") or [d.get("validation_state") or "invalid"])
        return Evidence(
            "c2pa",
            "moderate",
            "broken",
            f"C2PA manifest by {who}{org} does NOT validate ({codes}): the file was "
            f"changed after signing or the manifest is damaged. It claimed: "
            f"generator {gen}" + (f", source type {dst_en}" if terms else "") + ".",
            f"{who}{org}의 C2PA 매니페스트가 검증되지 않습니다({codes}). 서명 후 파일이 "
            f"변경되었거나 매니페스트가 손상되었습니다. 주장된 내용: 생성 도구 {gen}"
            + (f", 출처 유형 {dst_ko}" if terms else "")
            + ".",
            _ref(s),
        )
    trust_en = (
        "signer on the configured trust list"
        if d.get("trusted")
        else "signer not on a configured trust list"
    )
    trust_ko = "신뢰 목록에 있는 서명자" if d.get("trusted") else "신뢰 목록에 없는 서명자"
    points = _points_to(terms)
    en = (
        f"C2PA manifest signed by {who}{org} (signature valid; {trust_en}), claim generator "
        f"{gen}"
        + (f", action {actions}" if actions else "")
        + (f", source type {dst_en}" if terms else ", no source type declared")
        + "."
    )
    ko = (
        f"C2PA 매니페스트: 서명자 {who}{org}(서명 유효, {trust_ko}), 생성 도구 {gen}"
        + (f", 동작 {actions}" if actions else "")
        + (f", 출처 유형 {dst_ko}" if terms else ", 출처 유형 표시 없음")
        + "."
    )
    return Evidence("c2pa", "strong", points, en, ko, _ref(s))


def _unsigned(s: Signal) -> Evidence | None:
    d, value = s.data, s.value or ""
    if value == "iptc_dst":
        terms = list(d.get("digital_source_types") or [])
        dst_en, dst_ko = _dst_words(terms)
        points = _points_to(terms)
        strength = "moderate" if points == "synthetic" else "weak"
        return Evidence(
            "iptc_dst",
            strength,
            points,
            f"XMP metadata (unsigned) declares IPTC digital source type {dst_en}.",
            f"XMP 메타데이터(서명 없음)에 IPTC 출처 유형 {dst_ko}이(가) 기록되어 있습니다.",
            _ref(s),
        )
    if value.startswith("generator:"):
        tool = d.get("tool") or value.split(":", 1)[1]
        bits_en, bits_ko = [], []
        if d.get("models"):
            bits_en.append(f"model {', '.join(d['models'])}")
            bits_ko.append(f"모델 {', '.join(d['models'])}")
        if d.get("seed"):
            bits_en.append(f"seed {d['seed']}")
            bits_ko.append(f"시드 {d['seed']}")
        if d.get("sampler"):
            bits_en.append(f"sampler {d['sampler']}")
            bits_ko.append(f"샘플러 {d['sampler']}")
        where = ", ".join(d.get("keys") or [])
        return Evidence(
            "generator",
            "moderate",
            "synthetic",
            f"{tool} generation parameters in the file ({where})"
            + (f": {'; '.join(bits_en)}" if bits_en else "")
            + ".",
            f"파일에 {tool} 생성 매개변수가 있습니다({where})"
            + (f": {'; '.join(bits_ko)}" if bits_ko else "")
            + ".",
            _ref(s),
        )
    if value.startswith("watermark:"):
        mark = d.get("mark") or value.split(":", 1)[1]
        return Evidence(
            "watermark",
            "moderate",
            "synthetic",
            f"Invisible watermark '{mark}' of Stable Diffusion's reference scripts: "
            f"{d.get('bits_matched')}/{d.get('bits_total')} bits match (chance "
            f"{d.get('p_chance')}).",
            f"Stable Diffusion 기본 스크립트의 비가시 워터마크 '{mark}': "
            f"{d.get('bits_total')}비트 중 {d.get('bits_matched')}비트 일치"
            f"(우연일 확률 {d.get('p_chance')}).",
            _ref(s),
        )
    if value == "exif":
        software = d.get("software")
        camera = " ".join(x for x in (d.get("make"), d.get("model")) if x)
        if d.get("software_names_generator"):
            return Evidence(
                "exif",
                "moderate",
                "synthetic",
                f"EXIF Software names an image generator: {software}.",
                f"EXIF 소프트웨어 항목에 이미지 생성 도구가 기록됨: {software}.",
                _ref(s),
            )
        parts_en = [
            f"camera {camera}" if camera else "",
            f"software {software}" if software else "",
        ]
        parts_ko = [
            f"카메라 {camera}" if camera else "",
            f"소프트웨어 {software}" if software else "",
        ]
        return Evidence(
            "exif",
            "weak",
            "captured" if camera else "unknown",
            "EXIF (unsigned) names " + ", ".join(p for p in parts_en if p) + ".",
            "EXIF(서명 없음) 기록: " + ", ".join(p for p in parts_ko if p) + ".",
            _ref(s),
        )
    return None


def _pct(x: float) -> str:
    return f"{100 * x:.1f}".rstrip("0").rstrip(".") + " %"


def basis(v: Validation) -> tuple[str, str]:
    """The measured false-positive rate as it is stated beside a label (EN, KO)."""
    lo, hi = v.interval()
    en = (
        f"false-positive rate {_pct(v.fpr)} at this threshold: {v.false_positives} of "
        f"{v.real_images} real photos it was not trained on, 95 % interval "
        f"{_pct(lo)}–{_pct(hi)}" + (f"; {v.dataset}" if v.dataset else "")
    )
    ko = (
        f"이 기준에서 오탐률 {_pct(v.fpr)}: 학습에 쓰이지 않은 실제 사진 {v.real_images}장 중 "
        f"{v.false_positives}장, 95% 구간 {_pct(lo)}–{_pct(hi)}"
        + (f"; {v.dataset}" if v.dataset else "")
    )
    return en, ko


def _why_inconclusive(v: Validation | None, why: str) -> tuple[str, str]:
    if v is None:
        return (
            "its false-positive rate has not been measured on real photos it was not trained on",
            "학습에 쓰이지 않은 실제 사진에서 오탐률이 측정되지 않았습니다",
        )
    lo, hi = v.interval()
    rate_en = f"{v.false_positives} of {v.real_images}, 95 % interval {_pct(lo)}–{_pct(hi)}"
    rate_ko = f"{v.real_images}장 중 {v.false_positives}장, 95% 구간 {_pct(lo)}–{_pct(hi)}"
    return {
        "fpr_too_high": (
            f"at this threshold it flags {_pct(v.fpr)} of real photos it was not trained on "
            f"({rate_en}), above the {_pct(MAX_FPR)} a label needs",
            f"이 기준에서 학습에 쓰이지 않은 실제 사진의 {_pct(v.fpr)}를 합성으로 표시합니다"
            f"({rate_ko}). 판정에 필요한 {_pct(MAX_FPR)}보다 높습니다",
        ),
        "too_few": (
            f"its false-positive rate was measured on only {v.real_images} real photos "
            f"({rate_en}); at least {MIN_REAL} are needed to show {_pct(MAX_FPR)} or less",
            f"오탐률이 실제 사진 {v.real_images}장에서만 측정되었습니다({rate_ko}). "
            f"{_pct(MAX_FPR)} 이하임을 보이려면 최소 {MIN_REAL}장이 필요합니다",
        ),
        "other_threshold": (
            f"its false-positive rate was measured at another threshold ({v.threshold})",
            f"오탐률이 다른 기준({v.threshold})에서 측정되었습니다",
        ),
        "not_disjoint": (
            "its false-positive rate was measured on photos it may have been trained on",
            "오탐률이 학습에 쓰였을 수 있는 사진에서 측정되었습니다",
        ),
    }.get(why, ("its measurement cannot be used", "측정 결과를 사용할 수 없습니다"))


def _reasons(d: dict[str, Any]) -> tuple[str, str]:
    """The detector's reasons, each said once (older results could repeat one)."""
    en: list[str] = []
    ko: list[str] = []
    for r in d.get("reasons") or []:
        if r.get("en") and r["en"] not in en:
            en.append(r["en"])
            ko.append(r.get("ko") or r["en"])
    return "; ".join(en), "; ".join(ko)


def _detector(s: Signal) -> tuple[Evidence, tuple[str, str] | None]:
    """The evidence item of one detector score, and the label basis when it may headline."""
    d = s.data
    p = s.score or 0.0
    thr = d.get("threshold")
    v = Validation.from_dict(d.get("validation"))
    ok, why = v.supports_label(thr) if v is not None else (False, "unmeasured")
    if bool(d.get("above_threshold")) and ok and v is not None:
        why_en, why_ko = _reasons(d)
        b_en, b_ko = basis(v)
        en = (
            f"Detector {s.value} scores {p:.2f}, at or above its threshold {thr} ({b_en})"
            + (f": {why_en}" if why_en else "")
            + "."
        )
        ko = (
            f"탐지기 {s.value} 점수 {p:.2f}, 기준 {thr} 이상({b_ko})"
            + (f": {why_ko}" if why_ko else "")
            + "."
        )
        return Evidence("detector", "weak", "synthetic", en, ko, _ref(s)), (b_en, b_ko)
    if bool(d.get("above_threshold")):
        w_en, w_ko = _why_inconclusive(v, why)
        en = (
            f"Detector {s.value} scores {p:.2f} (its threshold {thr}): inconclusive, not "
            f"evidence either way, because {w_en}."
        )
        ko = (
            f"탐지기 {s.value} 점수 {p:.2f}(기준 {thr}): 판단할 수 없으며 어느 쪽의 근거도 "
            f"아닙니다. {w_ko}."
        )
        return Evidence("detector", "none", "inconclusive", en, ko, _ref(s)), None
    en = (
        f"Detector {s.value} scores {p:.2f}, below its threshold {thr}; that does not show "
        "the picture is real."
    )
    ko = f"탐지기 {s.value} 점수 {p:.2f}, 기준 {thr} 미만. 진짜 사진이라는 뜻은 아닙니다."
    return Evidence("detector", "none", "unknown", en, ko, _ref(s)), None


def _once(sentences: list[str]) -> list[str]:
    """Each sentence once, in order: two signals can say the same thing (a generator's
    parameters found in two blocks, one detector reported twice)."""
    return list(dict.fromkeys(x for x in sentences if x))


def decide(signals: list[Signal]) -> Verdict:
    """The verdict from a file's ``provenance`` and ``synthetic`` signals."""
    evidence: list[Evidence] = []
    for s in signals:
        if s.kind == "provenance" and s.value == "c2pa":
            evidence.append(_c2pa(s))
        elif s.kind == "provenance":
            e = _unsigned(s)
            if e is not None:
                evidence.append(e)
    scored = [_detector(s) for s in signals if s.kind == "synthetic"]
    detectors = [e for e, _ in scored]
    bases = [b for _, b in scored if b is not None]
    signed = [e for e in evidence if e.source == "c2pa" and e.strength == "strong"]
    broken = [e for e in evidence if e.points_to == "broken"]
    unsigned_synthetic = [e for e in evidence if e.points_to == "synthetic" and e not in signed]
    caveats = [CAVEAT_ABSENCE] if not evidence else []
    if any(e.points_to == "synthetic" for e in signed):
        label, strength = "synthetic", "strong"
    elif unsigned_synthetic:
        label, strength = "synthetic", "moderate"
        caveats.append(CAVEAT_UNSIGNED)
    elif broken:
        label, strength = "provenance_broken", "moderate"
    elif any(e.points_to == "captured" for e in signed):
        label, strength = "captured", "strong"
    elif bases:
        label, strength = "detector_suggests_synthetic", "weak"
    else:
        label, strength = "no_evidence", "none"
    if detectors:
        caveats.append(CAVEAT_DETECTOR)
    ordered = sorted(evidence, key=lambda e: ["strong", "moderate", "weak"].index(e.strength))
    ordered += detectors
    head_en, head_ko = LABELS[label]
    explanation_en = f"{head_en[0].upper()}{head_en[1:]}. " + " ".join(
        _once([e.en for e in ordered])
    )
    explanation_ko = f"{head_ko}. " + " ".join(_once([e.ko for e in ordered]))
    basis_en, basis_ko = bases[0] if label == "detector_suggests_synthetic" else ("", "")
    if label == "no_evidence" and not ordered:
        explanation_en += "No provenance or detector result was found for this file."
        explanation_ko += "이 파일에 대한 출처 정보나 탐지 결과가 없습니다."
    return Verdict(
        label,
        strength,
        ordered,
        explanation_en.strip(),
        explanation_ko.strip(),
        _once([c[0] for c in caveats]),
        _once([c[1] for c in caveats]),
        basis_en,
        basis_ko,
    )
