"""ASGI middleware: strict security headers on every response, bounded request bodies.

The CSP allows no inline script or style and no foreign origin: every asset is ours and
served from ``/static``. Pages are never cached (evidence must not linger in a browser
cache); static assets may be, and the vendored libraries, whose file names carry their
version, are cached for a year as immutable.

Every response also says how long the application took to answer it
(``Server-Timing: app;dur=<ms>``, from the request's arrival here to the response's
headers), so a benchmark can tell the application's own time from queueing and the
client's (``bench/bench_web.py`` records both).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("haechi.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
VENDOR = "/static/vendor/"
# POST paths that take files (reference photos, a face search's probe photo): a larger body
# limit, and their bodies are read into memory by the view itself, never spooled to disk
# (see web.auth.check_csrf).
UPLOAD_PATHS = frozenset(
    {"/subjects/enrol", "/api/subjects", "/face-searches", "/api/face-searches"}
)
# ... and pictures or videos hashed into a bank (/banks/<name>/files and its API twin): one
# bank name segment exactly, anchored at both ends, so no other path takes the larger limit.
UPLOAD_PATTERN = re.compile(r"/(?:api/)?banks/[^/]+/files")


def is_upload(path: str) -> bool:
    """Whether a POST to ``path`` takes files: the upload body limit, the CSRF token only
    in the header, and the body read in memory by the view (``web.uploads.read_form``)."""
    return path in UPLOAD_PATHS or UPLOAD_PATTERN.fullmatch(path) is not None


IMMUTABLE = b"public, max-age=31536000, immutable"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        static = scope.get("path", "").startswith("/static/")
        vendor = scope.get("path", "").startswith(VENDOR)
        https = scope.get("scheme") == "https"

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in HEADERS}
                    and (static or k.lower() != b"cache-control")
                ]
                # An original's own (stricter) CSP, set by its route, wins.
                own_csp = [
                    v
                    for k, v in message.get("headers", [])
                    if k.lower() == b"content-security-policy"
                ]
                for name, value in HEADERS:
                    if name == b"content-security-policy" and own_csp:
                        headers.append((name, own_csp[0]))
                    else:
                        headers.append((name, value))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                    headers.append((b"pragma", b"no-cache"))
                elif vendor and message.get("status") == 200:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", IMMUTABLE))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                took = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message["headers"] = headers
                started_response.append(True)
            await send(message)

        started_response: list[bool] = []
        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            # Whatever escaped every handler: logged with a reference, and answered here
            # (inside this middleware, so with every header above), never as the server's
            # bare 500 page, which would carry none of them.
            reference = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", reference, scope.get("method"),
                          scope.get("path"))  # fmt: skip
            if started_response:
                raise
            body = (
                "Something went wrong on the server; nothing was changed by this request. "
                f"It was logged as {reference}: give that to an administrator."
            ).encode()
            await wrapped(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (413), declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if is_upload(scope.get("path", "")) else self.limit
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await _too_large(send)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b"Request too large."
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
