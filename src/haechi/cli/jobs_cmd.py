"""``haechi jobs run``: the background-job runner as a service of its own.

``haechi serve`` runs a job runner in each server process by default. A deployment with
several web servers (or web servers on small machines) starts them with ``--no-jobs`` and
runs this instead, on the machine that should carry PDF rendering and packaging, as a
systemd unit (docs/deployment.md). Any number of runners share the queue in the database.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 78

jobs_app = typer.Typer(help=_("Background jobs (evidence packages, reports, scans)."))


@jobs_app.command(
    "run",
    help=_(
        "Run queued jobs until stopped (SIGTERM or Ctrl-C); a job "
        "already running goes on in its own process and finishes."
    ),
)
def run(
    home: HomeOption = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help=_("Jobs at once."))] = 2,
) -> None:
    """Run queued jobs until stopped (SIGTERM or Ctrl-C); a job already running goes on in
    its own process and finishes."""
    from haechi.jobs.runner import JobRunner

    app = open_app(home)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_args: stop.set())
    runner = JobRunner(app, concurrency=concurrency)
    runner.start()
    out.print(_("haechi jobs: running up to {n} at once (Ctrl-C to stop)").format(n=concurrency))
    try:
        stop.wait()
    finally:
        runner.stop()
        app.close()
        err.print(_("haechi jobs stopped."))


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
