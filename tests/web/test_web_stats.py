"""The statistics page: the tables, CSV and charts of ``haechi.cases.stats`` for a period,
on a case database made for it, and who may see them."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Perm, Role, can
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("stats"), reason="haechi.cases is not installed"
)
PERIOD = {"from": "2024-01", "to": "2024-03"}


@pytest.fixture
def cases(staffed: App) -> App:
    """Cases in January–March 2024 (and one in April, outside), suspects apprehended and
    detained in the period, victims of several ages."""
    from haechi.cases import people, service

    refs = []
    for month, day in ((1, 5), (1, 20), (2, 14), (3, 3), (3, 30)):
        refs.append(
            service.create_case(staffed, "case", reported_on=f"2024-{month:02d}-{day:02d}").ref
        )
    service.create_case(staffed, "later case", reported_on="2024-04-02")
    for i, age in enumerate((13, 16, 17, 24, 35)):
        label = people.add_suspect(staffed, refs[i], age=age)
        status = "detained" if i < 2 else "apprehended"
        people.set_suspect_status(
            staffed, refs[i], label, status, at=f"2024-0{1 + i % 3}-10T10:00+09:00"
        )
    for i, age in enumerate((12, 15, 22)):
        people.add_victim(staffed, refs[i], age=age)
    return staffed


@pytest.fixture
def client(cases: App) -> Iterator[TestClient]:
    with client_of(cases) as c:
        yield c


def _cells(page: str, table: str) -> list[list[str]]:
    part = page.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>", 1)[1], re.S)
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows]


def test_the_page_shows_the_statistics_modules_figures(client: TestClient, cases: App) -> None:
    from haechi.cases import stats as st

    want = st.compute(cases, st.period(PERIOD["from"], PERIOD["to"]))
    assert want.cases == 5 and want.apprehended == 5 and want.detained == 2  # the fixture's
    log_in(client, ROLE_USERS[Role.SUPPORT_WORKER])
    page = client.get("/stats", params=PERIOD)
    assert page.status_code == 200
    text = page.text
    assert [c[1] for c in _cells(text, "cases_per_month")] == [
        str(n) for _, n in want.cases_per_month
    ]
    tables = st.tables(want)
    for name, (_header, rows) in tables.items():
        if name == "summary":
            continue
        shown = _cells(text, name)
        assert len(shown) == max(1, len(rows)), name
        for got, row in zip(shown, rows, strict=False):
            assert got[1:] == ["—" if v is None else str(v) for v in row[1:]], name
    # Every chart of the module, drawn by its own bar_chart_svg with the reader's titles and
    # labels (English here), as an <img> (an SVG picture cannot script the page).
    from haechi.web.views.stats import charts as page_charts

    charts = page_charts(st, want, "en")
    assert charts.keys() == st.charts(want).keys()
    uris = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert sorted(base64.b64decode(u).decode() for u in uris) == sorted(charts.values())
    assert "<svg" not in text  # never inline
    # CSV per table, the module's own text.
    csv = st.to_csv(want)
    for name in tables:
        assert f'href="/stats/{name}.csv?from=2024-01-01&amp;to=2024-03-31"' in text
        r = client.get(f"/stats/{name}.csv", params=PERIOD)
        assert r.status_code == 200 and r.text == csv[name]
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
    assert client.get("/stats/nothing.csv", params=PERIOD).status_code == 404
    api = client.get("/api/stats", params=PERIOD).json()
    assert api["cases_per_month"]["rows"] == [[m, n] for m, n in want.cases_per_month]


def test_korean_labels_and_a_bad_period(client: TestClient) -> None:
    log_in(client, ROLE_USERS[Role.INVESTIGATOR])
    page = client.get("/stats", params=PERIOD, headers={"accept-language": "ko"}).text
    assert "월별 발생 건수" in page and "14세 미만" in page
    bad = client.get("/stats", params={"from": "2024-05", "to": "2024-01"})
    assert bad.status_code == 400 and "before it starts" in bad.text


@pytest.mark.parametrize("role", list(Role))
def test_only_roles_with_stats_read(client: TestClient, role: Role) -> None:
    log_in(client, ROLE_USERS[role])
    allowed = can(role, Perm.STATS)
    for path in ("/stats", "/stats/summary.csv", "/api/stats"):
        assert (client.get(path).status_code == 200) == allowed, (role, path)
    assert ('href="/stats"' in client.get("/me").text) == allowed
