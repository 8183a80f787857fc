"""The services' refusals in Korean (haechi.i18n.t_ / localize): a marked sentence is the
English text everywhere (str, equality, logs, pickling across processes) and keeps its
template, so the reader's language is applied when it is shown; every sentence marked in
the converted packages has a Korean translation, and none of their refusals is raised as
bare English any more; the command line prints them in Korean under --lang ko."""

from __future__ import annotations

import ast
import importlib
import os
import pickle
import pkgutil
import string
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import haechi.i18n as i18n
from haechi.app import init_home
from haechi.domain import HaechiError, UsageError
from haechi.i18n import Msg, localize, t_

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/haechi/i18n/locale/ko/LC_MESSAGES/haechi.po"
POT = ROOT / "src/haechi/i18n/haechi.pot"
# The services whose refusals are marked (issue 13 point 6): a new English-only refusal in
# one of them fails test_no_refusal_is_raised_as_bare_english.
CONVERTED = (
    "src/haechi/cases",
    "src/haechi/subjects",
    "src/haechi/triage",
    "src/haechi/review",
    "src/haechi/auth",
    "src/haechi/jobs",
    "src/haechi/services",
    "src/haechi/collect/web_capture",
    "src/haechi/collect/telegram_live",
    "src/haechi/report",
    "src/haechi/store",
    "src/haechi/run",
    "src/haechi/collect/telegram_export",
    "src/haechi/exchange",
    "src/haechi/config.py",
    "src/haechi/app.py",
    "src/haechi/graph",
    "src/haechi/web/uploads.py",
    "src/haechi/web/settings.py",
    "src/haechi/web/views/api.py",
    "src/haechi/web/views/archive.py",
    "src/haechi/web/views/collect.py",
    "src/haechi/web/views/jobs.py",
    "src/haechi/web/views/notices.py",
    "src/haechi/web/views/stats.py",
    "src/haechi/web/views/triage.py",
    "src/haechi/web/views/api_cases.py",
    "src/haechi/web/views/face_review.py",
    "src/haechi/web/views/subjects.py",
    "src/haechi/web/views/watch_api.py",
    "src/haechi/match/banks.py",
    "src/haechi/match/lists.py",
)


def _fields(text: str) -> list[tuple[str, str, str]]:
    """The replacement fields of a template: name, conversion and format spec."""
    return sorted(
        (name, conv or "", spec or "")
        for _lit, name, spec, conv in string.Formatter().parse(text)
        if name is not None
    )


def _files() -> list[Path]:
    out: list[Path] = []
    for where in CONVERTED:
        path = ROOT / where
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _marked() -> set[str]:
    """The sentences marked with t_ in the converted packages (as ``make i18n`` finds them)."""
    found: set[str] = set()
    for path in _files():
        for _line, message, _comments, _ctx in extract_from_file(
            "python", path, keywords={"t_": None, "N_": None}
        ):
            if isinstance(message, str):
                found.add(message)
    return found


def test_a_marked_sentence_is_its_english_text_everywhere() -> None:
    m = t_("At most {n} photos at a time; {name!r} is one too many.", n=5, name="a.jpg")
    assert isinstance(m, str) and isinstance(m, Msg)
    assert m == "At most 5 photos at a time; 'a.jpg' is one too many."
    assert hash(m) == hash(str(m)) and "5 photos" in m and m.startswith("At most")
    error = UsageError(m)
    assert str(error) == m and f"{error}" == m and type(str(error)) is str
    again = pickle.loads(pickle.dumps(error))  # a job worker's error crosses a process
    assert isinstance(again.args[0], Msg) and again.args[0].params == {"n": 5, "name": "a.jpg"}
    assert t_("Use {{braces}} for {x}.", x=1) == "Use {braces} for 1."
    # a parameter that cannot be pickled travels as its text; the English stays exact
    lock = threading.Lock()
    held = pickle.loads(pickle.dumps(UsageError(t_("{what!r} is busy.", what=lock))))
    assert str(held) == f"{lock!r} is busy." and held.args[0].params == {"what": str(lock)}


