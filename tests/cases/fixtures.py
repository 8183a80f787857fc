"""Fixtures (used by the cases and report tests): the demo export built once per
session and ingested into each test's store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cases.casedata import ingest

from haechi.app import App


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from haechi.demo.export_builder import build_demo_export

    return build_demo_export(tmp_path_factory.mktemp("demo") / "export")


@pytest.fixture
def store(app: App, demo_export: Path) -> Iterator[App]:
    """The demo export ingested, on SQLite and PostgreSQL."""
    ingest(app, demo_export)
    yield app


@pytest.fixture
def sqlite_store(sqlite_app: App, demo_export: Path) -> Iterator[App]:
    ingest(sqlite_app, demo_export)
    yield sqlite_app
