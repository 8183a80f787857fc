"""Statistics in the units police and support centres publish (cases per month, suspects
apprehended and detained by age band, victims by age band, notices by recipient with the
median time to removal): tables, CSV and charts, all computed by ``haechi.cases.stats``
(the same code as ``haechi stats`` and the PDF report) — nothing is recomputed here.

Counts only: no material and no person appears, so viewing them is not audited.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.errors import NotFound
from haechi.auth.roles import Perm
from haechi.services import integrations
from haechi.web.auth import haechi, needs
from haechi.web.i18n import catalogue
from haechi.web.nav import NavItem
from haechi.web.render import language, render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(75, "nav.stats", "/stats", Perm.STATS)]


def compute(request: Request) -> tuple[Any, Any]:
    """The ``haechi.cases.stats`` module and its figures for the asked period (``from``,
    ``to``: YYYY-MM or YYYY-MM-DD, Korean days; default: this year to date)."""
    from haechi.cases import stats as st

    p = request.query_params
    when = st.period((p.get("from") or "")[:10] or None, (p.get("to") or "")[:10] or None)
    return st, st.compute(haechi(request), when)


def _labellers(lang: str) -> dict[str, Any]:
    """Table and chart titles (``stats.t.<name>``), headers and row names
    (``stats.l.<text>``), translated where the catalogue knows them, else as the
    statistics module wrote them: a table it adds later still shows, in English."""
    own = catalogue(lang)

    def label(value: object) -> str:
        text = str(value)
        return own.get("stats.l." + text.lower(), text)

    def title(name: str) -> str:
        return own.get("stats.t." + name, name.replace("_", " "))

    return {"label": label, "title": title}


def _svg_uri(svg: str) -> str:
    # As an <img> source the SVG is a picture: it cannot run script or reach the page.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@router.get("/stats", dependencies=[needs(Perm.STATS)])
def stats_page(request: Request) -> Response:
    if not integrations.available("stats"):
        return unavailable(request, "stats")
    st, stats = compute(request)
    p = request.query_params
    query = {"from": stats.period.start.isoformat(), "to": stats.period.end.isoformat()}
    return render(
        request, "stats.html", stats=stats, tables=st.tables(stats),
        charts={name: _svg_uri(svg) for name, svg in st.charts(stats).items()},
        since=p.get("from") or "", until=p.get("to") or "", query=query,
        **_labellers(language(request)),
    )  # fmt: skip


@router.get("/stats/{table}.csv", dependencies=[needs(Perm.STATS)])
def stats_csv(request: Request, table: str) -> Response:
    if not integrations.available("stats"):
        return unavailable(request, "stats")
    st, stats = compute(request)
    files = st.to_csv(stats)
    if table not in files:
        raise NotFound(f"There is no table {table!r}; there are: {', '.join(sorted(files))}.")
    name = f"haechi-{table}-{stats.period.start.isoformat()}-{stats.period.end.isoformat()}.csv"
    return Response(
        files[table],
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
