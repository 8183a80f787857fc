"""Cases visible by unit (issue 18): staff see their unit's cases unless their account sees
every unit; enforced in the services, on both back ends, and so in the web and the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from haechi.app import App
from haechi.auth.accounts import add_user, find_user
from haechi.auth.types import UserInfo, cli_actor
from haechi.auth.units import set_unit
from haechi.cases import items, stats
from haechi.cases.acting import acting_as
from haechi.cases.detail import case_detail
from haechi.cases.model import CaseError
from haechi.cases.notices.service import draft_notice
from haechi.cases.notices.status import mark
from haechi.cases.notices.views import get_notice, list_notices
from haechi.cases.service import create_case, get_summary, list_cases, set_case_unit
from haechi.cases.visibility import for_actor, for_user
from haechi.domain import UsageError

PASSWORD = "correct horse battery staple 42"
ADMIN = cli_actor("test admin")


@pytest.fixture
def units(app: App) -> App:
    for name, unit, every in (
        ("seoul1", "Seoul Cyber 1", False),
        ("seoul2", "Seoul Cyber 1", False),
        ("busan", "Busan Cyber", False),
        ("plain", None, False),
        ("chief", "HQ", True),
    ):
        add_user(app, name, PASSWORD, "investigator", actor=ADMIN,
                 reason="test", unit=unit, all_units=every)  # fmt: skip
    for ref, unit in (("S-1", "Seoul Cyber 1"), ("S-2", "Seoul Cyber 1"), ("B-1", "Busan Cyber"),
                      ("D-1", None)):  # fmt: skip
        case = create_case(app, f"case {ref}", ref=ref, unit=unit, reported_on="2026-03-02")
        items.add_link(app, case.ref, f"https://t.me/example_{ref.replace('-', '_')}/1")
    draft_notice(app, "B-1", "telegram", "en")
    draft_notice(app, "S-1", "telegram", "en")
    return app


def _as(app: App, username: str) -> App:
    return acting_as(for_user(app, find_user(app, username)), f"{username} (web)")


def test_each_unit_sees_its_own_cases(units: App) -> None:
    seen = {u: sorted(c.ref for c in list_cases(_as(units, u))) for u in
            ("seoul1", "busan", "plain", "chief")}  # fmt: skip
    assert seen == {
        "seoul1": ["S-1", "S-2"],
        "busan": ["B-1"],
        "plain": ["D-1"],  # the default, unnamed unit
        "chief": ["B-1", "D-1", "S-1", "S-2"],
    }
    assert sorted(c.ref for c in list_cases(units)) == ["B-1", "D-1", "S-1", "S-2"]  # the shell
    assert get_summary(units, "S-1").unit == "Seoul Cyber 1"


def test_another_units_case_is_answered_as_missing(units: App) -> None:
    seoul = _as(units, "seoul1")
    for call in (
        lambda: get_summary(seoul, "B-1"),
        lambda: case_detail(seoul, "B-1", reveal_victims=False),
        lambda: items.add_link(seoul, "B-1", "https://t.me/example/9"),
        lambda: draft_notice(seoul, "B-1", "telegram", "en"),
        lambda: list_notices(seoul, case="B-1"),
    ):
        with pytest.raises(CaseError, match="There is no case 'B-1'"):
            call()
    busan_id = get_summary(units, "B-1").id
    with pytest.raises(CaseError, match="There is no case"):
        get_summary(seoul, str(busan_id))  # by number too
    assert case_detail(seoul, "S-2", reveal_victims=False).ref == "S-2"


def test_notices_follow_their_case(units: App) -> None:
    seoul, busan = _as(units, "seoul1"), _as(units, "busan")
    mine = list_notices(seoul)
    theirs = list_notices(busan)
    assert [n.case_ref for n in mine] == ["S-1"] and [n.case_ref for n in theirs] == ["B-1"]
    with pytest.raises(CaseError, match="There is no notice"):
        get_notice(seoul, theirs[0].id)
    with pytest.raises(CaseError, match="There is no notice"):
        mark(seoul, theirs[0].id, "sent")
    assert get_notice(busan, theirs[0].id).status == "drafted"
    assert len(list_notices(units)) == 2


def test_statistics_count_the_callers_unit(units: App) -> None:
    when = stats.period("2026-03", "2026-03")
    assert stats.compute(_as(units, "seoul1"), when).cases == 2
    assert stats.compute(_as(units, "busan"), when).cases == 1
    assert stats.compute(_as(units, "chief"), when).cases == 4


def test_opening_and_moving_cases(units: App) -> None:
    seoul = _as(units, "seoul1")
    assert create_case(seoul, "opened by a Seoul investigator").unit == "Seoul Cyber 1"
    with pytest.raises(CaseError, match="own unit"):
        create_case(seoul, "for Busan", unit="Busan Cyber")
    with pytest.raises(CaseError, match="every unit"):
        set_case_unit(seoul, "S-1", "Busan Cyber")
    set_case_unit(_as(units, "chief"), "S-2", "Busan Cyber")
    assert sorted(c.ref for c in list_cases(_as(units, "busan"))) == ["B-1", "S-2"]
    with pytest.raises(UsageError, match="not a unit name"):
        create_case(units, "bad", unit="<script>")


def test_accounts_change_units_with_a_reason_for_all(units: App) -> None:
    with pytest.raises(UsageError, match="reason"):
        set_unit(units, "busan", "Busan Cyber", all_units=True, actor=ADMIN)
    moved = set_unit(units, "busan", "Seoul Cyber 1", actor=ADMIN)
    assert isinstance(moved, UserInfo) and moved.unit == "Seoul Cyber 1"
    assert sorted(c.ref for c in list_cases(_as(units, "busan"))) == ["S-1", "S-2"]
    with pytest.raises(UsageError, match="reason"):
        add_user(units, "wide", PASSWORD, "auditor", actor=ADMIN, all_units=True)


def test_a_job_runs_with_the_accounts_current_unit(units: App) -> None:
    from haechi.auth.types import Actor

    user = find_user(units, "busan")
    actor = Actor(user.id, user.username, user.role, via="web")
    assert [c.ref for c in list_cases(for_actor(units, actor))] == ["B-1"]
    assert len(list_cases(for_actor(units, cli_actor("shell")))) == 4


def test_the_collect_bar_offers_only_the_units_open_cases(units: App) -> None:
    """The picker of 'add to case' names references and titles: another unit's must not
    appear in it (adding to one is refused already, by case_row)."""
    from haechi.cases.bulk import case_choices

    assert [c.ref for c in case_choices(_as(units, "busan"))] == ["B-1"]
    assert sorted(c.ref for c in case_choices(_as(units, "seoul1"))) == ["S-1", "S-2"]
    assert len(case_choices(_as(units, "chief"))) == 4


@pytest.fixture
def web(units: App) -> Iterator[TestClient]:
    from tests.web.conftest import client_of

    with client_of(units) as client:
        yield client


def _login(client: TestClient, user: str) -> None:
    from tests.web.conftest import login_token

    form = {"username": user, "password": PASSWORD, "login_token": login_token(client)}
    assert client.post("/login", data=form).status_code == 303


def test_the_web_and_api_show_one_units_cases(web: TestClient) -> None:
    _login(web, "busan")
    page = web.get("/cases")
    assert page.status_code == 200 and "B-1" in page.text and "S-1" not in page.text
    assert "Busan Cyber" in page.text
    # Another unit's case is answered exactly as one that does not exist.
    other, missing = web.get("/cases/S-1"), web.get("/cases/NOPE-9")
    assert other.status_code == missing.status_code != 200
    assert "There is no case" in other.text and "case S-1" not in other.text
    assert web.get("/cases/B-1").status_code == 200
    assert [c["ref"] for c in web.get("/api/cases").json()] == ["B-1"]
    api_other, api_missing = web.get("/api/cases/S-1"), web.get("/api/cases/NOPE-9")
    assert api_other.status_code == api_missing.status_code != 200
    web.post("/logout", data={})
