"""After-ingest hooks: capabilities that keep something up to date with the messages
(the text findings, the full-text index) register ``hook(app, report)`` in the
``haechi.ingest_hooks`` entry point group; they run after every ingest, in name order.

A hook must be idempotent and incremental: ``haechi analyze`` calls it with ``report=None``
to catch up after ``haechi ingest --no-analyze``. Its failure is reported as a warning: it
never undoes or hides the ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from haechi.app import App

INGEST_GROUP = "haechi.ingest_hooks"


def run_ingest_hooks(app: App, report: Any) -> dict[str, Any]:
    """Run every installed hook; returns ``{name: result or error sentence}``."""
    results: dict[str, Any] = {}
    for ep in sorted(entry_points(group=INGEST_GROUP), key=lambda e: e.name):
        try:
            hook: Callable[[App, Any], Any] = ep.load()
        except ImportError as exc:
            results[ep.name] = f"not installed ({exc.name or exc})"
            continue
        try:
            results[ep.name] = hook(app, report)
        except Exception as exc:  # reported, never fatal: the evidence is already safe
            results[ep.name] = f"failed: {type(exc).__name__}: {exc}"
    return results
