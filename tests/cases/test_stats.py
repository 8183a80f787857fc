"""Statistics: the published KNPA January–July 2024 figures (297 cases, 146 apprehended,
4 detained; domain.md §5) reproduced from a case database generated to match them, with
cases and apprehensions just outside the period that must not be counted."""

from __future__ import annotations

import csv
import io
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from haechi.app import App
from haechi.cases import people, service
from haechi.cases import stats as st
from haechi.cases.charts import bar_chart_svg
from haechi.cases.model import AgeBand, CaseError
from haechi.report.stats_report import write_stats_report

# How the 297 cases fall over the months is not published; any split summing to 297 will do.
MONTHS = {1: 31, 2: 35, 3: 38, 4: 44, 5: 46, 6: 49, 7: 54}
# Apprehended by age band (the period's 146): under 14 / 14-19 / 20s / 30+.
APPREHENDED = {
    AgeBand.UNDER_14: 20,
    AgeBand.TEEN: 87,
    AgeBand.TWENTIES: 29,
    AgeBand.THIRTY_PLUS: 10,
}
AGES = {AgeBand.UNDER_14: 12, AgeBand.TEEN: 16, AgeBand.TWENTIES: 24, AgeBand.THIRTY_PLUS: 35}


def _generate(app: App) -> list[AgeBand]:
    """The case database; returns the age bands of the apprehended in the order they were
    apprehended (the first four were also detained)."""
    rng = random.Random(2024)
    refs: list[str] = []
    for month, count in MONTHS.items():
        for _ in range(count):
            day = rng.randint(1, 28)
            refs.append(
                service.create_case(app, "case", reported_on=f"2024-{month:02d}-{day:02d}").ref
            )
    for _ in range(12):  # reported in August: outside the period
        service.create_case(app, "case", reported_on=f"2024-08-{rng.randint(1, 28):02d}")
    bands = [band for band, n in APPREHENDED.items() for _ in range(n)]
    rng.shuffle(bands)
    for i, band in enumerate(bands):
        ref = refs[i % len(refs)]
        label = people.add_suspect(app, ref, age=AGES[band])
        month = 1 + i % 7
        status = "detained" if i < 4 else "apprehended"
        when = f"2024-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00+09:00"
        if i == 5:
            when = "2024-07-31T23:30+09:00"  # the last evening of July in Seoul: inside
        people.set_suspect_status(app, ref, label, status, at=when)
    # outside the period: an arrest at 00:30 KST on 1 August (still 31 July in UTC),
    # another in August, and suspects never apprehended
    late = people.add_suspect(app, refs[0], age=17)
    people.set_suspect_status(app, refs[0], late, "detained", at="2024-07-31T15:30Z")
    later = people.add_suspect(app, refs[1], age=22)
    people.set_suspect_status(app, refs[1], later, "apprehended", at="2024-08-12T10:00+09:00")
    for ref in refs[:9]:
        people.add_suspect(app, ref)
    for i, age in enumerate((12, 15, 16, 17, 23, 41)):
        people.add_victim(app, refs[i], age=age)
    return bands


