"""Units on the administrators' users page, as ``haechi user unit`` and ``haechi user add
--unit/--all-units``: the same ``set_unit`` and ``add_user``, for administrators only; the
same unit again records nothing; every unit's cases needs a reason; a bad unit name is
refused in one sentence."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, module_fixture, refused_outside
from tests.web.conftest import PASSWORD, log_in

from haechi.auth import audit
from haechi.auth.accounts import find_user
from haechi.auth.roles import Perm

web = module_fixture("units", ingest=False)
UNIT = "서울청 사이버1팀"  # fictional


def _error(html: str) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', html)
    assert found, html
    return found.group(1)


def _unit_changes(web: TestClient, name: str) -> list[dict[str, object]]:
    return [
        e.detail
        for e in audit.entries(app_of(web), action=audit.USER_CHANGE, subject=f"user:{name}")
        if "unit" in e.detail
    ]


def test_units_are_refused_outside_the_matrix(web: TestClient) -> None:
    change = {"action": "unit", "unit": UNIT}
    refused_outside(web, Perm.USERS_MANAGE, "POST", "/admin/users/u_reviewer", data=change)
    add = {"username": "newbie", "password": PASSWORD, "role": "auditor", "unit": UNIT}
    refused_outside(web, Perm.USERS_MANAGE, "POST", "/admin/users", data=add)
    assert find_user(app_of(web), "u_reviewer").unit is None and not _unit_changes(
        web, "u_reviewer"
    )


def test_an_administrator_moves_an_account_once(web: TestClient) -> None:
    csrf = log_in(web, "u_admin")
    form = {"csrf_token": csrf, "action": "unit", "unit": UNIT}
    first = web.post("/admin/users/u_support_worker", data=form)
    again = web.post("/admin/users/u_support_worker", data=form)
    assert first.status_code == again.status_code == 303
    assert find_user(app_of(web), "u_support_worker").unit == UNIT
    assert _unit_changes(web, "u_support_worker") == [{"unit": UNIT, "all_units": False}]
    page = web.get("/admin/users", headers={"accept-language": "ko"}).text
    assert f'<bdi translate="no">{UNIT}</bdi>' in page and "모든 부서의 사건" in page


def test_every_units_cases_needs_a_reason(web: TestClient) -> None:
    csrf = log_in(web, "u_admin")
    form = {"csrf_token": csrf, "action": "unit", "unit": "", "all_units": "true"}
    refused = web.post("/admin/users/u_auditor", data=form)
    assert refused.status_code == 400 and "give a reason" in _error(refused.text)
    assert not find_user(app_of(web), "u_auditor").all_units
    given = web.post("/admin/users/u_auditor", data={**form, "reason": "national audit"})
    assert given.status_code == 303 and find_user(app_of(web), "u_auditor").all_units
    (entry,) = _unit_changes(web, "u_auditor")
    assert entry["reason"] == "national audit"


def test_a_new_account_with_its_unit_and_bad_names_refused(web: TestClient) -> None:
    csrf = log_in(web, "u_admin")
    add = {"csrf_token": csrf, "username": "kim_aud", "password": PASSWORD, "role": "auditor",
           "unit": "부산청"}  # fmt: skip
    assert web.post("/admin/users", data=add).status_code == 303
    assert find_user(app_of(web), "kim_aud").unit == "부산청"
    wide = {**add, "username": "lee_aud", "unit": "", "all_units": "true"}
    refused = web.post("/admin/users", data=wide)
    assert refused.status_code == 400 and "give a reason" in _error(refused.text)
    bad = web.post("/admin/users/kim_aud", data={"csrf_token": csrf, "action": "unit",
                                                 "unit": "<b>팀</b>"})  # fmt: skip
    said = _error(bad.text)
    assert bad.status_code == 400 and "is not a unit name" in said and "<b>" not in bad.text
    ko = web.post("/admin/users/kim_aud", data={"csrf_token": csrf, "action": "unit",
                  "unit": "a;b"}, headers={"accept-language": "ko"})  # fmt: skip
    assert ko.status_code == 400 and re.search("[가-힣]", _error(ko.text))
    assert find_user(app_of(web), "kim_aud").unit == "부산청"
