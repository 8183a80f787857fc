"""The demo's exchange step: a partner instance banks a picture, our sync matches it against
the stored demo photos at once, the partner withdraws it and our next sync removes it; a
second demo run does the same again."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from tests.match.conftest import ingest_and_hash

from haechi.app import init_home
from haechi.demo.export_builder import build_demo_export
from haechi.demo.steps import DemoContext, s65_exchange


def test_demo_exchange_step(tmp_path: Path) -> None:
    app = init_home(tmp_path / "home")
    try:
        ingest_and_hash(app, build_demo_export(tmp_path / "export"))
        for _ in range(2):
            buf = io.StringIO()
            ctx = DemoContext(app, app.settings.home, Console(file=buf, width=200))
            s65_exchange.run(ctx)
            text = buf.getvalue()
            assert ctx.ok, text
            assert ctx.facts["exchange"]["matches"] >= 2 and ctx.facts["exchange"]["withdrawn"] == 1
            assert "matches the partner's item" in text and "0 item(s) left" in text
    finally:
        app.close()
