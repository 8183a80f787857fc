"""Analyzers that misbehave on purpose, for the runner's tests (loaded through
HAECHI_EXTRA_ANALYZERS, exactly as an agency's own analyzer would be)."""

from __future__ import annotations

import os
import time
from typing import ClassVar

from haechi.analyze.base import Analyzer
from haechi.domain.analysis import AnalysisInput, AnalysisResult, MediaKind, Signal

IMAGES = frozenset({MediaKind.IMAGE})


def _marked(item: AnalysisInput) -> bool:
    """Only files whose SHA-256 starts with a digit misbehave, so each run has both."""
    return item.sha256[0].isdigit()


class Sleepy(Analyzer):
    name: ClassVar[str] = "t_sleepy"
    version: ClassVar[str] = "1"
    media_kinds = IMAGES
    time_limit: ClassVar[float] = 1.5

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if _marked(item):
            time.sleep(600)  # a decoder stuck on a crafted file
        return AnalysisResult([Signal("t_sleepy", "awake")])


class Crashy(Analyzer):
    name: ClassVar[str] = "t_crashy"
    version: ClassVar[str] = "1"
    media_kinds = IMAGES

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if _marked(item):
            os._exit(139)  # what a segfault in a native library looks like to us
        return AnalysisResult([Signal("t_crashy", "alive")])


class Raisy(Analyzer):
    name: ClassVar[str] = "t_raisy"
    version: ClassVar[str] = "1"
    media_kinds = IMAGES

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if _marked(item):
            raise ValueError("this file is damaged")
        return AnalysisResult([Signal("t_raisy", "fine", 0.5, {"size": item.size})])


class Slow(Analyzer):
    """Takes a while per file, so a test can kill the runner half-way."""

    name: ClassVar[str] = "t_slow"
    version: ClassVar[str] = "1"
    media_kinds = IMAGES

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        time.sleep(0.3)
        head = item.path.read_bytes()[:4].hex()
        return AnalysisResult([Signal("t_slow", head)])


EXTRA = ",".join(
    f"{cls.name}=tests.analyzers_for_tests:{cls.__name__}" for cls in (Sleepy, Crashy, Raisy, Slow)
)


class PdqHeldBack(Analyzer):
    """The real PDQ analyzer, except that it refuses the files named (by SHA-256) in
    HAECHI_TEST_HOLD_BACK: a later run with ``retry_errors`` hashes them after the rest,
    so a test controls which of two files is hashed first."""

    name: ClassVar[str] = "pdq"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.IMAGE, MediaKind.ANIMATION})

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        from haechi.analyze.hashes.pdq import PdqAnalyzer
        from haechi.domain.analysis import AnalysisError

        if item.sha256 in os.environ.get("HAECHI_TEST_HOLD_BACK", "").split(","):
            raise AnalysisError("held back by the test")
        return PdqAnalyzer().analyze(item)


class Where(Analyzer):
    """Says which Ray node (or "local") ran it, after a pause that lets a test kill the
    worker in the middle of a step. Not in EXTRA: the Ray cluster test names it."""

    name: ClassVar[str] = "t_where"
    version: ClassVar[str] = "1"
    media_kinds = IMAGES

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        time.sleep(float(os.environ.get("HAECHI_TEST_WHERE_SECONDS", "0.8")))
        try:
            import ray

            node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
        except ImportError:
            node = "local"
        return AnalysisResult([Signal("t_where", node, None, {"pid": os.getpid()})])
