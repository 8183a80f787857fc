"""The review tests work on the demo export, ingested (tests/cases/fixtures.py), with every
file's kind read from its bytes (what the analysis runner does first)."""

from collections.abc import Iterator

import pytest
from tests.cases.fixtures import demo_export, sqlite_store
from tests.cases.fixtures import store as ingested

from haechi.app import App

__all__ = ["demo_export", "ingested", "sqlite_store", "store"]


@pytest.fixture
def store(ingested: App) -> Iterator[App]:
    from haechi.run.analysis_store import sniff_unknown

    sniff_unknown(ingested)
    yield ingested
