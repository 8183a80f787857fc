"""A data directory holding the benign demo export, ingested and hashed once per module
and back end (SQLite, PostgreSQL): the channel's photos, their forwards, and re-posts
that someone resized, cropped and re-compressed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as samples
from sqlalchemy import create_engine, text
from tests.conftest import _PG_SKIP, PG_URL

from haechi.app import App, init_home


def ingest_and_hash(app: App, export: Path) -> None:
    """Ingest an export and run the hash analyzers (the match hook runs after them)."""
    from haechi.analyze.hashes.pdq import PdqAnalyzer
    from haechi.analyze.hashes.vpdq import VpdqAnalyzer
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.analyze import AnalysisRunner
    from haechi.run.ingest import Ingestor

    Ingestor(app, TelegramExportCollector(export)).run()
    report = AnalysisRunner(app, [PdqAnalyzer(), VpdqAnalyzer()], workers=2).run()
    assert report.errors == {}, report.error_samples
    match_warnings = [w for w in report.hook_warnings if w.startswith("match:")]
    assert not match_warnings, match_warnings


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    schema = None
    url = None
    if request.param == "postgresql":
        if _PG_SKIP:
            pytest.skip(_PG_SKIP)
        schema = "haechi_m_" + uuid.uuid4().hex[:10]
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    from haechi.demo.export_builder import build_demo_export

    app = init_home(root / "home", database_url=url)
    ingest_and_hash(app, build_demo_export(root / "export"))
    yield app
    app.close()
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cat_photo(path: Path, *, flip: bool = False, size: int = 300, quality: int = 70) -> Path:
    """The café cat the demo channel posted, as a victim's own copy might look."""
    im = Image.fromarray(np.asarray(samples.chelsea()))
    im = im.resize((size, round(size * im.height / im.width)), Image.Resampling.LANCZOS)
    if flip:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im.save(path, "JPEG", quality=quality)
    return path
