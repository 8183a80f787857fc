"""The supervised pool on its own: outcomes are pinned to the step that caused them."""

from __future__ import annotations

import os
import time
from typing import Any

from haechi.run.pool import SupervisedPool, Task


class Steps:
    """A WorkerState: step 'ok' returns at once, 'die' kills the process, 'hang' sleeps."""

    def __init__(self) -> None:
        pass

    def open(self, key: str, payload: Any) -> Any:
        return key

    def setup(self, step: str) -> None:
        pass

    def run(self, step: str, opened: Any) -> Any:
        if step == "die":
            os._exit(139)
        if step == "hang":
            time.sleep(600)
        return f"{step}:{opened}"

    def close(self, opened: Any) -> None:
        pass


def _run(tasks: list[Task], limit: float = 1.0) -> dict[tuple[str, str], str]:
    pool = SupervisedPool(2, Steps, (), time_limit=lambda step: limit)
    return {(o.key, o.step): o.status for o in pool.run(tasks)}


def test_a_crash_is_blamed_on_the_step_that_crashed() -> None:
    # A finished step's message may still sit in the pipe when the crash is noticed.
    tasks = [Task(f"f{i}", None, ["ok", "die", "ok2"]) for i in range(30)]
    got = _run(tasks)
    assert len(got) == 90
    for i in range(30):
        assert got[(f"f{i}", "ok")] == "ok"
        assert got[(f"f{i}", "die")] == "crashed"
        assert got[(f"f{i}", "ok2")] == "ok"  # requeued on a fresh worker


def test_a_hang_is_a_timeout_and_the_rest_still_runs() -> None:
    tasks = [Task("slow", None, ["ok", "hang", "ok2"]), Task("fine", None, ["ok", "ok2"])]
    got = _run(tasks, limit=1.0)
    assert got == {
        ("slow", "ok"): "ok",
        ("slow", "hang"): "timeout",
        ("slow", "ok2"): "ok",
        ("fine", "ok"): "ok",
        ("fine", "ok2"): "ok",
    }
