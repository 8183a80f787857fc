"""Times on every page: UTC with KST beside it (web.render._when), formatted once a minute
per process; the same text as formatting each moment afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from haechi.web.render import _when

KST = timezone(timedelta(hours=9), "KST")


def _fresh(value: int | float | str) -> str:
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    except (ValueError, OverflowError, OSError):
        return str(value)
    utc, kst = moment.astimezone(UTC), moment.astimezone(KST)
    local = kst.strftime("%H:%M" if kst.date() == utc.date() else "%Y-%m-%d %H:%M")
    return f"{utc.strftime('%Y-%m-%d %H:%M')} UTC · {local} KST"


@given(st.integers(min_value=-(10**11), max_value=10**11) | st.floats(-1e10, 1e10))
def test_epoch_seconds_read_as_before(value: int | float) -> None:
    assert _when(value) == _fresh(value)


@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_iso_moments_read_as_before(moment: datetime) -> None:
    text = moment.isoformat()
    assert _when(text) == _fresh(text)


def test_examples_and_what_is_not_a_time() -> None:
    assert _when(1722933000) == "2024-08-06 08:30 UTC · 17:30 KST"
    assert _when("2024-08-06T20:30:00Z") == "2024-08-06 20:30 UTC · 2024-08-07 05:30 KST"
    assert _when(None) == _when("") == "—"
    assert _when("yesterday") == "yesterday"
    assert _when(10**20) == str(10**20)
