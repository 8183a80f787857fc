"""The steps of ``haechi demo``, one module per capability, run in ``ORDER``.

A module here defines ``ORDER`` (int), ``TITLE`` (str) and ``run(ctx: DemoContext) ->
None``; it is found with ``pkgutil``, so a capability adds its part of the demo without
editing a shared list. A step prints what it did through ``ctx.out`` and may leave facts
for later steps in ``ctx.facts`` (the web step prints the login the case step made, ...).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

from haechi.app import App


@dataclass
class DemoContext:
    app: App
    home: Path
    out: Console
    export_dir: Path | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    serve: bool = False  # the last step serves the web UI until interrupted (make demo)


def steps() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
    ]
    return sorted((m for m in modules if hasattr(m, "run")), key=lambda m: (m.ORDER, m.__name__))
