"""The statistics as a printable report: every table and chart of ``cases.stats``.

Counts only, no person: nothing here needs redaction. Writing it is still an ``export``
custody event, like every file haechi hands out.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from haechi import __version__
from haechi.app import App
from haechi.cases import stats as st
from haechi.cases.events import now_iso
from haechi.cases.files import write_new
from haechi.cases.model import CaseError
from haechi.i18n import t_
from haechi.report.html import CSS, to_pdf
from haechi.store.custody import Draft

TITLES = {
    "summary": "요약 · Summary",
    "cases_per_month": "월별 발생 · Cases per month",
    "suspects_by_age": "피의자 연령대 · Suspects by age band (cases of the period)",
    "apprehended_by_age": "검거 인원 연령대 · Apprehended by age band",
    "detained_by_age": "구속 인원 연령대 · Detained by age band",
    "victims_by_age": "피해자 연령대 · Victims by age band",
    "notices_by_recipient": "삭제 요청 · Notices by recipient (hours to removal)",
}


def render(stats: st.Stats, generated_at: str) -> str:
    charts = st.charts(stats)
    out = [
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">',
        f"<title>haechi statistics {escape(stats.period.label())}</title><style>{CSS}</style>",
        "</head><body>",
        f"<h1>통계 · Statistics {escape(stats.period.label())}</h1>",
        f'<p class="note">Korean days (KST). Generated {escape(generated_at)} by haechi '
        f"{escape(__version__)} from the case records.</p>",
    ]
    for name, (header, rows) in st.tables(stats).items():
        out.append(f"<h2>{escape(TITLES.get(name, name))}</h2><table><tr>")
        out += [f"<th>{escape(str(h))}</th>" for h in header]
        out.append("</tr>")
        for row in rows:
            cells = "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row)
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
        chart = charts.get(name) or (
            charts["median_hours_to_removal"] if name == "notices_by_recipient" else None
        )
        if chart:
            out.append(f"<div>{chart}</div>")  # built escaped by cases.charts
    out.append("</body></html>")
    return "\n".join(out)


def write_stats_report(app: App, stats: st.Stats, dest: Path) -> str:
    kind = dest.suffix.lower().lstrip(".")
    if kind not in ("html", "pdf"):
        raise CaseError(t_("A statistics report is written as .html or .pdf."))
    page = render(stats, now_iso())
    digest = write_new(dest, page.encode() if kind == "html" else to_pdf(page))
    with app.db.begin() as conn:
        app.custody.append_many(
            conn,
            [
                Draft(
                    "export",
                    "stats",
                    {
                        "kind": f"stats_{kind}",
                        "period": stats.period.label(),
                        "sha256": digest,
                        "name": dest.name,
                    },
                )
            ],
        )
    return digest
