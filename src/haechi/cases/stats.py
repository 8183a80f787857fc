"""Statistics in the units police and support centres publish (domain.md §4.5, §9.7).

- cases (발생) per month, by the day each case was reported;
- suspects by age band — under 14 (criminal minors, 촉법소년), 14–19, 20s, 30+ — three
  ways: every suspect recorded in the period's cases, those apprehended (검거) in the
  period and those detained (구속) in the period (the KNPA's headline figures count the
  last two by when the arrest happened, whatever month the case was reported in);
- victims of the period's cases by age band, and how many are minors;
- notices by recipient, with the median time from sending to removal.

Days and months are Korean days (KST), as the KNPA counts them. Every figure is computed
from the case records, so it can be traced back to the cases that make it up.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from haechi.app import App
from haechi.cases import visibility
from haechi.cases.charts import bar_chart_svg
from haechi.cases.model import AGE_BAND_LABELS, AgeBand, CaseError, age_band
from haechi.cases.notices.timing import RecipientTiming, removal_times
from haechi.cases.timefmt import KST
from haechi.i18n import t_
from haechi.store.tables.cases import Case, CaseSubject, CaseSuspect

BANDS = [AgeBand.UNDER_14, AgeBand.TEEN, AgeBand.TWENTIES, AgeBand.THIRTY_PLUS, AgeBand.UNKNOWN]


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    @property
    def start_unix(self) -> int:
        return int(datetime.combine(self.start, time(), KST).timestamp())

    @property
    def end_unix(self) -> int:  # exclusive: midnight KST after the last day
        return int(datetime.combine(self.end, time(), KST).timestamp()) + 86_400

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def korean_today(now: datetime | None = None) -> date:
    """Today in Korea (KST), whatever the server's own time zone: on a UTC server at
    16:00 on 31 December it is already 1 January in Korea."""
    return (now or datetime.now(UTC)).astimezone(KST).date()


def period(start: str | None, end: str | None) -> Period:
    """A period from ISO dates; a bare year-month (``2024-07``) means the whole month.
    Without them, the year to date in Korean days (KST)."""
    today = korean_today()
    try:
        first = _day(start, first=True) if start else date(today.year, 1, 1)
        last = _day(end, first=False) if end else today
    except ValueError:
        raise CaseError(t_("Give dates as YYYY-MM-DD or YYYY-MM.")) from None
    if last < first:
        raise CaseError(
            t_("The period ends ({last}) before it starts ({first}).", last=last, first=first)
        )
    return Period(first, last)


def _day(text: str, *, first: bool) -> date:
    text = text.strip()
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        if first:
            return date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return date.fromisoformat(text)


@dataclass
class Stats:
    period: Period
    cases_per_month: list[tuple[str, int]] = field(default_factory=list)
    cases: int = 0
    suspects: int = 0  # recorded in the period's cases
    apprehended: int = 0
    detained: int = 0
    suspects_by_band: dict[str, int] = field(default_factory=dict)
    apprehended_by_band: dict[str, int] = field(default_factory=dict)
    detained_by_band: dict[str, int] = field(default_factory=dict)
    victims: int = 0
    victims_minor: int = 0
    victims_by_band: dict[str, int] = field(default_factory=dict)
    notices: list[RecipientTiming] = field(default_factory=list)

    def share(self, band: AgeBand) -> float | None:
        """The band's share of the apprehended, e.g. teens (KNPA's headline figure)."""
        if not self.apprehended:
            return None
        return self.apprehended_by_band.get(band.value, 0) / self.apprehended


def compute(app: App, when: Period) -> Stats:
    stats = Stats(when)
    first, last = when.start.isoformat(), when.end.isoformat()
    with app.db.connect() as conn:
        in_period = (Case.reported_on >= first) & (Case.reported_on <= last)
        unit = visibility.condition(conn)  # the caller's unit only (cases.visibility)
        if unit is not None:
            in_period = in_period & unit
        months: Counter[str] = Counter()
        for day, n in conn.execute(
            select(Case.reported_on, func.count()).where(in_period).group_by(Case.reported_on)
        ):
            months[day[:7]] += int(n)
        stats.cases_per_month = [(m, months.get(m, 0)) for m in when.months()]
        stats.cases = sum(months.values())
        case_ids = select(Case.id).where(in_period)
        ages = select(CaseSuspect.age, CaseSuspect.age_band)
        recorded = conn.execute(ages.where(CaseSuspect.case_id.in_(case_ids))).all()
        stats.suspects = len(recorded)
        stats.suspects_by_band = _bands([(r.age, r.age_band) for r in recorded])
        ages = visibility.limit_to_cases(conn, ages, CaseSuspect.case_id)
        apprehended = conn.execute(
            ages.where(
                CaseSuspect.apprehended_unix >= when.start_unix,
                CaseSuspect.apprehended_unix < when.end_unix,
            )
        ).all()
        stats.apprehended = len(apprehended)
        stats.apprehended_by_band = _bands([(r.age, r.age_band) for r in apprehended])
        detained = conn.execute(
            ages.where(
                CaseSuspect.detained_unix >= when.start_unix,
                CaseSuspect.detained_unix < when.end_unix,
            )
        ).all()
        stats.detained = len(detained)
        stats.detained_by_band = _bands([(r.age, r.age_band) for r in detained])
        victims = conn.execute(
            select(CaseSubject.age, CaseSubject.age_band, CaseSubject.is_minor).where(
                CaseSubject.case_id.in_(case_ids), CaseSubject.role == "victim"
            )
        ).all()
        stats.victims = len(victims)
        stats.victims_minor = sum(1 for v in victims if v.is_minor)
        stats.victims_by_band = _bands([(v.age, v.age_band) for v in victims])
    stats.notices = removal_times(app, since_unix=when.start_unix, until_unix=when.end_unix)
    return stats


def _bands(rows: list[tuple[int | None, str | None]]) -> dict[str, int]:
    counts = Counter(age_band(age, band).value for age, band in rows)
    return {b.value: counts.get(b.value, 0) for b in BANDS}


# -- output ----------------------------------------------------------------------------
def tables(stats: Stats) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Every table as (header, rows): what CSV, the CLI, reports and the web app show."""

    def by_band(counts: dict[str, int]) -> list[list[object]]:
        return [[AGE_BAND_LABELS[b], counts.get(b.value, 0)] for b in BANDS]

    return {
        "cases_per_month": (["month", "cases"], [[m, n] for m, n in stats.cases_per_month]),
        "summary": (
            ["figure", "value"],
            [
                ["period", stats.period.label()],
                ["cases", stats.cases],
                ["suspects recorded", stats.suspects],
                ["apprehended", stats.apprehended],
                ["detained", stats.detained],
                ["victims", stats.victims],
                ["victims who are minors", stats.victims_minor],
            ],
        ),
        # Three populations, three tables: each keeps the units it is published in.
        "suspects_by_age": (["age band", "suspects recorded"], by_band(stats.suspects_by_band)),
        "apprehended_by_age": (["age band", "apprehended"], by_band(stats.apprehended_by_band)),
        "detained_by_age": (["age band", "detained"], by_band(stats.detained_by_band)),
        "victims_by_age": (["age band", "victims"], by_band(stats.victims_by_band)),
        "notices_by_recipient": (
            ["recipient", "notices", "sent", "removed", "median hours to removal", "min", "max"],
            [
                [
                    t.recipient,
                    t.notices,
                    t.sent,
                    t.removed,
                    t.median_hours,
                    t.min_hours,
                    t.max_hours,
                ]
                for t in stats.notices
            ],
        ),
    }


