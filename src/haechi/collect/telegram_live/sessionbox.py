"""The Telegram session, sealed at rest under the data directory's key.

A Telethon session holds the account's authorisation key: whoever reads it *is* the
investigator's account. So it never touches the disk in plaintext. Telethon keeps it in
memory (:class:`telethon.sessions.StringSession`); haechi seals its string with AES-256-GCM
into ``HOME/keys/telegram.session.sealed`` (mode 0600, in the 0700 ``keys/`` folder).

The sealing key is derived (HKDF-SHA256, a fresh random salt per write, its own ``info``
label) from the data directory's custody signing key, which every data directory has and
which never leaves it: the session opens only with that data directory, and a copy of the
sealed file alone is useless. File layout::

    magic "HAECHI-TGS1" | salt 16 B | nonce 12 B | AES-GCM(ciphertext + tag)
    AAD = magic + salt; plaintext = JSON {session, session_id, account}
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from haechi.domain import DataDirError
from haechi.i18n import t_
from haechi.store.keys import Signer

MAGIC = b"HAECHI-TGS1"
_INFO = b"haechi telegram session v1"
SEALED_NAME = "telegram.session.sealed"
MAX_SEALED = 64 * 1024  # a session string is ~360 bytes; anything huge is not ours


@dataclass(frozen=True)
class SealedSession:
    session: str  # Telethon StringSession.save()
    session_id: str  # haechi's random id for this login (in custody events, never secret)
    account: dict[str, Any]  # tg_id, username, display_name


def session_path(keys_dir: Path) -> Path:
    return keys_dir / SEALED_NAME


def _key(signer: Signer, salt: bytes) -> bytes:
    seed = signer.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(SHA256(), 32, salt=salt, info=_INFO).derive(seed)


def seal(path: Path, signer: Signer, sealed: SealedSession) -> None:
    """Write the sealed session atomically (a new file, 0600, then rename over the old)."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    plain = json.dumps(
        {"session": sealed.session, "session_id": sealed.session_id, "account": sealed.account},
        sort_keys=True,
    ).encode("utf-8")
    blob = MAGIC + salt + nonce + AESGCM(_key(signer, salt)).encrypt(nonce, plain, MAGIC + salt)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, blob)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def unseal(path: Path, signer: Signer) -> SealedSession:
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise DataDirError(
            t_("No Telegram session in this data directory: run `haechi watch login` first.")
        ) from None
    if len(blob) > MAX_SEALED or not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 44:
        raise DataDirError(t_("{path} is not a sealed haechi Telegram session.", path=path))
    head = len(MAGIC)
    salt, nonce, body = blob[head : head + 16], blob[head + 16 : head + 28], blob[head + 28 :]
    try:
        plain = AESGCM(_key(signer, salt)).decrypt(nonce, body, MAGIC + salt)
    except InvalidTag:
        raise DataDirError(
            t_(
                "{path} cannot be opened: it was sealed by another data "
                "directory's key, or it was altered. Run `haechi watch "
                "login` again.",
                path=path,
            )
        ) from None
    data = json.loads(plain)
    return SealedSession(str(data["session"]), str(data["session_id"]), dict(data["account"]))


def forget(path: Path) -> bool:
    """Remove the sealed session (logout). True when there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
