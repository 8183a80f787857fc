"""Health and metrics for operations: ``/healthz`` and ``/metrics`` (Prometheus).

Both are answered here, in an ASGI middleware in front of the application, never by a
route: they need no session, and no route is open without one (``web.auth.PUBLIC``).

* ``/healthz`` answers ``{"status": "ok"}`` (200) when the database answers, else
  ``{"status": "unavailable"}`` (503). It holds no data, so it is open to any caller (a
  load balancer, systemd, a monitoring probe).
* ``/metrics`` is the Prometheus text format, for callers on the loopback or in
  ``[metrics] networks`` of ``web.toml`` (the client address as ``web.auth.client_ip``
  sees it, so a forged X-Forwarded-For does not pass), or with
  ``Authorization: Bearer <token>`` whose SHA-256 is ``[metrics] token_sha256``.
  Everyone else gets 404. It reports counts, never content: web latency histograms per
  route (``haechi_http_request_duration_seconds``), what is stored (messages, files,
  bytes, sources by state: the ingest counters), the analysis queue (steps pending per
  analyzer), background jobs by state and the custody log's length.

Several server processes (``haechi serve --workers N``) each observe their own requests;
``haechi serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at ``HOME/run/metrics`` so that any
one of them reports the sum (prometheus_client's multiprocess mode). The database figures
are read at scrape time (cached for :data:`DB_SECONDS`), so every process reports the same.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from haechi.app import App

DB_SECONDS = 30.0
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _prometheus() -> Any:
    import prometheus_client

    return prometheus_client


class _Metrics:
    """The latency histogram of this process and the database collector."""

    def __init__(self, app: App) -> None:
        prom = _prometheus()
        self.app = app
        self.registry = prom.CollectorRegistry(auto_describe=True)
        self.latency = prom.Histogram(
            "haechi_http_request_duration_seconds",
            "Time from a request's arrival to its response's end, by route.",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._db: tuple[float, list[Any]] = (0.0, [])
        self._lock = threading.Lock()

    def exposition(self) -> bytes:
        prom = _prometheus()
        import os

        registry = prom.CollectorRegistry(auto_describe=True)
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            registry.register(_Own(self.registry))
        registry.register(_Database(self))
        data: bytes = prom.generate_latest(registry)
        return data

    def database_families(self) -> list[Any]:
        with self._lock:
            at, families = self._db
            if time.monotonic() - at < DB_SECONDS and families:
                return families
            families = database_families(self.app)
            self._db = (time.monotonic(), families)
            return families


class _Own:
    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Any:
        return self.registry.collect()


class _Database:
    def __init__(self, metrics: _Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        return iter(self.metrics.database_families())


def database_families(app: App) -> list[Any]:
    """What the database says, as metric families (counts only, never content)."""
    from prometheus_client.core import GaugeMetricFamily
    from sqlalchemy import func, select

    from haechi.store.models import Blob, CustodyEvent, Message, Source
    from haechi.store.tables.jobs import Job

    out: list[Any] = []
    up = GaugeMetricFamily("haechi_database_up", "1 when the database answered this scrape.")
    try:
        with app.db.connect() as conn:
            messages = conn.execute(select(func.max(Message.id))).scalar() or 0
            files, size = conn.execute(select(func.count(), func.sum(Blob.size))).one()
            events = conn.execute(select(func.max(CustodyEvent.seq))).scalar() or 0
            sources = conn.execute(select(Source.status, func.count()).group_by(Source.status))
            source_rows = sources.all()
            jobs = conn.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    except Exception:  # the scrape says so rather than failing
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    out.append(up)
    for name, doc, value in (
        ("haechi_messages_stored", "Messages stored (highest message row id).", messages),
        ("haechi_files_stored", "Files in the vault.", files),
        ("haechi_bytes_stored", "Bytes of the files in the vault.", size or 0),
        ("haechi_custody_events", "Events in the signed custody log.", events),
    ):
        family = GaugeMetricFamily(name, doc)
        family.add_metric([], float(value))
        out.append(family)
    by_state = GaugeMetricFamily(
        "haechi_sources", "Ingest sources by state (started, finished, failed).", labels=["state"]
    )
    for state, n in source_rows:
        by_state.add_metric([str(state)], float(n))
    out.append(by_state)
    job_family = GaugeMetricFamily("haechi_jobs", "Background jobs by state.", labels=["state"])
    for state, n in jobs:
        job_family.add_metric([str(state)], float(n))
    out.append(job_family)
    out.append(_pending(app))
    return out


def _pending(app: App) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    from haechi.analyze.registry import build
    from haechi.run.analysis_store import count_pending

    family = GaugeMetricFamily(
        "haechi_analysis_pending_steps",
        "Analysis steps (file, analyzer) not yet run at the analyzer's version: the queue.",
        labels=["analyzer"],
    )
    try:
        analyzers, _ = build(app.settings.analyzers)
    except Exception:  # a settings error is haechi analyze's to report
        return family
    for analyzer in analyzers:
        family.add_metric([analyzer.name], float(count_pending(app, [analyzer], False)))
    return family


class Monitoring:
    """The ASGI middleware: answers the two paths, times every other request."""

    def __init__(self, app: ASGIApp, haechi_app: App) -> None:
        self.app = app
        self.haechi = haechi_app
        self.metrics = _Metrics(haechi_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == "/healthz":
            await self._health(send)
            return
        if path == "/metrics":
            await self._metrics(scope, send)
            return
        started = time.perf_counter()
        status = [500]

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if path.startswith("/static/") else "other"
            )
            self.metrics.latency.labels(
                template, scope.get("method", ""), f"{status[0] // 100}xx"
            ).observe(time.perf_counter() - started)

    async def _health(self, send: Send) -> None:
        ok = await run_in_threadpool(self._database_answers)
        body = json.dumps({"status": "ok" if ok else "unavailable"}).encode()
        await _respond(send, 200 if ok else 503, body, b"application/json")

    def _database_answers(self) -> bool:
        from sqlalchemy import text

        try:
            with self.haechi.db.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def _metrics(self, scope: Scope, send: Send) -> None:
        if not allowed(Request(scope)):
            await _respond(send, 404, b"Not Found", b"text/plain")
            return
        data = await run_in_threadpool(self.metrics.exposition)
        await _respond(send, 200, data, b"text/plain; version=0.0.4; charset=utf-8")


def allowed(request: Request) -> bool:
    """A metrics caller: loopback, a configured network, or the configured token."""
    from haechi.web.auth import client_ip

    settings = request.app.state.web
    digest = settings.metrics_token_sha256
    header = request.headers.get("authorization", "")
    if digest and header.lower().startswith("bearer "):
        given = hashlib.sha256(header[7:].strip().encode()).hexdigest()
        if hmac.compare_digest(given, digest):
            return True
    client = client_ip(request)
    peer = request.client.host if request.client else ""
    if client == peer and ("x-forwarded-for" in request.headers or "forwarded" in request.headers):
        return False  # through a proxy haechi does not trust: the peer says nothing
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_networks]
    return address.is_loopback or any(address in net for net in networks)


async def _respond(send: Send, status: int, body: bytes, ctype: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
