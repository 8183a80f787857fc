"""Issue 13, point 6: one Korean name for each concept. The chain of custody had two
(보관 연속성 기록 in the navigation, 관리 연속성 기록 everywhere else); every Korean text
the user reads — the web catalogue, the CLI catalogue, the package verifier and the court
report — must use the one chosen name and none of its variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "haechi"
CATALOGUES = (
    SRC / "web" / "locales" / "ko.json",
    SRC / "i18n" / "locale" / "ko" / "LC_MESSAGES" / "haechi.po",
    SRC / "report" / "standalone" / "verify_package.py",
    SRC / "report" / "html.py",
)
# concept: (the name used, variants that must not appear)
TERMS = {
    "chain of custody": ("관리 연속성", ("보관 연속성", "관리연속성", "보관연속성")),
    # a copy posted again after removal (it read 재업로드 once, 재유포 everywhere else)
    "re-upload": ("재유포", ("재업로드", "재게시")),
    # the auditor role (a case page's hint said 감사자)
    "auditor": ("감사관", ("감사자",)),
}


def _korean_text(path: Path) -> str:
    if path.suffix == ".json":
        return "\n".join(str(v) for v in json.loads(path.read_text(encoding="utf-8")).values())
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("concept", sorted(TERMS))
def test_one_korean_name_for_each_concept(concept: str) -> None:
    name, variants = TERMS[concept]
    used = 0
    for path in CATALOGUES:
        text = _korean_text(path)
        used += text.count(name)
        for variant in variants:
            assert variant not in text, f"{path.name} calls the {concept} {variant!r}, not {name!r}"
    assert used > 0, f"no catalogue names the {concept} at all"


def test_a_cases_referred_status_has_one_korean_name() -> None:
    """A case 'referred' (handed to the prosecution, the police or another unit) is 이관 on
    the case page, in the report and on the command line; a suspect's 'referred' is 송치."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "src" / "haechi"
    web = json.loads((root / "web" / "locales" / "ko.json").read_text(encoding="utf-8"))
    assert web["case.status.referred"] == "이관"
    po = (root / "i18n" / "locale" / "ko" / "LC_MESSAGES" / "haechi.po").read_text("utf-8")
    line = po.split('msgid "open, investigating, referred or closed."\n', 1)[1].split("\n")[0]
    assert "이관" in line and "송치" not in line, line