def to_csv(stats: Stats) -> dict[str, str]:
    """One CSV text per table, keyed by the table's file name stem."""
    out = {}
    for name, (header, rows) in tables(stats).items():
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        out[name] = buf.getvalue()
    return out


def charts(stats: Stats) -> dict[str, str]:
    """SVG bar charts (self-contained, escaped): for the web app and the PDF/HTML reports."""
    return {
        "cases_per_month": bar_chart_svg(
            f"Cases per month, {stats.period.label()}",
            [m for m, _ in stats.cases_per_month],
            [n for _, n in stats.cases_per_month],
        ),
        "suspects_by_age": _band_chart(
            "Suspects by age band (cases of the period)", stats.suspects_by_band
        ),
        "apprehended_by_age": _band_chart(
            "Apprehended suspects by age band", stats.apprehended_by_band
        ),
        "detained_by_age": _band_chart("Detained suspects by age band", stats.detained_by_band),
        "victims_by_age": _band_chart("Victims by age band", stats.victims_by_band),
        "median_hours_to_removal": bar_chart_svg(
            "Median hours from notice to removal",
            [t.recipient for t in stats.notices],
            [t.median_hours or 0 for t in stats.notices],
        ),
    }


def _band_chart(title: str, counts: dict[str, int]) -> str:
    return bar_chart_svg(
        title, [AGE_BAND_LABELS[b] for b in BANDS], [counts.get(b.value, 0) for b in BANDS]
    )
