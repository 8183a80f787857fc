"""Reveal grants: a short-lived signed permission to stream one original to one session.

Revealing is the logged act (``services.media.reveal``); the grant only lets the browser
fetch the bytes afterwards (an ``<img>`` or ``<video>`` cannot send a CSRF header). It names
the session and the file and expires after ``TTL`` seconds, so a copied link is useless.
"""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

TTL = 15 * 60


def _serializer(secret: bytes, purpose: str) -> URLSafeTimedSerializer:
    # One salt per purpose: a grant for one thing (an original) never opens another (a
    # face-search candidate's face region).
    return URLSafeTimedSerializer(secret, salt=f"haechi-{purpose}")


def issue(
    secret: bytes,
    owner: str,
    sha256: str,
    *,
    purpose: str = "reveal",
    extra: tuple[object, ...] = (),
) -> str:
    return _serializer(secret, purpose).dumps([owner, sha256, *extra])


def check(
    secret: bytes, token: str, owner: str, sha256: str, *, purpose: str = "reveal",
    extra: tuple[object, ...] = (), ttl: int = TTL,
) -> bool:  # fmt: skip
    if not token or len(token) > 512:
        return False
    try:
        data = _serializer(secret, purpose).loads(token, max_age=ttl)
    except BadSignature:
        return False
    want = [owner, sha256, *extra]
    return (
        isinstance(data, list)
        and len(data) == len(want)
        and all(hmac.compare_digest(str(a), str(b)) for a, b in zip(data, want, strict=True))
    )
