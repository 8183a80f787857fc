"""Issue 13, point 6, for the court report: Korean police, prosecutors and courts read it,
partner agencies abroad too, so every heading, label and sentence is in Korean and English
(as its title always was) and no value the software names (case status, item kind, notice
recipient and status, suspect status, age band, consent scope, custody event type) is shown
raw. The facts (hashes, ids, times, names) stay as they are, escaped and redacted."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.cases.casedata import demo_case
from tests.i18n.test_korean_terms import TERMS

from haechi.app import App
from haechi.cases import events as case_events
from haechi.cases import people
from haechi.cases.model import AgeBand, CaseStatus, ConsentScope, ItemKind, SuspectStatus
from haechi.cases.notices.profiles import set_profile
from haechi.cases.notices.recipients import LANGUAGES, RecipientKey
from haechi.cases.notices.service import draft_notice
from haechi.cases.notices.status import STATUSES, mark
from haechi.cases.people import GIVEN_BY
from haechi.report import labels
from haechi.report.exports import write_report

HANGUL = re.compile("[\uac00-\ud7a3]")
REPORT_SOURCES = [
    Path(labels.__file__),
    Path(labels.__file__).with_name("html.py"),
]
EVENT_TYPES = [
    v for k, v in vars(case_events).items() if k.isupper() and isinstance(v, str) and "_" in v
]
VOCABULARY = {
    "case_status": [s.value for s in CaseStatus],
    "item_kind": [k.value for k in ItemKind],
    "suspect_status": [s.value for s in SuspectStatus],
    "age_band": [b.value for b in AgeBand],
    "scope": [s.value for s in ConsentScope],
    "given_by": list(GIVEN_BY),
    "recipient": [r.value for r in RecipientKey],
    "notice_status": list(STATUSES),
    "language": list(LANGUAGES),
    "event": EVENT_TYPES,
    "chat": ["user", "chat", "channel"],
}
RAW = {value for values in VOCABULARY.values() for value in values}


class _Cells(HTMLParser):
    """The text of every h1, h2, th, td and p of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "th", "td", "p"):
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            self.cells.append((name, " ".join("".join(parts).split())))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def _cells(page: str) -> list[tuple[str, str]]:
    parser = _Cells()
    parser.feed(page)
    return parser.cells


def _case_with_a_notice(app: App) -> str:
    ref = demo_case(app, name="김서연")
    set_profile(
        app, "unit", person_name="Kim Officer", email="cyber@police.example",
        organisation="Seoul Cyber Investigation Unit",
    )  # fmt: skip
    notice = draft_notice(app, ref, "telegram", "en").notice
    mark(app, notice.id, "sent")
    return ref


def test_every_heading_and_note_is_korean_and_no_value_is_raw(
    sqlite_store: App, tmp_path: Path
) -> None:
    ref = _case_with_a_notice(sqlite_store)
    write_report(sqlite_store, ref, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    cells = _cells(page)
    headings = [text for tag, text in cells if tag in ("h1", "h2", "th") and text != "#"]
    assert len(headings) > 40
    for text in headings:
        assert HANGUL.search(text), f"English-only heading {text!r}"
    for tag, text in cells:
        if tag == "p":  # the title line (data) aside, every sentence has its Korean
            assert HANGUL.search(text) or text == "Deepfake channel", text
    data = [text for tag, text in cells if tag == "td"]
    raw = [text for text in data if text in RAW or text.split(" (")[0] in RAW]
    assert not raw, f"values shown raw: {raw}"
    # the case page's words, beside the English ones
    for shown in (
        "접수 · open",  # case status
        "대화방 · chat",  # item kinds
        "메시지 · message",
        "텔레그램(abuse@telegram.org) · Telegram (abuse@telegram.org)",  # recipient
        "영어 · English",
        "발송 · sent",  # notice status
        "신원 확인 · identified",  # suspect status (an identifier is known)
        "20대 · 20s",  # age bands
        "미상 · unknown",
        "삭제 요청 · takedown requests (본인 · herself",  # consent
        "사건 접수 · case opened",  # custody event type
        "가림 · redacted",
        "해시와 서명이 유효함 · hashes and signatures valid",
        "검증한 적 없음: `haechi verify` 실행 필요 · never verified: run `haechi verify`",
    ):
        assert shown in " ".join(data), shown
    assert "사진은 안전 미리보기" in page and "Pictures appear only as safe previews" in page
    # the facts are unchanged, redaction as before, KST beside UTC
    assert ref in page and "김서연" not in page and "<td>V1</td>" in page
    assert "maker_bot_owner" in page and "UTC" in page and "KST" in page
    assert '<html lang="ko">' in page


def test_revealed_identity_has_bilingual_headings(sqlite_store: App, tmp_path: Path) -> None:
    ref = demo_case(sqlite_store, name="김서연")
    people.record_consent(sqlite_store, ref, "V1", "evidence_sharing", given_by="subject")
    write_report(sqlite_store, ref, tmp_path / "r.html", reveal_victims=True)
    cells = _cells((tmp_path / "r.html").read_text())
    assert ("th", "신원 · identity") in cells
    shown = "표시함 (사용자가 공개를 선택함) · shown (the user chose to reveal them)"
    assert ("td", shown) in cells
    assert any(tag == "td" and "김서연" in text for tag, text in cells)


@pytest.mark.parametrize("kind", sorted(VOCABULARY))
def test_every_value_has_its_korean_name(kind: str) -> None:
    """A value added to the vocabulary without a Korean name would reach a court raw."""
    for value in VOCABULARY[kind]:
        shown = labels.enum(kind, value)
        assert HANGUL.search(shown), f"{kind} {value!r} has no Korean name ({shown!r})"


def test_an_unknown_value_is_shown_as_it_is() -> None:
    assert labels.enum("case_status", "archived-later") == "archived-later"
    assert labels.enum("case_status", None) == ""


@pytest.mark.parametrize("concept", sorted(TERMS))
def test_the_report_uses_one_korean_name_per_concept(concept: str) -> None:
    _name, variants = TERMS[concept]
    for path in REPORT_SOURCES:
        text = path.read_text(encoding="utf-8")
        for variant in variants:
            assert variant not in text, f"{path.name} calls the {concept} {variant!r}"
