"""The i18n tests build a package from the cases tests' demo export (tests/cases/fixtures.py)."""

from tests.cases.fixtures import demo_export, sqlite_store, store

__all__ = ["demo_export", "sqlite_store", "store"]
