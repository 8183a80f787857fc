"""One job in its own process: ``python -m haechi.jobs.worker --home HOME --job ID``.

The runner (in the server) starts this for a queued job. The process claims the job under
its own name (``host:pid``), keeps its heartbeat while it works, runs the kind's code as
the person who asked (their name on every custody event), keeps the result file and marks
the job done, or failed with one sentence. A process of its own because the work is long
and heavy (PDF rendering, hashing gigabytes) and must not slow the pages, and a crash or a
hang in a decoder ends this process only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
from pathlib import Path

from haechi.app import App, open_app
from haechi.cases.acting import acting_as
from haechi.cases.visibility import for_actor
from haechi.domain import HaechiError
from haechi.jobs import results, store
from haechi.jobs.kinds import kind_of
from haechi.jobs.model import JobContext

log = logging.getLogger("haechi.jobs")
BEAT_SECONDS = 10.0
PROGRESS_EVERY = 0.5  # seconds between progress writes
BACKGROUND_NICE = 10


class _Heart:
    """Beats every ``BEAT_SECONDS`` until stopped or until the kind's time limit, after
    which the runner (or any other) will find the job stale."""

    def __init__(self, app: App, job_id: int, runner: str, limit: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(app, job_id, runner, time.monotonic() + limit), daemon=True
        )
        self._thread.start()

    def _run(self, app: App, job_id: int, runner: str, deadline: float) -> None:
        while not self._stop.wait(BEAT_SECONDS) and time.monotonic() < deadline:
            try:
                if not store.beat(app, job_id, runner):
                    return
            except Exception:
                log.warning("job %s: heartbeat not written", job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def run_job(app: App, job_id: int, runner: str | None = None) -> bool:
    """Claim and run one queued job; False when it was not queued (another runner took it).
    Failures are recorded on the job, never raised."""
    runner = runner or store.runner_name()
    if not store.claim(app, job_id, runner):
        return False
    try:
        info = store.get(app, job_id)
        spec = kind_of(info.kind)
        actor = store.actor_of(app, job_id)
    except Exception as exc:
        store.fail(app, job_id, f"The job cannot run: {exc}", runner=runner)
        return True
    heart = _Heart(app, job_id, runner, spec.time_limit)
    last = [0.0]

    def progress(fraction: float, note: str | None = None) -> None:
        t = time.monotonic()
        if t - last[0] < PROGRESS_EVERY and fraction < 1.0:
            return
        last[0] = t
        store.set_progress(app, job_id, runner, fraction, note)

    try:
        folder = results.folder_for(app, job_id)
        context = JobContext(
            app=acting_as(for_actor(app, actor), actor.custody_name),  # their unit's cases
            actor=actor,
            job_id=job_id,
            params=info.params,
            folder=folder,
            progress=progress,
        )
        output = spec.run(context)
        file = None
        if output.path is not None:
            stored, sha, size, sealed = results.keep(app, job_id, output.path)
            file = (stored, output.name or output.path.name, sha, size, sealed)
        expires = store.now() + results.RETENTION if file else None
        if not store.finish(
            app, job_id, runner, summary=output.summary, file=file, expires_at=expires
        ):
            results.remove(app, job_id)  # given up on meanwhile: leave nothing behind
    except HaechiError as exc:
        results.remove(app, job_id)
        store.fail(app, job_id, str(exc), runner=runner)
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, info.kind)
        results.remove(app, job_id)
        store.fail(
            app,
            job_id,
            f"The job failed unexpectedly ({type(exc).__name__}: {exc}); the server log has "
            "the details",
            runner=runner,
        )
    finally:
        heart.stop()
    return True


def _lower_priority(app: App, job_id: int) -> None:
    """Pages first: a long job's process yields the cores to the web workers (nice 10); a
    quick one, which someone waits for on its page, keeps the server's priority.

    The worker is a session of its own, and with Linux's autogroup scheduling (the
    default on desktop and many server kernels) a session's processes share the CPU with
    other sessions as one group whatever their nice value: a process's nice only ranks it
    within its group. So the group's nice (``/proc/self/autogroup``) is set too."""
    try:
        if kind_of(store.get(app, job_id).kind).quick:
            return
        os.nice(BACKGROUND_NICE)
    except (HaechiError, OSError):
        return  # an unknown job is failed by run_job; a refused nice changes nothing
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(f"{BACKGROUND_NICE}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="haechi.jobs.worker")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--job", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="haechi job: %(message)s")
    app = open_app(args.home)
    try:
        _lower_priority(app, args.job)
        run_job(app, args.job)
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
