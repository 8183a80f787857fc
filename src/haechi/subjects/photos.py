"""Reference photos kept with consent: encrypted, outside the evidence vault, deletable.

The vault never deletes (it holds evidence); a subject's own photos are not evidence and
must go when she withdraws. So they live in ``HOME/subjects/photos/<random name>``,
sealed with AES-256-GCM (the vault's streaming format, :mod:`haechi.store.vaultcrypto`)
under a key of their own (``keys/subjects.key``, 0600), whatever the vault's own
encryption setting. A file's name is random: it does not reveal the photo's hash.
Deleting a photo unlinks the file; the key stays for the other subjects' photos.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
from pathlib import Path

from haechi.app import App
from haechi.store import vaultcrypto


def _folder(app: App) -> Path:
    return app.settings.home / "subjects" / "photos"


def subjects_key(app: App) -> bytes:
    """The subjects' own key (made on first use): kept photos and waiting enrolments."""
    path = app.settings.keys_dir / "subjects.key"
    if not path.exists():
        vaultcrypto.save_key(path, vaultcrypto.generate_key())
    return vaultcrypto.load_key(path)


def store_photo(app: App, data: bytes) -> tuple[str, str]:
    """Encrypt and store ``data``; returns (stored name, SHA-256 of the plaintext)."""
    folder = _folder(app)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    tmp = folder / f".{name}.tmp"
    with open(tmp, "xb") as fh:
        vaultcrypto.encrypt_stream(io.BytesIO(data), fh, subjects_key(app))
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, folder / name)
    return name, hashlib.sha256(data).hexdigest()


def read_photo(app: App, stored_name: str) -> bytes:
    path = _photo_path(app, stored_name)
    out = io.BytesIO()
    with open(path, "rb") as fh:
        vaultcrypto.decrypt_stream(fh, out, subjects_key(app), name="The subject photo")
    return out.getvalue()


def delete_photo(app: App, stored_name: str) -> bool:
    path = _photo_path(app, stored_name)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        return True
    return False


def _photo_path(app: App, stored_name: str) -> Path:
    if len(stored_name) != 32 or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError(f"{stored_name!r} is not a stored photo name")
    return _folder(app) / stored_name
