"""Small helpers shared by the services."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, inspect

from haechi.app import App
from haechi.store.vault import Vault

T = TypeVar("T")
CHUNK = 500  # bound parameters per IN list (SQLite allows 32766; keep plans simple)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bound(values: Sequence[Any], prefix: str = "s") -> tuple[str, dict[str, Any]]:
    """The ``IN (...)`` of bound parameters: ``(":s0, :s1", {"s0": v0, "s1": v1})``.
    Values never enter the SQL text; use at most ``CHUNK`` at a time (see ``chunks``)."""
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{k}" for k in params), params


def derived_store(app: App) -> Vault:
    """The store of safe previews and other derived files (never evidence)."""
    return Vault(app.settings.derived_dir, key=app.vault.key, encrypt=app.vault.encrypted)


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def has_module(name: str) -> bool:
    """True when another capability's module is installed (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def has_table(conn: Connection, name: str) -> bool:
    return bool(inspect(conn).has_table(name))


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)