def test_localize_translates_the_template_and_keeps_the_parameters() -> None:
    error = UsageError(t_("There is no job {job_id}.", job_id=4271))
    assert localize(error, "ko") == "작업 4271이(가) 없습니다."
    assert localize(error, "en") == "There is no job 4271." == localize(error, "fr")
    # a parameter is inserted as given (a name is never translated), with its format
    case = t_("Unknown case status {status!r}; use one of {known}.", status="note", known="open")
    assert localize(case, "ko") == "알 수 없는 사건 상태 'note'입니다. open 중 하나를 쓰세요."
    many = t_("At most {max_targets:,} items are tagged at once.", max_targets=10000)
    assert localize(many, "ko") == "한 번에 최대 10,000개 항목에 태그를 달 수 있습니다."
    # a parameter that is itself a marked word is translated with the sentence
    empty = t_("The {what} cannot be empty.", what=t_("case title"))
    assert empty == "The case title cannot be empty."
    assert localize(empty, "ko") == "사건 제목은(는) 비워 둘 수 없습니다."


def test_localize_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    untranslated = t_("A sentence nobody translated, about {thing}.", thing="x")
    assert localize(untranslated, "ko") == "A sentence nobody translated, about x."
    assert localize("plain text", "ko") == "plain text"
    assert localize(ValueError("not marked"), "ko") == "not marked"

    class Custom(HaechiError):
        def __str__(self) -> str:
            return "its own sentence"

    assert localize(Custom(t_("There is no job {job_id}.", job_id=1)), "ko") == "its own sentence"
    # a translation that does not fit its parameters shows the English, not an error
    monkeypatch.setattr(i18n, "translate", lambda _message, _lang: "{nope} 없음")
    assert localize(t_("There is no job {job_id}.", job_id=2), "ko") == "There is no job 2."


def test_every_marked_refusal_has_a_korean_translation() -> None:
    marked = _marked()
    assert len(marked) > 300, len(marked)
    with POT.open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert marked <= template, f"run `make i18n`: {sorted(marked - template)[:5]}"
    with PO.open("rb") as fh:
        ko = {m.id: m for m in read_po(fh, locale="ko") if m.id}
    untranslated = []
    for message in sorted(marked):
        entry = ko.get(message)
        if entry is None or not entry.string or entry.fuzzy:
            untranslated.append(message)
            continue
        assert any("\uac00" <= ch <= "\ud7a3" for ch in entry.string), message
        assert _fields(message) == _fields(str(entry.string)), message
    assert untranslated == [], f"translate in haechi.po: {untranslated[:5]}"


def _error_names() -> set[str]:
    """The names of every HaechiError subclass, once the converted modules are imported."""
    for where in CONVERTED:
        name = where.removeprefix("src/").removesuffix(".py").replace("/", ".")
        module = importlib.import_module(name)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), f"{name}."):
            if ".migrations" in info.name:  # Alembic scripts run only under Alembic
                continue
            try:
                importlib.import_module(info.name)
            except ImportError:  # an optional capability not installed here
                continue
    names, todo = set(), [HaechiError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def test_no_refusal_is_raised_as_bare_english() -> None:
    errors = _error_names()
    assert {"CaseError", "SubjectError", "JobError", "LoginRefused", "TlsFailed"} <= errors
    bare, marked = [], 0
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in errors or not node.exc.args:
                continue
            first = node.exc.args[0]
            if isinstance(first, ast.Call) and getattr(first.func, "id", "") == "t_":
                marked += 1
            elif isinstance(first, ast.Constant | ast.JoinedStr | ast.BinOp):
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert marked > 300 and bare == [], bare


def test_the_command_line_prints_a_refusal_in_korean(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home).close()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HAECHI_", "LC_", "LANG"))}

    def haechi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "haechi.cli.main", *args, "--home", str(home)],
            env=base, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    english = haechi("case", "show", "NOPE-1")
    assert english.returncode == 2
    assert "There is no case 'NOPE-1': `haechi case list` shows the cases." in english.stderr
    korean = haechi("--lang", "ko", "case", "show", "NOPE-1")
    assert korean.returncode == 2 and "There is no case" not in korean.stderr
    assert "오류: 사건 'NOPE-1'이(가) 없습니다." in korean.stderr, korean.stderr
