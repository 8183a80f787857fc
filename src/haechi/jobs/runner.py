"""The runner: a thread started with the web server that starts a worker process for each
queued job (at most ``concurrency`` at once), watches it, and cleans up after runs that
ended badly.

* State is in the database, so any number of runners (server workers, hosts) share the
  queue: a worker process claims its job with a conditional UPDATE, and a loser exits.
* A job whose process died (killed, crashed, out of memory) is marked failed with a
  sentence as soon as its runner sees the process gone. A job whose runner died with it
  (the server stopped) has no heartbeat any more: on start, and every ``REAP_EVERY``
  seconds, runners mark such jobs failed (``store.INTERRUPTED``). A worker process that
  outlives its server keeps beating and finishes its job normally.
* A job that runs past its kind's time limit is stopped and marked failed.
* Result files past their time are removed (the job row and the custody events stay).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from haechi.app import App
from haechi.jobs import once, results, store
from haechi.jobs.kinds import kind_of

log = logging.getLogger("haechi.jobs")
POLL_SECONDS = 1.0
REAP_EVERY = 15.0
EXPIRE_EVERY = 3600.0
QUICK_LOOKAHEAD = 50  # queued jobs read to find a quick one behind long ones

_runners: list[JobRunner] = []
_lock = threading.Lock()


def wake() -> None:
    """Tell this process's runners that a job was queued (others poll)."""
    with _lock:
        for runner in _runners:
            runner.event.set()


@dataclass
class _Active:
    job_id: int
    process: subprocess.Popen[bytes]
    started: float
    limit: float
    quick: bool = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    def __init__(self, app: App, *, concurrency: int = 1, poll: float = POLL_SECONDS) -> None:
        self.app = app
        self.concurrency = max(1, concurrency)
        self.poll = poll
        self.event = threading.Event()
        self._stop = threading.Event()
        self._active: dict[int, _Active] = {}
        self._thread: threading.Thread | None = None
        self._reaped = 0.0
        self._expired = 0.0

    # -- life --------------------------------------------------------------------------
    def start(self) -> None:
        with _lock:
            _runners.append(self)
        self._thread = threading.Thread(target=self._loop, name="haechi-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching. Worker processes still running go on and finish their jobs (they
        keep their own heartbeat); nothing is killed on a normal shutdown."""
        self._stop.set()
        self.event.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        with _lock:
            if self in _runners:
                _runners.remove(self)

    def _loop(self) -> None:
        try:
            self.recover()
        except Exception:
            log.warning("jobs: could not check for interrupted jobs", exc_info=True)
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.warning("jobs: runner tick failed", exc_info=True)
            self.event.wait(self.poll)
            self.event.clear()

    # -- work --------------------------------------------------------------------------
    def recover(self) -> int:
        """Fail the running jobs whose process is gone: on this host, a worker whose pid
        no longer exists; anywhere, a job whose heartbeat stopped. Returns how many."""
        host = socket.gethostname()[:60]
        failed = 0
        for job_id, runner in store.running_on(self.app, f"{host}:"):
            pid_text = runner.split(":")[1] if runner.count(":") >= 1 else ""
            if pid_text.isdigit() and not _alive(int(pid_text)):
                failed += store.fail(self.app, job_id, store.INTERRUPTED, runner=runner)
        for job_id, owner in store.stale(self.app):
            failed += store.fail(self.app, job_id, store.INTERRUPTED, runner=owner)
        self._reaped = time.monotonic()
        return failed

    def tick(self) -> None:
        self._watch()
        now = time.monotonic()
        if now - self._reaped > REAP_EVERY:
            self.recover()
        if now - self._expired > EXPIRE_EVERY:
            self._expire()
        # Up to ``concurrency`` jobs of any kind, plus one quick job beyond them, looked
        # for among the oldest queued (a quick one may be queued behind long ones).
        for job_id in store.queued_ids(self.app, limit=self.concurrency + QUICK_LOOKAHEAD):
            running = len(self._active)
            quick_running = sum(1 for a in self._active.values() if a.quick)
            if running >= self.concurrency and quick_running >= 1:
                break
            if job_id not in self._active:
                self._spawn(job_id, room=running < self.concurrency)

    def _spawn(self, job_id: int, *, room: bool = True) -> None:
        """Start ``job_id``'s worker; without ``room`` only a quick kind starts."""
        try:
            kind = kind_of(store.get(self.app, job_id).kind)
        except Exception as exc:
            store.fail(self.app, job_id, str(exc))
            return
        if not room and not kind.quick:
            return
        limit = kind.time_limit
        home = str(self.app.settings.home.resolve())
        cmd = [sys.executable, "-m", "haechi.jobs.worker", "--home", home, "--job", str(job_id)]
        # A session of its own: Ctrl-C on the server's terminal stops the server, not the
        # job, which goes on beating and finishes (the next server finds it done).
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        self._active[job_id] = _Active(job_id, process, time.monotonic(), limit, kind.quick)

    def _watch(self) -> None:
        for job_id, run in list(self._active.items()):
            code = run.process.poll()
            if code is None:
                if time.monotonic() - run.started > run.limit:
                    run.process.kill()
                    run.process.wait(timeout=30)
                    minutes = int(run.limit // 60)
                    store.fail(
                        self.app,
                        job_id,
                        f"The job ran longer than its limit of {minutes} minutes and was stopped",
                    )
                    results.remove(self.app, job_id)
                    del self._active[job_id]
                continue
            del self._active[job_id]
            self._after(job_id, code, run.process.pid)

    def _after(self, job_id: int, code: int, pid: int) -> None:
        """The worker process ended: a job it left queued or running failed."""
        info = store.get(self.app, job_id)
        if info.finished:
            return
        host = socket.gethostname()[:60]
        if info.state == "running":
            why = f"signal {-code}" if code < 0 else f"exit status {code}"
            done = store.fail(
                self.app,
                job_id,
                f"The job's process stopped unexpectedly ({why}) before it finished",
                runner=f"{host}:{pid}",
            )
            if done:
                results.remove(self.app, job_id)
        elif code != 0:
            store.fail(self.app, job_id, f"The job could not be started (exit status {code})")

    def _expire(self) -> None:
        self._expired = time.monotonic()
        for job_id, _stored in store.expired(self.app):
            results.remove(self.app, job_id)
            store.forget_file(self.app, job_id)
        once.forget_old(self.app)
        from haechi.subjects import staging

        staging.sweep(self.app)  # enrolments no job took (photos, sealed)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Until no job is queued or running here (tests, ``make demo``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._active and not store.queued_ids(self.app, limit=1):
                return True
            self.event.set()
            time.sleep(0.1)
        return False


def stop_all() -> None:
    with _lock:
        runners = list(_runners)
    for runner in runners:
        with contextlib.suppress(Exception):
            runner.stop()
