"""The report tests share the cases tests' fixtures (tests/cases/fixtures.py)."""

from tests.cases.fixtures import demo_export, sqlite_store, store

__all__ = ["demo_export", "sqlite_store", "store"]
