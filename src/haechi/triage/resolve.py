"""Which stored file a person means: a SHA-256, a unique prefix of one, or a local file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import select

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.store.models import Blob

_HEX = re.compile(r"[0-9a-f]{8,64}")


def resolve_file(app: App, ref: str) -> str:
    """The SHA-256 of the stored file ``ref`` names, or a one-sentence UsageError."""
    text = ref.strip().lower()
    path = Path(ref).expanduser()
    if path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        text = digest.hexdigest()
        if not _exists(app, text):
            raise UsageError(
                t_(
                    "{ref} (SHA-256 {text}) is not in the vault; ingest it first.",
                    ref=ref,
                    text=text,
                )
            )
        return text
    if not _HEX.fullmatch(text):
        raise UsageError(
            t_("{ref!r} is neither a file nor a SHA-256 (or a prefix of 8+ hex digits).", ref=ref)
        )
    with app.db.connect() as conn:
        found = (
            conn.execute(
                select(Blob.sha256)
                .where(Blob.sha256.like(f"{text}%"))
                .order_by(Blob.sha256)
                .limit(2)
            )
            .scalars()
            .all()
        )
    if not found:
        raise UsageError(t_("No stored file has a SHA-256 starting with {text}.", text=text))
    if len(found) > 1:
        raise UsageError(
            t_("{text} is the start of more than one SHA-256; give more digits.", text=text)
        )
    return str(found[0])


def _exists(app: App, sha: str) -> bool:
    with app.db.connect() as conn:
        return conn.execute(select(Blob.sha256).where(Blob.sha256 == sha)).first() is not None
