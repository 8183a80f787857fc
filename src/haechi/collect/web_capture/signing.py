"""The WACZ's ``signedData``: the spec's anonymous ECDSA signature, and haechi's Ed25519.

The WACZ Signing spec's anonymous form is ECDSA: replay tools (ReplayWeb.page / wabac.js)
import ``publicKey`` as an ECDSA P-384 SPKI key and check ``signature`` (IEEE P1363 ``r||s``,
SHA-256) over the UTF-8 bytes of ``hash``; with an Ed25519 key there, wabac's key import
throws and the archive shows as unsigned. So ``signedData`` carries both:

- ``signature`` / ``publicKey``: ECDSA P-384 by the data directory's WACZ key
  (``keys/wacz_ecdsa_p384.pem``, made on first use; its public key is recorded in a signed
  ``web_capture_key`` custody event, which binds it to the custody key);
- ``ed25519Signature``, ``ed25519PublicKey``, ``custodyKeyId``: the custody key's own Ed25519
  signature over the same ``hash``: what ``haechi capture verify`` trusts. Flat strings,
  like the spec's own fields.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from haechi import __version__
from haechi.store.keys import Signer

KEY_NAME = "wacz_ecdsa_p384.pem"
KEY_EVENT = "web_capture_key"
_SIZE = 48  # bytes of r and of s on P-384


def _spki(public: Any) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public: Any) -> str:
    return hashlib.sha256(_spki(public)).hexdigest()


def load_or_create(keys_dir: Path) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    """The data directory's WACZ key; True when it was made now (to be recorded)."""
    path = keys_dir / KEY_NAME
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an ECDSA key")
        return key, False
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return key, True


def key_event_data(key: ec.EllipticCurvePrivateKey, signer: Signer) -> dict[str, Any]:
    public = key.public_key()
    return {
        "algorithm": "ECDSA P-384 SHA-256",
        "public_key": base64.b64encode(_spki(public)).decode("ascii"),
        "spki_sha256": fingerprint(public),
        "file": f"keys/{KEY_NAME}",
        "custody_key_id": signer.key_id,
    }


def sign(
    signer: Signer, wacz_key: ec.EllipticCurvePrivateKey, digest: str, created: str
) -> dict[str, Any]:
    der = wacz_key.sign(digest.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    p1363 = r.to_bytes(_SIZE, "big") + s.to_bytes(_SIZE, "big")
    return {
        "hash": digest,
        "created": created,
        "software": f"haechi {__version__}",
        "version": "0.1.0",
        "signature": base64.b64encode(p1363).decode("ascii"),
        "publicKey": base64.b64encode(_spki(wacz_key.public_key())).decode("ascii"),
        "ed25519Signature": signer.sign(digest.encode("utf-8")),
        "ed25519PublicKey": base64.b64encode(_spki(signer.public)).decode("ascii"),
        "custodyKeyId": signer.key_id,
    }


def check_ecdsa(signed: dict[str, Any]) -> tuple[bool, str]:
    """The spec's anonymous signature, as a replay tool checks it: (valid, ECDSA key print)."""
    try:
        public = serialization.load_der_public_key(
            base64.b64decode(signed["publicKey"], validate=True)
        )
        raw = base64.b64decode(signed["signature"], validate=True)
        if not isinstance(public, ec.EllipticCurvePublicKey) or len(raw) % 2:
            return False, ""
        half = len(raw) // 2
        der = encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )
        public.verify(der, signed["hash"].encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        return True, fingerprint(public)
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False, ""


def check_ed25519(signed: dict[str, Any]) -> Ed25519PublicKey | None:
    """The custody key's signature (``ed25519Signature``): its key when valid, else None."""
    try:
        der = base64.b64decode(signed["ed25519PublicKey"], validate=True)
        public = serialization.load_der_public_key(der)
        if not isinstance(public, Ed25519PublicKey):
            return None
        sig = base64.b64decode(signed["ed25519Signature"], validate=True)
        public.verify(sig, signed["hash"].encode("utf-8"))
        return public
    except (InvalidSignature, ValueError, KeyError, TypeError, AttributeError):
        return None
