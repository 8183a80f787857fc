"""Ed25519 signing keys for the custody log.

The private key never leaves the data directory (mode 0600). The public key is exported
beside it and inside every evidence package, so anyone can check the log's signatures
without haechi and without the private key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haechi.domain import DataDirError
from haechi.i18n import t_


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key: short, stable, checkable."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode("ascii")


@dataclass(frozen=True)
class Verifier:
    """Public keys trusted for verification, by key id."""

    keys: dict[str, Ed25519PublicKey]

    def verify(self, kid: str | None, signature: str | None, data: bytes) -> str | None:
        """None when valid, else a short reason."""
        if not signature or not kid:
            return "unsigned"
        public = self.keys.get(kid)
        if public is None:
            return f"signed by unknown key {kid}"
        try:
            public.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return "signature does not match (forged or altered)"
        return None


def generate_keypair(private_path: Path, public_path: Path) -> Signer:
    """Create a new key pair; refuses to overwrite an existing private key."""
    if private_path.exists():
        raise DataDirError(
            t_(
                "A signing key already exists at {private_path}; it is never replaced.",
                private_path=private_path,
            )
        )
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    public_path.write_bytes(public_pem(private.public_key()))
    return Signer(private)


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signer(path: Path) -> Signer:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataDirError(
            t_(
                "No custody signing key at {path}: run `haechi init` for this data directory.",
                path=path,
            )
        ) from None
    except PermissionError:
        raise DataDirError(
            t_("The signing key {path} cannot be read: permission denied.", path=path)
        ) from None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DataDirError(t_("{path} is not an Ed25519 private key.", path=path))
    return Signer(key)


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise DataDirError(t_("No public key at {path}.", path=path)) from None
    except ValueError:
        raise DataDirError(t_("{path} is not a PEM public key.", path=path)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise DataDirError(t_("{path} is not an Ed25519 public key.", path=path))
    return key


def load_verifier(paths: list[Path]) -> Verifier:
    keys = {}
    for path in paths:
        public = load_public(path)
        keys[key_id(public)] = public
    return Verifier(keys)


RETIRED = "retired"  # keys/retired/<key id>.pub.pem: keys that signed before a rotation


def retired_public_keys(keys_dir: Path) -> list[Path]:
    """The public keys retired by ``haechi keys rotate``, still trusted for the events
    they signed before their rotation (:func:`haechi.store.custody.verify_chain` refuses
    a retired key's signature on any later event)."""
    folder = keys_dir / RETIRED
    return sorted(folder.glob("*.pub.pem")) if folder.is_dir() else []
