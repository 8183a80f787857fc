"""The cases tests' fixtures live in tests/cases/fixtures.py (the report tests share them)."""

from tests.cases.fixtures import demo_export, sqlite_store, store

__all__ = ["demo_export", "sqlite_store", "store"]
