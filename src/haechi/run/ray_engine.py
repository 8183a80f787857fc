"""The Ray engine: the same analysis steps as the local pool, fanned out over a cluster.

Chosen with ``--engine ray`` / ``run.engine = "ray"`` / ``HAECHI_ENGINE=ray``; it joins the
cluster at ``HAECHI_RAY_ADDRESS`` or starts a local one. Every Ray worker must see the
vault at the same path (shared storage) and have haechi installed; the database is only
touched here, by the runner, so workers need no database access.

One Ray task is one *step* (one analyzer on one file), so a timeout or a crash is pinned to
the analyzer that caused it, as in :mod:`haechi.run.pool`. A task tells a small clock actor
when its step starts (after its model is loaded), so the time limit counts the step alone;
overdue tasks are cancelled with ``force=True``, which kills their worker process.

A worker process or a node that dies (killed, out of memory, a host lost) costs nothing:
Ray runs the step again elsewhere (``max_retries`` counts system failures only; an
analyzer's exception is a result, never retried). A step whose file crashes its decoder
dies on every attempt, so after :data:`ATTEMPTS` it is recorded as ``crashed``, as the
local pool records it. Results and their custody events are written by the runner alone,
once per step, whatever the attempts: tests/run/test_ray_cluster.py kills a worker of a
two-node cluster (``ray start``) mid-run.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.run.pool import SETUP_LIMIT, Outcome, Task

ATTEMPTS = 2  # a step's runs when its worker dies: one retry, then it is "crashed"
_WORKER: dict[bytes, Any] = {}  # per Ray worker process: built once per (pickled) settings
_READY: set[str] = set()


class _Clock:
    """A Ray actor: when each in-flight step started (wall clock of its node)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def mark(self, token: str) -> None:
        self.started[token] = time.time()

    def since(self, tokens: list[str]) -> dict[str, float]:
        for gone in set(self.started) - set(tokens):
            del self.started[gone]
        return {t: self.started[t] for t in tokens if t in self.started}


def _step(
    args: tuple[Any, ...], key: str, payload: Any, step: str, clock: Any, token: str
) -> tuple[Any, ...]:
    """Runs inside a Ray worker: (status, value, error, seconds)."""
    from haechi.run.analysis_worker import AnalysisWorker
    from haechi.run.pool import _describe

    ident = pickle.dumps(args)
    worker = _WORKER.get(ident)
    if worker is None:
        worker = _WORKER[ident] = AnalysisWorker(*args)
    try:
        opened = worker.open(key, payload)
    except Exception as exc:
        return "error", None, _describe(exc), 0.0
    try:
        if step not in _READY:
            worker.setup(step)
            _READY.add(step)
        clock.mark.remote(token)
        started = time.perf_counter()
        try:
            value = worker.run(step, opened)
        except Exception as exc:
            return "error", None, _describe(exc), time.perf_counter() - started
        return "ok", value, None, time.perf_counter() - started
    finally:
        worker.close(opened)


def _errors_to_stderr() -> None:
    """Ray's driver prints the cluster's error messages ("a worker died ...") to standard
    output, which carries ``haechi analyze --json``: send them to standard error. (A
    private function of Ray's; where it is missing, nothing is changed.)"""
    try:
        from ray._private import worker as ray_worker
    except ImportError:
        return
    original = getattr(ray_worker, "print_to_stdstream", None)
    if original is None or getattr(original, "_haechi", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr._haechi = True  # type: ignore[attr-defined]
    ray_worker.print_to_stdstream = to_stderr


class RayPool:
    """:class:`~haechi.run.pool.SupervisedPool`'s interface on Ray."""

    def __init__(
        self,
        workers: int,
        args: tuple[Any, ...],
        time_limit: Callable[[str], float],
        address: str | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError(
                t_("The ray engine needs Ray: pip install 'haechi[ray]' (or use --engine local).")
            ) from None
        self.ray = ray
        self.args, self.time_limit = args, time_limit
        self.address = address or os.environ.get("HAECHI_RAY_ADDRESS") or None
        self.workers = workers
        self.restarts = 0

    def _start(self) -> int:
        ray = self.ray
        _errors_to_stderr()
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PYTHONPATH", "HAECHI_EXTRA_ANALYZERS") and v
        }
        ray.init(
            address=self.address,
            num_cpus=None if self.address else self.workers,
            include_dashboard=False,
            log_to_driver=False,
            ignore_reinit_error=True,
            runtime_env={"env_vars": env} if env else None,
        )
        return max(1, int(ray.cluster_resources().get("CPU", self.workers)))

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        ray = self.ray
        slots = self._start()
        remote = ray.remote(max_retries=ATTEMPTS - 1, retry_exceptions=False)(_step)
        # Restarted (empty) if its process or node dies: steps then count from submission.
        clock = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(_Clock).remote()
        args_ref = ray.put(self.args)
        steps = ((t.key, t.payload, s) for t in tasks for s in t.steps)
        flying: dict[Any, tuple[str, str, str, float]] = {}  # ref -> key, step, token, t0
        exhausted = False
        serial = 0
        try:
            while True:
                while not exhausted and len(flying) < 2 * slots:
                    nxt = next(steps, None)
                    if nxt is None:
                        exhausted = True
                        break
                    key, payload, step = nxt
                    serial += 1
                    token = str(serial)
                    ref = remote.remote(args_ref, key, payload, step, clock, token)
                    flying[ref] = (key, step, token, time.time())
                if not flying:
                    return
                ready, _ = ray.wait(list(flying), num_returns=1, timeout=0.25)
                for ref in ready:
                    key, step, _token, t0 = flying.pop(ref)
                    yield self._outcome(ref, key, step, t0)
                yield from self._police(flying, clock)
        finally:
            for ref in flying:
                ray.cancel(ref, force=True)

    def _police(
        self, flying: dict[Any, tuple[str, str, str, float]], clock: Any
    ) -> Iterator[Outcome]:
        """Cancel steps past their limit (counted from their start) or stuck in set-up."""
        ray = self.ray
        started = ray.get(clock.since.remote([v[2] for v in flying.values()]))
        now = time.time()
        for ref, (key, step, token, t0) in list(flying.items()):
            if token in started:
                limit, since = self.time_limit(step), started[token]
            else:
                limit, since = SETUP_LIMIT, t0
            if now - since > limit:
                ray.cancel(ref, force=True)
                flying.pop(ref)
                self.restarts += 1
                yield Outcome(
                    key, step, "timeout", None, f"timed out after {limit:g} s", now - since
                )

    def _outcome(self, ref: Any, key: str, step: str, t0: float) -> Outcome:
        ray = self.ray
        try:
            status, value, error, seconds = ray.get(ref)
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            self.restarts += 1
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return Outcome(key, step, "crashed", None,
                           f"the worker died {ATTEMPTS} times ({reason})"[:500],
                           time.time() - t0)  # fmt: skip
        except ray.exceptions.RayError as exc:
            return Outcome(key, step, "error", None, f"{type(exc).__name__}: {exc}"[:1000],
                           time.time() - t0)  # fmt: skip
        return Outcome(key, step, status, value, error, seconds)
