"""The custody key chain: what a ``key_rotation`` event proves, checked without haechi's
database (``verify_chain`` and the offline log check use it; the standalone package
verifier repeats it in its own file).

A rotation event is signed by the *old* key and names the new one (id and public key);
the new key counter-signs a statement bound to the chain position (the hash of the event
before the rotation), so each key vouches for the other::

    statement = canonical({"what": STATEMENT, "old_key_id", "new_key_id", "prev"})
    data.counter_signature = Ed25519_new(statement)
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haechi.store.keys import key_id

KEY_ROTATION = "key_rotation"
STATEMENT = "haechi custody key rotation"


def statement(old_key_id: str, new_key_id: str, prev: str) -> bytes:
    """What the new key signs: both ids and the chain position of the rotation."""
    doc = {"what": STATEMENT, "old_key_id": old_key_id, "new_key_id": new_key_id, "prev": prev}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def check_rotation(body: dict[str, Any]) -> tuple[str, str, Ed25519PublicKey | None, str | None]:
    """(old key id, new key id, new public key, problem) of a key_rotation event body:
    the new key's counter-signature over :func:`statement` must verify."""
    data = body.get("data") or {}
    old, new = str(data.get("old_key_id")), str(data.get("new_key_id"))
    try:
        public = serialization.load_pem_public_key(str(data["new_public_key"]).encode())
        if not isinstance(public, Ed25519PublicKey) or key_id(public) != new:
            return old, new, None, "its new public key does not match the new key id"
        sig = base64.b64decode(str(data["counter_signature"]), validate=True)
        public.verify(sig, statement(old, new, str(body.get("prev"))))
    except (KeyError, ValueError, TypeError, AttributeError, InvalidSignature):
        return old, new, None, "the new key's counter-signature does not verify"
    return old, new, public, None
