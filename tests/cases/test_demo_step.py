"""The demo's case step on the ingested sample export: notices drafted in Korean and English,
an evidence package written, and its own verifier (a separate process) accepting it."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from haechi.app import App
from haechi.cases.notices.views import list_notices
from haechi.demo.steps import DemoContext
from haechi.demo.steps import s80_case as step


def test_case_step(sqlite_store: App) -> None:
    buf = io.StringIO()
    ctx = DemoContext(
        app=sqlite_store, home=sqlite_store.settings.home, out=Console(file=buf, width=200)
    )
    step.run(ctx)
    text = buf.getvalue()
    assert ctx.ok, text
    assert "standalone verifier: OK: case DEMO-2024-001" in text
    languages = {n.language for n in list_notices(sqlite_store, case=step.REF)}
    assert {"ko", "en"} <= languages
    package = Path(ctx.facts["package"])
    assert (package / "verify_package.py").exists() and package.parent == ctx.home / "packages"
    step.run(ctx)  # a second `make demo` reuses the case and writes a new package
    assert ctx.ok and Path(ctx.facts["package"]) != package
