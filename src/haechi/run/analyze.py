"""``haechi analyze``: run every enabled analyzer over the files it has not yet seen.

Incremental (a file is analysed once per analyzer *version*), parallel (a supervised
process pool sized to the cores), resumable (results are committed in small batches;
after a kill, a rerun does what is left) and robust (one file's error, timeout or crash is
recorded on that file and the batch goes on). Every result is a custody event.

After each committed batch the *analysis hooks* run (entry point group
``haechi.analysis_hooks``): callables ``hook(app, analysis_ids)`` that index new signals
and raise matches. They must be idempotent: a crash between the commit and the hook is
repaired by the hook's own catch-up (e.g. ``haechi match --all``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import text

from haechi.analyze.base import Analyzer
from haechi.app import App
from haechi.domain import DataDirError
from haechi.i18n import t_
from haechi.run.analysis_store import (
    Finished,
    count_pending,
    hints_for,
    pending,
    sniff_unknown,
    write_results,
)
from haechi.run.analysis_worker import AnalysisWorker
from haechi.run.pool import SupervisedPool, Task
from haechi.run.ray_engine import RayPool
from haechi.store import custody
from haechi.store.vault import Vault

HOOK_GROUP = "haechi.analysis_hooks"
BATCH = 100
BATCH_SECONDS = 2.0

ProgressFn = Callable[[int, int], None]  # (steps done, steps planned so far)


@dataclass
class AnalyzeReport:
    analyzers: list[str] = field(default_factory=list)
    files: int = 0
    steps: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # "analyzer:status" -> count
    error_samples: list[str] = field(default_factory=list)
    signals: int = 0
    hook_warnings: list[str] = field(default_factory=list)
    # What the hooks reported, summed over the batches: {"match": {"new_matches": 3, ...}}.
    hook_totals: dict[str, dict[str, int]] = field(default_factory=dict)
    worker_restarts: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def run_lock(app: App) -> Iterator[None]:
    """One analysis runner per store: a file lock beside SQLite, a session advisory lock
    on PostgreSQL (which also covers runners on other hosts)."""
    if app.db.is_sqlite:
        path = app.settings.home / ".analyze.lock"
        with open(path, "a+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DataDirError(
                    t_(
                        "Another `haechi analyze` is running on this data directory; "
                        "wait for it to finish."
                    )
                ) from None
            yield
        return
    with app.db.engine.connect() as conn:
        # keyed by schema: two haechi stores may share one PostgreSQL database
        lock = "7420002, hashtext(current_schema())"
        got = conn.execute(text(f"SELECT pg_try_advisory_lock({lock})")).scalar()
        if not got:
            raise DataDirError(t_("Another `haechi analyze` is running on this database."))
        try:
            yield
        finally:
            conn.execute(text(f"SELECT pg_advisory_unlock({lock})"))
            conn.commit()


def _hooks() -> list[tuple[str, Callable[[App, list[int]], object]]]:
    found = []
    for ep in sorted(entry_points(group=HOOK_GROUP), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except ImportError:
            continue  # its extra is not installed: its analyzer is unavailable too
    return found


class AnalysisRunner:
    def __init__(
        self,
        app: App,
        analyzers: Sequence[Analyzer],
        *,
        workers: int | None = None,
        retry_errors: bool = False,
        progress: ProgressFn | None = None,
        engine: str | None = None,
    ) -> None:
        self.app = app
        self.engine = engine or app.settings.engine
        self.analyzers = {a.name: a for a in analyzers}
        self.workers = workers or app.settings.workers
        self.retry_errors = retry_errors
        self.progress = progress
        self.report = AnalyzeReport(analyzers=sorted(self.analyzers))
        self.derived = Vault(
            app.settings.derived_dir, key=app.vault.key, encrypt=app.vault.encrypted
        )
        self.hooks = _hooks()
        self._planned = 0

    def run(self) -> AnalyzeReport:
        started = time.monotonic()
        if not self.analyzers:
            return self.report
        with run_lock(self.app):
            self._clean_scratch()
            sniff_unknown(self.app)
            self._planned = count_pending(
                self.app, list(self.analyzers.values()), self.retry_errors
            )
            if not self._planned:  # nothing new: no pool, no events
                self.report.seconds = round(time.monotonic() - started, 3)
                return self.report
            self._event(custody.ANALYSIS_STARTED, {"analyzers": self._versions()})
            try:
                self._run_pool()
            finally:
                self.report.seconds = round(time.monotonic() - started, 3)
                self._event(custody.ANALYSIS_FINISHED, self.report.as_dict())
        return self.report

    # -- steps ------------------------------------------------------------------------------
    def _versions(self) -> dict[str, str]:
        return {name: a.version for name, a in sorted(self.analyzers.items())}

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        with self.app.db.begin() as conn:
            self.app.custody.append(conn, kind, None, data)

    def _clean_scratch(self) -> None:
        scratch = self.app.settings.tmp_dir
        if scratch.is_dir():
            for leftover in scratch.glob("plain-*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _tasks(self) -> Iterator[Task]:
        page: list[Any] = []
        for item in pending(self.app, list(self.analyzers.values()), self.retry_errors):
            page.append(item)
            if len(page) >= 100:
                yield from self._with_hints(page)
                page = []
        yield from self._with_hints(page)

    def _with_hints(self, page: list[Any]) -> Iterator[Task]:
        if not page:
            return
        hints = hints_for(self.app, [p.sha256 for p in page])
        for p in page:
            self.report.files += 1
            payload = {"size": p.size, "kind": p.kind, "mime": p.mime, "hints": hints.get(p.sha256)}
            yield Task(p.sha256, payload, p.steps)

    def _run_pool(self) -> None:
        settings = self.app.settings
        args = (
            str(self.app.vault.root),
            self.app.vault.key,
            str(settings.tmp_dir),
            settings.analyzers,
            sorted(self.analyzers),
        )

        def limit(step: str) -> float:
            return float(self.analyzers[step].time_limit)

        pool: SupervisedPool | RayPool
        if self.engine == "ray":
            pool = RayPool(self.workers, args, limit)
        else:
            pool = SupervisedPool(self.workers, AnalysisWorker, args, time_limit=limit)
        batch: list[Finished] = []
        flushed = time.monotonic()
        try:
            for out in pool.run(self._tasks()):
                analyzer = self.analyzers[out.step]
                batch.append(
                    Finished(out.key, analyzer, out.status, out.value, out.error, out.seconds)
                )
                if len(batch) >= BATCH or time.monotonic() - flushed > BATCH_SECONDS:
                    self._flush(batch)
                    batch, flushed = [], time.monotonic()
        finally:
            self._flush(batch)
            self.report.worker_restarts = pool.restarts

    def _flush(self, batch: list[Finished]) -> None:
        if not batch:
            return
        ids = write_results(self.app, self.derived, batch)
        counts: Counter[str] = Counter()
        for item in batch:
            self.report.steps += 1
            if item.status == "ok":
                self.report.ok += 1
                self.report.signals += len(item.result.signals) if item.result else 0
            else:
                counts[f"{item.analyzer.name}:{item.status}"] += 1
                if len(self.report.error_samples) < 50:
                    self.report.error_samples.append(
                        f"{item.analyzer.name} on {item.sha256}: {item.status}: {item.error}"
                    )
        for key, n in counts.items():
            self.report.errors[key] = self.report.errors.get(key, 0) + n
        for name, hook in self.hooks:
            try:
                result: object = hook(self.app, ids)
            except Exception as exc:  # a hook must never lose analysis results
                self.report.hook_warnings.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            if isinstance(result, dict):
                totals = self.report.hook_totals.setdefault(name, {})
                for key, value in result.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        totals[key] = totals.get(key, 0) + value
        if self.progress:
            self.progress(self.report.steps, self._planned)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
