"""Times as courts and notices read them: UTC, with Korea Standard Time beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")


def _moment(value: int | str) -> datetime:
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def utc(value: int | str | None) -> str:
    if value is None:
        return ""
    return _moment(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def kst(value: int | str | None) -> str:
    if value is None:
        return ""
    return _moment(value).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")


def both(value: int | str | None) -> str:
    """``2024-08-06 08:30:12 UTC (2024-08-06 17:30:12 KST)``; empty when unknown."""
    if value is None:
        return ""
    return f"{utc(value)} ({kst(value)})"