def test_published_january_to_july_2024_figures(app: App, tmp_path: Path) -> None:
    bands = _generate(app)
    result = st.compute(app, st.period("2024-01", "2024-07"))
    assert result.cases == 297
    assert result.apprehended == 146
    assert result.detained == 4
    assert result.cases_per_month == [(f"2024-{m:02d}", n) for m, n in MONTHS.items()]
    assert result.apprehended_by_band == {
        "under14": 20, "14-19": 87, "20s": 29, "30+": 10, "unknown": 0,
    }  # fmt: skip
    assert result.share(AgeBand.TEEN) == pytest.approx(87 / 146)
    # Every suspect of the period's cases by age band, whatever became of them: the 146,
    # plus the two arrested in August (17 and 22) and nine of unknown age never arrested.
    assert result.suspects == 157
    assert result.suspects_by_band == {
        "under14": 20, "14-19": 88, "20s": 30, "30+": 10, "unknown": 9,
    }  # fmt: skip
    detained = {b.value: bands[:4].count(b) for b in APPREHENDED}
    assert result.detained_by_band == {**detained, "unknown": 0}
    assert sum(result.detained_by_band.values()) == 4
    assert result.victims == 6 and result.victims_minor == 4
    assert result.victims_by_band == {"under14": 1, "14-19": 3, "20s": 1, "30+": 1, "unknown": 0}
    august = st.compute(app, st.period("2024-08-01", "2024-08-31"))
    assert (august.cases, august.apprehended, august.detained) == (12, 2, 1)
    assert august.suspects == 0 and set(august.suspects_by_band.values()) == {0}
    assert august.apprehended_by_band["14-19"] == 1 and august.apprehended_by_band["20s"] == 1
    assert august.detained_by_band["14-19"] == 1 and sum(august.detained_by_band.values()) == 1
    tables = st.to_csv(result)
    summary = dict(csv.reader(io.StringIO(tables["summary"])))
    assert (summary["cases"], summary["apprehended"], summary["detained"]) == ("297", "146", "4")
    months = list(csv.DictReader(io.StringIO(tables["cases_per_month"])))
    assert sum(int(r["cases"]) for r in months) == 297
    columns = {}
    for name in ("suspects_by_age", "apprehended_by_age", "detained_by_age"):
        header, *rows = list(csv.reader(io.StringIO(tables[name])))
        columns[header[1]] = {band: int(n) for band, n in rows}
    assert [sum(c.values()) for c in columns.values()] == [157, 146, 4]
    assert columns["suspects recorded"]["14–19"] == 88 and columns["apprehended"]["14–19"] == 87
    assert columns["detained"]["14–19"] == detained["14-19"]
    for name, svg in st.charts(result).items():
        root = ET.fromstring(svg)  # well-formed
        assert root.tag.endswith("svg"), name
    assert "297" not in st.charts(result)["cases_per_month"]  # per month, not the total
    assert ">54<" in st.charts(result)["cases_per_month"]
    write_stats_report(app, result, tmp_path / "stats.html")
    page = (tmp_path / "stats.html").read_text()
    assert "<svg" in page and "<td>297</td>" in page and "<td>146</td>" in page
    for title in ("Suspects by age band", "Apprehended suspects", "Detained suspects"):
        assert title in page  # each table's chart


def test_chart_escapes_labels() -> None:
    svg = bar_chart_svg('<script>alert("x")</script>', ["<b>", "&"], [1, 2])
    assert "<script>" not in svg and "<b>" not in svg
    ET.fromstring(svg)


def test_period_parsing() -> None:
    p = st.period("2024-02", "2024-02")
    assert (p.start.isoformat(), p.end.isoformat()) == ("2024-02-01", "2024-02-29")
    assert p.end_unix - p.start_unix == 29 * 86_400
    with pytest.raises(CaseError, match="ends"):
        st.period("2024-05-01", "2024-04-30")
    with pytest.raises(CaseError, match="YYYY-MM-DD"):
        st.period("May 2024", None)


def test_the_year_to_date_is_counted_in_korean_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a UTC server at 16:00 on 31 December it is already 1 January in Korea: the
    default period is the new year's first day, not the whole old year."""
    from datetime import UTC, date, datetime

    new_year_in_seoul = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert st.korean_today(new_year_in_seoul) == date(2027, 1, 1)
    assert st.korean_today(datetime(2026, 12, 31, 14, 59, tzinfo=UTC)) == date(2026, 12, 31)

    class Frozen(datetime):  # the server's clock at that moment
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return new_year_in_seoul.astimezone(tz)

    monkeypatch.setattr(st, "datetime", Frozen)
    p = st.period(None, None)
    assert (p.start, p.end) == (date(2027, 1, 1), date(2027, 1, 1))
