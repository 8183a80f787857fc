"""Reveal grants: a short-lived signed permission to stream one original to one session.

Revealing is the logged act (``services.media.reveal``); the grant only lets the browser
fetch the bytes afterwards (an ``<img>`` or ``<video>`` cannot send a CSRF header). It names
the session and the file and expires after ``TTL`` seconds, so a copied link is useless.
"""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

TTL = 15 * 60


def _serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="haechi-reveal")


def issue(secret: bytes, owner: str, sha256: str) -> str:
    return _serializer(secret).dumps([owner, sha256])


def check(secret: bytes, token: str, owner: str, sha256: str) -> bool:
    if not token or len(token) > 512:
        return False
    try:
        data = _serializer(secret).loads(token, max_age=TTL)
    except BadSignature:
        return False
    return (
        isinstance(data, list)
        and len(data) == 2
        and hmac.compare_digest(str(data[0]), owner)
        and hmac.compare_digest(str(data[1]), sha256)
    )
