"""Find the installed analyzers (entry point group ``haechi.analyzers``) and configure them.

Our own analyzers are registered in ``pyproject.toml`` exactly like a third party's. An
analyzer whose optional dependencies are missing is listed as unavailable with the reason
(``pip install 'haechi[faces]'``), never a crash; one that is configured wrongly stops
start-up with a sentence naming the setting.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from haechi.analyze.base import Analyzer, AnalyzerInfo, parse_settings
from haechi.domain import UsageError

GROUP = "haechi.analyzers"
# "name=module:Class,..." — an analyzer an agency drops in without packaging it (and the
# misbehaving analyzers the runner's tests use). Read by spawned workers too.
EXTRA_ENV = "HAECHI_EXTRA_ANALYZERS"


@dataclass(frozen=True)
class _Spec:
    name: str
    value: str
    load: Callable[[], Any]


def _specs() -> Iterator[_Spec]:
    for ep in entry_points(group=GROUP):
        yield _Spec(ep.name, ep.value, ep.load)
    for part in os.environ.get(EXTRA_ENV, "").split(","):
        if not part.strip():
            continue
        name, _, target = part.strip().partition("=")
        module, _, attr = target.partition(":")
        if not (name and module and attr):
            raise UsageError(f"{EXTRA_ENV} entries look like name=module:Class, not {part!r}.")

        def load(module: str = module, attr: str = attr) -> Any:
            return getattr(importlib.import_module(module), attr)

        yield _Spec(name, target, load)


@dataclass
class Loaded:
    name: str
    cls: type[Analyzer] | None
    problem: str | None = None


def discover() -> dict[str, Loaded]:
    found: dict[str, Loaded] = {}
    for ep in sorted(_specs(), key=lambda e: e.name):
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as exc:  # an extra that is not installed
            why = getattr(exc, "name", None) or exc
            found[ep.name] = Loaded(ep.name, None, f"not installed ({why})")
            continue
        if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
            found[ep.name] = Loaded(ep.name, None, f"{ep.value} is not an Analyzer")
            continue
        if cls.name != ep.name:
            found[ep.name] = Loaded(ep.name, None, f"{ep.value} calls itself {cls.name!r}")
            continue
        found[ep.name] = Loaded(ep.name, cls)
    return found


def enabled_by_config(cls: type[Analyzer], table: dict[str, Any]) -> bool:
    value = table.get("enabled", getattr(cls, "enabled_by_default", True))
    if not isinstance(value, bool):
        raise UsageError(f"Setting analyzers.{cls.name}.enabled must be true or false.")
    return value


def build(
    config: dict[str, dict[str, Any]], only: list[str] | None = None
) -> tuple[list[Analyzer], list[AnalyzerInfo]]:
    """Instantiate the analyzers to run: every enabled one, or exactly ``only``."""
    found = discover()
    for name in config:
        if name not in found:
            raise UsageError(
                f"[analyzers.{name}] in the settings names no installed analyzer; "
                f"installed: {', '.join(sorted(found)) or 'none'}."
            )
    for name in only or []:
        if name not in found:
            raise UsageError(
                f"There is no analyzer called {name!r}; installed: {', '.join(sorted(found))}."
            )
        if found[name].cls is None:
            raise UsageError(f"The analyzer {name} is unavailable: {found[name].problem}.")
    chosen: list[Analyzer] = []
    infos: list[AnalyzerInfo] = []
    for name, loaded in found.items():
        table = config.get(name, {})
        if loaded.cls is None:
            infos.append(AnalyzerInfo(name, "-", (), "", False, False, loaded.problem))
            continue
        cls = loaded.cls
        settings = parse_settings(cls, table)
        enabled = name in only if only else enabled_by_config(cls, table)
        infos.append(
            AnalyzerInfo(
                name,
                cls.version,
                tuple(sorted(k.value for k in cls.media_kinds)),
                cls.description,
                enabled,
                True,
                None,
                cls.settings_digest(settings),
            )
        )
        if enabled:
            chosen.append(cls(settings))
    return chosen, infos
