"""The list of cases filtered as ``haechi case list`` filters it (``--status``, ``--tag``,
``--assignee``, ``--unit``): on ``/cases`` with the filters kept in the URL and in the
pager's links, and on ``GET /api/cases``; the same service (``cases.service.list_cases``),
so a person still sees only their own unit's cases whatever they ask for. Refused to
anonymous visitors and to roles without ``cases.read``. One data directory for the module."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of as _app
from tests.web.analyst_kit import bearer, module_web, refused_outside
from tests.web.conftest import log_in
from tests.web.counsellor_kit import PASSWORD

from haechi.auth.roles import Perm
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
UNIT = "Seoul-1"
# ref: (tags, assignee, unit, status)
CASES = {
    "FLT-1": (["urgent"], "kim", None, "open"),
    "FLT-2": (["deepfake"], "lee", None, "open"),
    "FLT-3": (["urgent"], "kim", UNIT, "open"),
    "FLT-4": (["urgent", "deepfake"], "kim", None, "closed"),
    "FLT-5": ([], None, UNIT, "open"),
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor
    from haechi.cases.service import create_case, set_status

    with module_web(tmp_path_factory.mktemp("filters"), ingest=False) as client:
        app = _app(client)
        add_user(app, "u_chief", PASSWORD, "investigator", actor=cli_actor("test"),
                 reason="test account", all_units=True)  # fmt: skip
        for ref, (tags, assignee, unit, status) in CASES.items():
            create_case(app, f"Case {ref}", ref=ref, tags=tags, assignee=assignee, unit=unit)
            set_status(app, ref, status)
        yield client


def _refs(page: str) -> list[str]:
    return re.findall(r'<a href="/cases/(FLT-\d)"', page)


def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    refused_outside(web, Perm.CASES, "GET", "/cases?tag=urgent&assignee=kim")
    refused_outside(web, Perm.CASES, "GET", "/api/cases?tag=urgent&assignee=kim")


def test_the_page_filters_by_tag_assignee_and_status_within_the_own_unit(
    web: TestClient,
) -> None:
    log_in(web, "u_investigator")  # the default unit: FLT-3 and FLT-5 are not theirs
    assert _refs(web.get("/cases").text) == ["FLT-4", "FLT-2", "FLT-1"]
    assert _refs(web.get("/cases?tag=urgent").text) == ["FLT-4", "FLT-1"]
    assert _refs(web.get("/cases?assignee=kim&status=open").text) == ["FLT-1"]
    assert _refs(web.get("/cases?tag=deepfake&assignee=kim").text) == ["FLT-4"]
    assert _refs(web.get(f"/cases?unit={UNIT}").text) == []  # another unit's: none shown
    page = web.get("/cases?tag=urgent&assignee=kim", headers={"accept-language": "ko"}).text
    assert 'name="tag" maxlength="64" size="12" value="urgent"' in page
    assert 'value="kim"' in page and 'id="clear-filters"' in page
    assert 'name="unit"' not in page  # a unit to choose only for who sees every unit
    none = web.get("/cases?tag=nothing", headers={"accept-language": "ko"}).text
    assert "이 조건에 맞는 사건이 없습니다." in none
    odd = web.get('/cases?tag="><b>x', headers={"accept-language": "ko"}).text
    assert '"><b>x' not in odd and "&#34;&gt;&lt;b&gt;x" in odd
    bad = web.get("/cases?status=lost", headers={"accept-language": "ko"})
    assert bad.status_code == 400 and bad.text.count('id="cases-error"') == 1
    assert "lost" in bad.text


def test_the_unit_filter_and_the_pager_keep_the_filters(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haechi.web.views import cases as cases_view

    log_in(web, "u_chief")
    assert _refs(web.get(f"/cases?unit={UNIT}").text) == ["FLT-5", "FLT-3"]
    assert _refs(web.get("/cases?unit=~").text) == ["FLT-4", "FLT-2", "FLT-1"]
    assert _refs(web.get(f"/cases?unit={UNIT}&tag=urgent").text) == ["FLT-3"]
    page = web.get("/cases?unit=~", headers={"accept-language": "ko"}).text
    assert '<option value="~" selected>기본 부서</option>' in page and "모든 부서" in page
    assert web.get("/cases?unit=no!such").status_code == 400

    monkeypatch.setattr(cases_view, "CASES_PAGE", 1)
    first = web.get("/cases?tag=urgent&assignee=kim").text
    assert _refs(first) == ["FLT-4"]
    older = re.search(r'href="(/cases\?[^"]+)" id="older-cases"', first)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert link == "/cases?tag=urgent&assignee=kim&page=1"
    second = web.get(link).text
    assert _refs(second) == ["FLT-3"]
    newer = re.search(r'href="(/cases\?[^"]+)" id="newer-cases"', second)
    assert newer is not None and newer.group(1).replace("&amp;", "&") == (
        "/cases?tag=urgent&assignee=kim&page=0"
    )
    assert _refs(web.get(link.replace("page=1", "page=2")).text) == ["FLT-1"]


def test_the_api_filters_as_the_command_line(web: TestClient) -> None:
    app = _app(web)
    web.cookies.clear()

    def refs(query: str, who: str = "u_investigator") -> list[str]:
        r = web.get(f"/api/cases?{query}", headers=bearer(app, who))
        assert r.status_code == 200, r.text
        return [c["ref"] for c in r.json()]

    assert refs("tag=urgent") == ["FLT-4", "FLT-1"]
    assert refs("tag=urgent&status=closed") == ["FLT-4"]
    assert refs("assignee=lee") == ["FLT-2"]
    assert refs(f"unit={UNIT}") == []
    assert refs(f"unit={UNIT}", "u_chief") == ["FLT-5", "FLT-3"]
    assert refs("unit=~&tag=urgent", "u_chief") == ["FLT-4", "FLT-1"]
    assert refs("tag=urgent&limit=1&offset=1", "u_chief") == ["FLT-3"]
    auth = bearer(app, "u_investigator")
    bad = web.get("/api/cases?status=lost", headers=auth)
    assert bad.status_code == 400 and "lost" in bad.text
    assert web.get("/api/cases?limit=0", headers=auth).status_code == 422
