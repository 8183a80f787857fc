"""A supervised process pool for work on untrusted files.

``concurrent.futures`` cannot stop one task: a decoder that loops forever on a crafted
file, or a native library that crashes, would hang or break the whole batch. Here every
worker is a process of its own that reports when it starts and finishes each *step* (one
analyzer on one file); the supervisor kills a worker whose step runs past its time limit,
records the timeout (or the crash), starts a fresh worker and carries on with the other
steps of that file and the rest of the batch.

Workers are started with ``spawn``: native libraries (ONNX Runtime, dlib, FAISS) start
threads at import, which ``fork`` does not copy safely. Each worker talks over a pipe of
its own, written synchronously: a worker that dies mid-message corrupts only its own pipe,
never a lock that the other workers share (as a ``multiprocessing.Queue`` would).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import connection as mp_connection
from typing import Any, Protocol

SETUP_LIMIT = 900.0  # seconds a worker may spend loading a model before its first step


class WorkerState(Protocol):
    """Lives in a worker process: opens a task's input once, runs its steps on it."""

    def open(self, key: str, payload: Any) -> Any: ...
    def setup(self, step: str) -> None: ...
    def run(self, step: str, opened: Any) -> Any: ...
    def close(self, opened: Any) -> None: ...


class PoolError(RuntimeError):
    """The workers cannot run at all (not one file's problem)."""


@dataclass
class Task:
    key: str
    payload: Any
    steps: list[str]


@dataclass
class Outcome:
    key: str
    step: str
    status: str  # ok / error / timeout / crashed
    value: Any = None
    error: str | None = None
    seconds: float = 0.0


def _worker_main(
    factory: Callable[..., WorkerState], args: tuple[Any, ...], pipe: Any, wid: int
) -> None:
    tasks = results = _PipeIO(pipe)
    try:
        state = factory(*args)
    except Exception as exc:  # the supervisor stops the batch with this sentence
        results.put(("fatal", wid, None, _describe(exc)))
        return
    ready: set[str] = set()
    while True:
        item = tasks.get()
        if item is None:
            return
        key, payload, steps = item
        try:
            opened = state.open(key, payload)
        except Exception as exc:
            for step in steps:
                results.put(("done", wid, key, step, "error", None, _describe(exc), 0.0))
            results.put(("idle", wid, key))
            continue
        try:
            for step in steps:
                if step not in ready:
                    results.put(("setup", wid, key, step, time.monotonic()))
                    state.setup(step)
                    ready.add(step)
                results.put(("start", wid, key, step, time.monotonic()))
                started = time.perf_counter()
                try:
                    value = state.run(step, opened)
                except Exception as exc:
                    seconds = time.perf_counter() - started
                    results.put(("done", wid, key, step, "error", None, _describe(exc), seconds))
                else:
                    seconds = time.perf_counter() - started
                    results.put(("done", wid, key, step, "ok", value, None, seconds))
        finally:
            state.close(opened)
        results.put(("idle", wid, key))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


