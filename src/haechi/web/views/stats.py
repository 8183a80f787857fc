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
from haechi.i18n import t_
from haechi.services import integrations
from haechi.web.auth import haechi, needs
from haechi.web.i18n import Translator, catalogue
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
        # Row names, headers, then the recipients of notices (the notices page's names).
        found = own.get("stats.l." + text.lower()) or own.get("notice.recipient." + text, text)
        return found.replace("`", "")  # an address in backticks is code on the pages

    def title(name: str) -> str:
        return own.get("stats.t." + name, name.replace("_", " "))

    return {"label": label, "title": title}


def _svg_uri(svg: str) -> str:
    # As an <img> source the SVG is a picture: it cannot run script or reach the page.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def charts(st: Any, stats: Any, lang: str) -> dict[str, str]:
    """The statistics module's charts, drawn with its own ``bar_chart_svg`` but titled and
    labelled in the reader's language (the CLI and the PDF keep the module's English)."""
    from haechi.cases.charts import bar_chart_svg
    from haechi.cases.model import AGE_BAND_LABELS

    own = _labellers(lang)
    title, label = own["title"], own["label"]
    t = Translator(lang)
    period = period_label(stats.period, lang)

    def bands(name: str, counts: dict[str, int]) -> str:
        labels = [label(AGE_BAND_LABELS[b]) for b in st.BANDS]
        return bar_chart_svg(title(name), labels, [counts.get(b.value, 0) for b in st.BANDS])

    out = {
        "cases_per_month": bar_chart_svg(
            f"{title('cases_per_month')}, {period}",
            [m for m, _ in stats.cases_per_month],
            [n for _, n in stats.cases_per_month],
        ),
        "suspects_by_age": bands("suspects_by_age", stats.suspects_by_band),
        "apprehended_by_age": bands("apprehended_by_age", stats.apprehended_by_band),
        "detained_by_age": bands("detained_by_age", stats.detained_by_band),
        "victims_by_age": bands("victims_by_age", stats.victims_by_band),
        "median_hours_to_removal": bar_chart_svg(
            title("median_hours_to_removal"),
            [t("notice.recipient." + n.recipient).replace("`", "") for n in stats.notices],
            [n.median_hours or 0 for n in stats.notices],
        ),
    }
    # A chart the module adds later still shows (with the module's own words).
    for name, svg in st.charts(stats).items():
        out.setdefault(name, svg)
    return out


def period_label(period: Any, lang: str) -> str:
    """The period in Korean days, said as the reader says dates."""
    if lang == "ko":
        a, b = period.start, period.end
        return f"{a.year}년 {a.month}월 {a.day}일 – {b.year}년 {b.month}월 {b.day}일 (한국 시간)"
    return f"{period.start:%d %b %Y} – {period.end:%d %b %Y} (Korean days, KST)"


@router.get("/stats", dependencies=[needs(Perm.STATS)])
def stats_page(request: Request) -> Response:
    if not integrations.available("stats"):
        return unavailable(request, "stats")
    st, stats = compute(request)
    p = request.query_params
    lang = language(request)
    query = {"from": stats.period.start.isoformat(), "to": stats.period.end.isoformat()}
    return render(
        request, "stats.html", stats=stats, tables=st.tables(stats),
        charts={name: _svg_uri(svg) for name, svg in charts(st, stats, lang).items()},
        since=p.get("from") or "", until=p.get("to") or "", query=query,
        period=period_label(stats.period, lang), **_labellers(lang),
    )  # fmt: skip


@router.get("/stats/{table}.csv", dependencies=[needs(Perm.STATS)])
def stats_csv(request: Request, table: str) -> Response:
    if not integrations.available("stats"):
        return unavailable(request, "stats")
    st, stats = compute(request)
    files = st.to_csv(stats)
    if table not in files:
        there = ", ".join(sorted(files))
        raise NotFound(
            t_("There is no table {table!r}; there are: {there}.", table=table, there=there)
        )
    name = f"haechi-{table}-{stats.period.start.isoformat()}-{stats.period.end.isoformat()}.csv"
    return Response(
        files[table],
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
