"""``haechi keys rotate``: a new Ed25519 key signs new events; the old one stays trusted
for the events it signed before (see :mod:`haechi.store.keychain` for what the
``key_rotation`` event proves).

Afterwards the old public key lives in ``keys/retired/<id>.pub.pem`` and its private key
is gone (replaced on disk by the new one): a retired key that signs anything after its
rotation event is reported as a forgery by ``verify``. Steps, in an order a crash at any
point can resume (``haechi keys rotate`` again finishes a rotation already recorded):

1. the new pair is written beside the current one (``custody_ed25519.next.pem``);
2. the event is committed (the database's write lock held, so ``prev`` is the head);
3. the old public key is retired, the sealed Telegram session (keyed by the signing
   key) re-sealed under the new key;
4. the new pair replaces the old one (``rename``, atomic).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from haechi.app import App
from haechi.domain import DataDirError
from haechi.i18n import t_
from haechi.store.custody import GENESIS
from haechi.store.keychain import KEY_ROTATION, statement
from haechi.store.keys import RETIRED, Signer, generate_keypair, load_signer, public_pem
from haechi.store.models import CustodyEvent

NEXT_PRIVATE, NEXT_PUBLIC = "custody_ed25519.next.pem", "custody_ed25519.next.pub.pem"


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    event_seq: int
    resealed: list[str]


def _write_public(path: Path, pem: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _recorded(app: App, new_id: str) -> int | None:
    """The sequence number of the rotation event naming ``new_id``, if committed."""
    with app.db.connect() as conn:
        for seq, body in conn.execute(
            select(CustodyEvent.seq, CustodyEvent.body)
            .where(CustodyEvent.event_type == KEY_ROTATION)
            .order_by(CustodyEvent.seq.desc())
        ):
            if (json.loads(body).get("data") or {}).get("new_key_id") == new_id:
                return int(seq)
    return None


def rotate(app: App, *, reason: str) -> Rotation:
    """Rotate the custody signing key (see the module docstring)."""
    s = app.settings
    next_private, next_public = s.keys_dir / NEXT_PRIVATE, s.keys_dir / NEXT_PUBLIC
    old = app.signer
    new: Signer | None = None
    seq: int | None = None
    if next_private.exists():  # a rotation stopped part-way
        new = load_signer(next_private)
        seq = _recorded(app, new.key_id)
        if seq is None:  # never recorded: start again with a fresh key
            next_private.unlink()
            next_public.unlink(missing_ok=True)
            new = None
    if new is None:
        new = generate_keypair(next_private, next_public)
    if seq is None:
        seq = _record(app, old, new, reason.strip())
    resealed = _reseal(s.keys_dir, old, new)
    retired = s.keys_dir / RETIRED
    retired.mkdir(mode=0o700, exist_ok=True)
    _write_public(retired / f"{old.key_id}.pub.pem", public_pem(old.public))
    _write_public(next_public, public_pem(new.public))
    os.replace(next_private, s.signing_key_path)  # the old private key is gone
    os.replace(next_public, s.public_key_path)
    fd = os.open(s.keys_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    app.signer = new
    app.custody.signer = new
    return Rotation(old.key_id, new.key_id, seq, resealed)


def _record(app: App, old: Signer, new: Signer, reason: str) -> int:
    if not reason:
        raise DataDirError(
            t_("Say why the key is rotated (--reason): it is kept in the custody log.")
        )
    with app.db.begin() as conn:
        head = conn.execute(
            select(CustodyEvent.hash).order_by(CustodyEvent.seq.desc()).limit(1)
        ).scalar()
        prev = head or GENESIS
        data = {
            "old_key_id": old.key_id,
            "new_key_id": new.key_id,
            "old_public_key": public_pem(old.public).decode(),
            "new_public_key": public_pem(new.public).decode(),
            "counter_signature": new.sign(statement(old.key_id, new.key_id, prev)),
            "reason": reason[:500],
        }
        return app.custody.append(conn, KEY_ROTATION, f"key:{new.key_id}", data)


def _reseal(keys_dir: Path, old: Signer, new: Signer) -> list[str]:
    """Secrets sealed under a key derived from the signing key follow it to the new one."""
    try:
        from haechi.collect.telegram_live.sessionbox import seal, session_path, unseal
    except ImportError:  # the live capability is not installed
        return []
    path = session_path(keys_dir)
    if not path.exists():
        return []
    with contextlib.suppress(DataDirError):  # sealed by the new key already (a resumed run)
        seal(path, new, unseal(path, old))
    return [path.name]
