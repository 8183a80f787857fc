"""The FastAPI application factory: ``create_app(app, settings)``."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from haechi import __version__
from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.domain import HaechiError
from haechi.services import search_index
from haechi.web import views
from haechi.web.auth import Denied, MustChangePassword, NeedLogin, authenticate
from haechi.web.monitoring import Monitoring
from haechi.web.rebalance import Rebalance
from haechi.web.render import refusal, render
from haechi.web.security import BodyLimit, SecurityHeaders
from haechi.web.settings import WebSettings

SECRET_FILE = "web_secret"  # noqa: S105 - not a secret
REBALANCE_BUSY = 2  # requests at once in one worker beyond which it sheds connections
OUT_OF_RANGE = "A number in the request is out of range: there is no such item."


def _encodable(value: Any) -> Any:
    """``value`` (a validation error's parts) with every string made encodable as UTF-8: a
    JSON body may carry an escaped lone surrogate (``"\\udc80"``), which Python reads into a
    string no response can encode; the refusal names it as ``\\udc80`` instead of failing."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def web_secret(app: App) -> bytes:
    """The key that signs login-form tokens and reveal grants (``HOME/keys/web_secret``)."""
    path: Path = app.settings.keys_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    return path.read_bytes()


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error(request: Request, status: int, key: str, message: str | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message or key}, status_code=status)
    return render(
        request, "error.html", status=status, error_key=key, message=message, exposure=None
    )


def _refusal(request: Request, exc: BaseException) -> str:
    # The JSON API answers in English, as before (clients match on it); pages in the
    # reader's language.
    return str(exc) if _wants_json(request) else refusal(request, exc)


def create_app(app: App, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    search_index.install(app)

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        # Background jobs run beside the server: a runner thread per server process
        # starts a worker process per job (haechi.jobs.runner).
        from haechi.jobs.runner import JobRunner
        from haechi.web.render import preload_templates

        preload_templates()
        runner = JobRunner(app, concurrency=settings.job_concurrency) if settings.run_jobs else None
        if runner is not None:
            runner.start()
        api.state.jobs = runner
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    api = FastAPI(
        title="haechi",
        version=__version__,
        description="Evidence archive of Telegram material: the investigators' REST API.",
        docs_url=None,  # Swagger UI would load scripts from a CDN
        redoc_url=None,
        openapi_url=None,  # served by a guarded route in views/api.py
        dependencies=[Depends(authenticate)],
        lifespan=lifespan,
    )
    api.state.haechi = app
    api.state.web = settings
    api.state.secret = web_secret(app)

    @api.exception_handler(NeedLogin)
    async def _need_login(request: Request, _exc: NeedLogin) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "Log in or send an API token (Authorization: Bearer ...)."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/logout"):
            from urllib.parse import quote

            target += "?next=" + quote(request.url.path)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @api.exception_handler(MustChangePassword)
    async def _must_change(request: Request, _exc: MustChangePassword) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "Choose a new password first (an administrator reset it)."},
                status_code=403,
            )
        if request.headers.get("hx-request"):
            return Response(status_code=403, headers={"HX-Redirect": "/me/password"})
        return RedirectResponse("/me/password", status_code=303)

    @api.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        return _error(request, 403, f"error.{exc.reason}")

    @api.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "error.not_found", _refusal(request, exc))

    @api.exception_handler(HaechiError)
    async def _haechi_error(request: Request, exc: HaechiError) -> Response:
        return _error(request, 400, "error.bad_request", _refusal(request, exc))

    @api.exception_handler(OverflowError)
    async def _overflow(request: Request, _exc: OverflowError) -> Response:
        # A number too large for a 64-bit column (SQLite raises this) names nothing stored.
        return _error(request, 404, "error.not_found", OUT_OF_RANGE)

    @api.exception_handler(DBAPIError)
    async def _db_refused(request: Request, exc: DBAPIError) -> Response:
        # PostgreSQL refuses an out-of-range or malformed value ("numeric value out of
        # range", "invalid input syntax"): the request named nothing that can exist.
        if getattr(exc.orig, "sqlstate", "") in ("22003", "22P02", "22021"):
            return _error(request, 404, "error.not_found", OUT_OF_RANGE)
        raise exc

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            detail = _encodable(jsonable_encoder(exc.errors()))
            return JSONResponse({"detail": detail}, status_code=422)
        return _error(request, 422, "error.bad_request")

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, "error.http", str(exc.detail))

    static = resources.files("haechi.web").joinpath("static")
    api.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in views.routers():
        # The HTML pages and their form posts are not an API: the schema lists /api only.
        api.include_router(router, include_in_schema=router.prefix.startswith("/api"))
    api.add_middleware(
        BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes
    )
    # /healthz and /metrics, and the latency of every request (haechi.web.monitoring).
    api.add_middleware(Monitoring, haechi_app=app)
    if settings.workers > 1:
        # A worker with more than its share of the users hands connections back
        # (haechi.web.rebalance): about two requests at once per worker keeps them apart.
        api.add_middleware(Rebalance, busy=REBALANCE_BUSY)
    api.add_middleware(SecurityHeaders)  # added last: outermost, so it times everything
    return api


def api_routes(api: FastAPI) -> list[APIRoute]:
    """Every endpoint of the application, through included routers (route tests use it)."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))

    walk(list(api.routes))
    return found
