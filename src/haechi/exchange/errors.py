"""Refusals of the exchange: one sentence, and the HTTP status a partner receives."""

from __future__ import annotations

from haechi.domain import HaechiError


class ExchangeError(HaechiError):
    """Something a partner or an operator must fix; ``status`` is what the API answers."""

    status = 400


class Unauthorized(ExchangeError):
    """No token, a wrong one, or a revoked one (HTTP 401)."""

    status = 401


class OutOfScope(ExchangeError):
    """A partner asked for banks, labels or hash kinds it was not given (HTTP 403)."""

    status = 403


class PageRefused(ExchangeError):
    """A page that fails its signature, its place in the sequence, its size or its
    content: nothing of it is imported."""

    exit_code = 1
