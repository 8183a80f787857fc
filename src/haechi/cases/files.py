"""Writing an export file: never over an existing one, and its SHA-256 for the log."""

from __future__ import annotations

import hashlib
from pathlib import Path

from haechi.cases.model import CaseError
from haechi.i18n import t_


def write_new(dest: Path, data: bytes) -> str:
    """Write ``data`` to a file that must not exist yet; returns its SHA-256."""
    try:
        with dest.open("xb") as fh:
            fh.write(data)
    except FileExistsError:
        raise CaseError(t_("{dest} exists: choose a new file name.", dest=dest)) from None
    return hashlib.sha256(data).hexdigest()