class _PipeIO:
    """``put``/``get`` over one end of a duplex pipe."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe

    def put(self, item: Any) -> None:
        self.pipe.send(item)

    def get(self) -> Any:
        try:
            return self.pipe.recv()
        except EOFError:  # the supervisor went away: stop
            return None


@dataclass
class _Worker:
    wid: int
    proc: Any
    pipe: Any
    task: Task | None = None
    done_steps: set[str] = field(default_factory=set)
    step: str | None = None
    limit: float = 0.0
    since: float = 0.0


class SupervisedPool:
    """Run tasks in ``workers`` processes; yields one :class:`Outcome` per step."""

    def __init__(
        self,
        workers: int,
        factory: Callable[..., WorkerState],
        args: tuple[Any, ...],
        time_limit: Callable[[str], float],
    ) -> None:
        self.size = max(1, workers)
        self.factory, self.args, self.time_limit = factory, args, time_limit
        self.ctx = mp.get_context("spawn")
        self.workers: dict[int, _Worker] = {}
        self._next_wid = 0
        self._idle_deaths = 0
        self.restarts = 0

    def _spawn(self) -> _Worker:
        wid, self._next_wid = self._next_wid, self._next_wid + 1
        ours, theirs = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=_worker_main,
            args=(self.factory, self.args, theirs, wid),
            daemon=True,
            name=f"haechi-worker-{wid}",
        )
        proc.start()
        theirs.close()
        worker = _Worker(wid, proc, ours)
        self.workers[wid] = worker
        return worker

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        source = iter(tasks)
        backlog: deque[Task] = deque()
        exhausted = False
        for _ in range(self.size):
            self._spawn()
        try:
            while True:
                for worker in list(self.workers.values()):
                    if worker.task is None:
                        if not backlog and not exhausted:
                            nxt = next(source, None)
                            if nxt is None:
                                exhausted = True
                            else:
                                backlog.append(nxt)
                        if backlog:
                            task = backlog.popleft()
                            worker.task, worker.done_steps = task, set()
                            # a worker that died meanwhile is found and requeued by _police
                            with contextlib.suppress(OSError):
                                worker.pipe.send((task.key, task.payload, task.steps))
                if exhausted and not backlog and all(w.task is None for w in self.workers.values()):
                    return
                for msg in self._receive(0.25):
                    yield from self._handle(msg)
                yield from self._police(backlog)
        finally:
            self._shutdown()

    def _receive(self, timeout: float) -> list[tuple[Any, ...]]:
        by_pipe = {w.pipe: w for w in self.workers.values()}
        messages: list[tuple[Any, ...]] = []
        ready: list[Any] = mp_connection.wait(list(by_pipe), timeout)
        for pipe in ready:
            try:
                while pipe.poll():
                    messages.append(pipe.recv())
            except (EOFError, OSError):  # died: _police finds out and requeues
                continue
        return messages

    def _handle(self, msg: tuple[Any, ...]) -> Iterator[Outcome]:
        kind, wid = msg[0], msg[1]
        if kind == "fatal":
            raise PoolError(f"The analysis workers cannot start: {msg[3]}.")
        worker = self.workers.get(wid)
        if worker is None or worker.task is None or msg[2] != worker.task.key:
            return  # a message from a worker we already replaced
        if kind in ("setup", "start"):
            worker.step = msg[3]
            worker.since = msg[4]
            worker.limit = SETUP_LIMIT if kind == "setup" else self.time_limit(msg[3])
        elif kind == "done":
            _, _, key, step, status, value, error, seconds = msg
            worker.done_steps.add(step)
            worker.step = None
            yield Outcome(key, step, status, value, error, seconds)
        elif kind == "idle":
            worker.task, worker.step = None, None

    def _police(self, backlog: deque[Task]) -> Iterator[Outcome]:
        now = time.monotonic()
        for worker in list(self.workers.values()):
            task = worker.task
            if task is None:
                if not worker.proc.is_alive():
                    self._idle_deaths += 1
                    if self._idle_deaths > 3 * self.size:
                        raise PoolError("The analysis workers keep dying before any work.")
                    self._replace(worker)
                continue
            overdue = worker.step is not None and now - worker.since > worker.limit
            dead = not worker.proc.is_alive()
            if not (overdue or dead):
                continue
            if overdue:
                worker.proc.kill()
            worker.proc.join(5)
            # What it said before it died is still in its pipe: a step it finished must
            # not be blamed for the next one's crash.
            yield from self._drain(worker)
            task = worker.task
            if task is None:  # it had finished the file
                self._replace(worker)
                continue
            running_over = worker.step is not None and now - worker.since > worker.limit
            failed, status, error = None, "", ""
            if running_over:
                failed, status = worker.step, "timeout"
                error = f"timed out after {worker.limit:g} s"
            elif not overdue:  # it died on its own while working on this file
                failed = worker.step or next(
                    (s for s in task.steps if s not in worker.done_steps), None
                )
                status, error = "crashed", f"the worker died (exit code {worker.proc.exitcode})"
            # else: killed for a step that finished meanwhile; the next one is requeued
            if failed is not None:
                worker.done_steps.add(failed)
                yield Outcome(task.key, failed, status, None, error, now - worker.since)
            rest = [s for s in task.steps if s not in worker.done_steps]
            if rest:
                backlog.appendleft(Task(task.key, task.payload, rest))
            self._replace(worker)

    def _drain(self, worker: _Worker) -> Iterator[Outcome]:
        try:
            while worker.pipe.poll():
                yield from self._handle(worker.pipe.recv())
        except (EOFError, OSError):
            return

    def _replace(self, worker: _Worker) -> None:
        self.workers.pop(worker.wid, None)
        if worker.proc.is_alive():
            worker.proc.kill()
        worker.proc.join(5)
        worker.pipe.close()
        self.restarts += 1
        self._spawn()

    def _shutdown(self) -> None:
        for worker in self.workers.values():
            if worker.proc.is_alive():
                with contextlib.suppress(OSError, ValueError):
                    worker.pipe.send(None)
        deadline = time.monotonic() + 10
        for worker in self.workers.values():
            worker.proc.join(max(0.1, deadline - time.monotonic()))
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join(1)
        self.workers.clear()
