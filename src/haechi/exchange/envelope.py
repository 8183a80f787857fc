"""Signed envelopes: what travels between a publisher and its partners.

An envelope is canonical JSON (sorted keys, no spaces, UTF-8, as the custody log's bodies)
holding the *payload* as a string, the publisher's key id and an Ed25519 signature over
the payload's bytes. The receiver checks the signature on the exact bytes it received,
then that the payload is itself canonical JSON (so one page has exactly one signed form),
and only then parses it. Anyone holding the publisher's public key can check a stored
envelope offline, years later.

Imported by the python-threatexchange extension too: it needs ``cryptography`` and the
standard library only (plus the canonical form of :mod:`haechi.store.custody`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haechi.domain import UsageError
from haechi.exchange.errors import PageRefused
from haechi.i18n import t_
from haechi.store.custody import canonical
from haechi.store.keys import Signer, key_id

ENVELOPE = "haechi-exchange-envelope/1"
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024  # a page is refused, unread, beyond this
MAX_PEM = 64 * 1024


def load_public_key(pem: bytes, what: str = t_("The partner's public key")) -> Ed25519PublicKey:
    """A partner's Ed25519 public key from PEM, or a sentence saying what it is instead."""
    try:
        key = serialization.load_pem_public_key(pem[:MAX_PEM])
    except (ValueError, TypeError):
        raise UsageError(t_("{what} is not a PEM public key.", what=what)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(t_("{what} is not an Ed25519 key (haechi signs with Ed25519).", what=what))
    return key


def seal(signer: Signer, payload: dict[str, Any]) -> bytes:
    """The envelope of ``payload``, signed with the data directory's key."""
    body = canonical(payload)
    return canonical(
        {
            "format": ENVELOPE,
            "key_id": signer.key_id,
            "payload": body.decode(),
            "signature": signer.sign(body),
        }
    )


def payload_digest(envelope: bytes) -> str:
    """SHA-256 of the signed payload bytes: what custody events and audit entries cite."""
    return hashlib.sha256(_parse(envelope)["payload"].encode()).hexdigest()


def _parse(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise PageRefused(
            t_(
                "The page is {n_raw:,} bytes, more than the "
                "{max_envelope_bytes:,} accepted; nothing was imported.",
                n_raw=len(raw),
                max_envelope_bytes=MAX_ENVELOPE_BYTES,
            )
        )
    try:
        env = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PageRefused(t_("The partner's answer is not JSON; nothing was imported.")) from None
    fields = {"format", "key_id", "payload", "signature"}
    if not isinstance(env, dict) or set(env) != fields:
        raise PageRefused(
            t_("The partner's answer is not a signed haechi page; nothing was imported.")
        )
    if env["format"] != ENVELOPE:
        raise PageRefused(
            t_(
                "The page is in format {got!r}, not {envelope!r}; nothing was imported.",
                got=str(env["format"])[:60],
                envelope=ENVELOPE,
            )
        )
    if not all(isinstance(env[f], str) for f in fields):
        raise PageRefused(
            t_("The page's envelope has a field that is not text; nothing was imported.")
        )
    return env


def open_envelope(raw: bytes, public: Ed25519PublicKey) -> dict[str, Any]:
    """The verified payload of an envelope signed by ``public``, or :class:`PageRefused`."""
    env = _parse(raw)
    expected = key_id(public)
    if env["key_id"] != expected:
        raise PageRefused(
            t_(
                "The page is signed by key {got!r}, not by the partner's key "
                "{expected}; nothing was imported.",
                got=env["key_id"][:32],
                expected=expected,
            )
        )
    body = env["payload"].encode()
    try:
        public.verify(base64.b64decode(env["signature"], validate=True), body)
    except (InvalidSignature, ValueError, binascii.Error):
        raise PageRefused(
            t_(
                "The page's signature does not match its content (altered or "
                "forged); nothing was imported."
            )
        ) from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise PageRefused(t_("The signed payload is not JSON; nothing was imported.")) from None
    if not isinstance(payload, dict) or canonical(payload) != body:
        raise PageRefused(
            t_(
                "The signed payload is not canonical JSON (one page, one "
                "signed form); nothing was imported."
            )
        )
    return payload
