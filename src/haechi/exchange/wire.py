"""Fetching one page from a haechi publisher over HTTP(S), and checking it.

Standard library only (``urllib``), so the python-threatexchange extension runs wherever
``haechi`` is installed. The answer is read up to the envelope limit and no further (a
huge page is refused before it is parsed); a refusal from the server (401, 403, 400)
comes back as its one sentence.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haechi.exchange.envelope import MAX_ENVELOPE_BYTES, open_envelope, payload_digest
from haechi.exchange.errors import ExchangeError, PageRefused
from haechi.exchange.page import Page, validate
from haechi.i18n import t_

PATH = "/api/exchange/v1/changes"
TIMEOUT = 120.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the token would travel with it, possibly to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise ExchangeError(
            t_(
                "The partner's server redirects to {newurl} (HTTP {code}); "
                "haechi does not follow redirects, the token would go with "
                "them: fix the subscription's address.",
                newurl=str(newurl)[:200],
                code=code,
            )
        )


_OPENER = urllib.request.build_opener(_NoRedirects)


def changes_url(base: str, after: str | None, limit: int | None, kinds: Sequence[str]) -> str:
    parsed = urllib.parse.urlparse(base)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ExchangeError(
            t_("{base!r} is not an http(s) address of a haechi server.", base=base[:200])
        )
    query: dict[str, str] = {}
    if after:
        query["after"] = after
    if limit:
        query["limit"] = str(limit)
    if kinds:
        query["kinds"] = ",".join(kinds)
    tail = f"?{urllib.parse.urlencode(query)}" if query else ""
    return base.rstrip("/") + PATH + tail


def get_envelope(url: str, token: str, *, timeout: float = TIMEOUT) -> bytes:
    """The raw answer of a publisher (at most the envelope limit), or its refusal. Redirects
    are refused, not followed."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            raw: bytes = resp.read(MAX_ENVELOPE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        detail = _detail(exc.read(4096))
        raise ExchangeError(
            t_(
                "The partner refused the fetch (HTTP {code}): {detail}",
                code=exc.code,
                detail=detail,
            )
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ExchangeError(
            t_(
                "Cannot reach the partner at {url}: {reason}.",
                url=url.split("?")[0],
                reason=reason,
            )
        ) from None
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise PageRefused(
            t_(
                "The partner sent more than {max_envelope_bytes:,} bytes for "
                "one page (a huge page); nothing was imported.",
                max_envelope_bytes=MAX_ENVELOPE_BYTES,
            )
        )
    return raw


def _detail(raw: bytes) -> str:
    try:
        detail = json.loads(raw).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail)[:300] if isinstance(detail, str) else "no reason given."


def read_page(
    raw: bytes, public: Ed25519PublicKey, *, token: str, after: str | None, position: int
) -> Page:
    """A verified, checked page (signature, canonical form, audience, place, content)."""
    payload = open_envelope(raw, public)
    return validate(payload, token=token, after=after, position=position,
                    digest=payload_digest(raw))  # fmt: skip


def fetch_page(
    base: str,
    token: str,
    public: Ed25519PublicKey,
    *,
    after: str | None,
    position: int,
    limit: int | None = None,
    kinds: Sequence[str] = (),
) -> tuple[Page, bytes]:
    raw = get_envelope(changes_url(base, after, limit, kinds), token)
    return read_page(raw, public, token=token, after=after, position=position), raw
