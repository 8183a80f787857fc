"""The analyzer seam: one small class per kind of analysis.

Modelled on python-threatexchange's ``SignalType`` and auto-archiver's steps: an analyzer
declares its name, version, the media kinds it takes and its settings (a dataclass,
validated when haechi starts), and turns one stored file into signals. It never touches
the database, the vault or the custody log: the runner does that, identically for every
analyzer, ours or a third party's (registered through the ``haechi.analyzers`` entry
point group).

Bump ``version`` whenever the output for the same input can change (new model, new
thresholds): results are keyed by version, so a re-run with a newer analyzer is visible
and the older results stay as they were.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisInput, AnalysisResult, MediaKind


@dataclass(frozen=True)
class NoSettings:
    """For analyzers without settings."""


@dataclass(frozen=True)
class Example:
    """A file an analyzer's tests and the demo can run it on, with what must come out.

    ``check`` receives the result and raises AssertionError when it is wrong, so examples
    are executable documentation (as threatexchange's ``get_examples``).
    """

    description: str
    path: Path
    check: Any  # Callable[[AnalysisResult], None]


class Analyzer(ABC):
    name: ClassVar[str]
    version: ClassVar[str]
    media_kinds: ClassVar[frozenset[MediaKind]]
    description: ClassVar[str] = ""
    settings_cls: ClassVar[type] = NoSettings
    # Seconds one file may take before the runner kills the worker and records a timeout.
    time_limit: ClassVar[float] = 120.0

    def __init__(self, settings: Any = None) -> None:
        self.settings = settings if settings is not None else self.settings_cls()

    def setup(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Load models once per worker process (called before the first ``analyze``)."""

    @abstractmethod
    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        """Analyse one file. Raise :class:`~haechi.domain.analysis.AnalysisError` for a
        file that cannot be analysed; any other exception is recorded the same way."""

    @classmethod
    def examples(cls) -> list[Example]:
        return []

    @classmethod
    def settings_digest(cls, settings: Any) -> dict[str, Any]:
        """The settings as plain data, recorded with every analysis."""
        if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
            return dataclasses.asdict(settings)
        return {}


def parse_settings(cls: type[Analyzer], values: dict[str, Any]) -> Any:
    """Build ``cls.settings_cls`` from a ``[analyzers.<name>]`` table, naming bad keys."""
    settings_cls = cls.settings_cls
    known = {f.name: f for f in dataclasses.fields(settings_cls)}
    for key, value in values.items():
        if key == "enabled":
            continue
        f = known.get(key)
        if f is None:
            raise UsageError(
                f"Unknown setting analyzers.{cls.name}.{key}; known: "
                f"{', '.join(sorted(known)) or 'none'}."
            )
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        if default is not None and not _same_type(value, default):
            raise UsageError(
                f"Setting analyzers.{cls.name}.{key} must be {type(default).__name__}, "
                f"not {type(value).__name__}."
            )
    return settings_cls(**{k: v for k, v in values.items() if k != "enabled"})


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, tuple | list):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class AnalyzerInfo:
    """What ``haechi analyze --list`` and the docs show for one analyzer."""

    name: str
    version: str
    media_kinds: tuple[str, ...]
    description: str
    enabled: bool
    available: bool
    problem: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
