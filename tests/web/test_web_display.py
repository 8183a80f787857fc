"""Invisible and reordering characters in names, titles, file names and text are shown,
never applied (issue 17, point 3): a RIGHT-TO-LEFT OVERRIDE must not make
``photo\\u202egpj.exe`` read as "photoexe.jpg" on a page, in a report, a notice or the
command line."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.domain.display import INVISIBLE, visible
from haechi.web.render import ENV

SPOOF = "photo\u202egpj.exe"


def test_visible_names_each_control() -> None:
    assert visible(SPOOF) == "photo⟨RLO⟩gpj.exe"
    assert visible("a\u200bb\u2066c\u2069\ufeff") == "a⟨ZWSP⟩b⟨LRI⟩c⟨PDI⟩⟨BOM⟩"
    assert visible("\u3164") == "⟨U+3164⟩"  # the Hangul filler behind "blank" names
    # Korean, emoji sequences (zero width joiner) and Persian (non-joiner) stay as they are
    for kept in ("지인능욕방 대피", "👩\u200d👩\u200d👧", "می\u200cخواهم"):
        assert visible(kept) == kept


@given(st.text())
def test_nothing_invisible_survives(value: str) -> None:
    shown = visible(value)
    assert INVISIBLE.search(shown) is None
    if INVISIBLE.search(value) is None:
        assert shown == value


def test_every_template_expression_shows_them() -> None:
    html = ENV.from_string('<p title="{{ v }}">{{ v }}</p> {{ v|isolate }}').render(v=SPOOF)
    assert "\u202e" not in html
    assert html.count("photo⟨RLO⟩gpj.exe") == 3
    assert '<bdi translate="no">photo⟨RLO⟩gpj.exe</bdi>' in html


@pytest.mark.parametrize("role", [Role.INVESTIGATOR])
def test_a_chat_title_with_an_override_is_shown_as_written(
    web: TestClient, loaded: App, role: Role
) -> None:
    with loaded.db.begin() as conn:
        chat_id = conn.execute(text("SELECT id FROM chats ORDER BY id LIMIT 1")).scalar_one()
        conn.execute(text("UPDATE chats SET title = :t WHERE id = :i"), {"t": SPOOF, "i": chat_id})
    log_in(web, ROLE_USERS[role])
    for page in (web.get("/chats"), web.get(f"/chats/{chat_id}")):
        assert page.status_code == 200
        assert "\u202e" not in page.text and "photo⟨RLO⟩gpj.exe" in page.text


def test_the_command_line_shows_them(capsys: pytest.CaptureFixture[str]) -> None:
    from haechi.cli.console import out

    out.print(f"stored {SPOOF}", highlight=False)
    printed = capsys.readouterr().out
    assert "\u202e" not in printed and "photo⟨RLO⟩gpj.exe" in printed


def test_the_report_shows_them() -> None:
    from haechi.report.html import _t

    assert _t(SPOOF) == "photo⟨RLO⟩gpj.exe"
    assert _t("<b>x</b>\u202e") == "&lt;b&gt;x&lt;/b&gt;⟨RLO⟩"
