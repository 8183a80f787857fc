"""Where a job's result waits for its download: ``HOME/jobs/<id>/``, private to the server.

A result may hold evidence (an evidence package carries originals), so when the vault is
encrypted the finished file is sealed with the vault's key (the vault's own streaming
AES-256-GCM format) and the plaintext removed at once: nothing the vault keeps encrypted
lies about in clear. Results are removed after ``RETENTION`` (the job's row, its hashes and
the custody events stay); the export's custody event is what a court relies on, the file
is only a way to hand it over.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from haechi.app import App
from haechi.store import vaultcrypto

RETENTION = 7 * 86400  # seconds a result stays downloadable
SEALED = ".sealed"
CHUNK = 1 << 20


def root(app: App) -> Path:
    return app.settings.home / "jobs"


def folder_for(app: App, job_id: int) -> Path:
    """The job's private folder (0700), created empty."""
    base = root(app)
    base.mkdir(mode=0o700, exist_ok=True)
    folder = base / str(int(job_id))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    return folder


def _digest(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def keep(app: App, job_id: int, path: Path) -> tuple[str, str, int, bool]:
    """Keep ``path`` (a file in the job's folder) as the result: returns (stored name
    relative to ``HOME/jobs``, SHA-256 of the plaintext, size, sealed)."""
    folder = root(app) / str(int(job_id))
    if path.parent.resolve() != folder.resolve() or not path.is_file():
        raise ValueError(f"{path} is not a file in job {job_id}'s folder")
    sha, size = _digest(path)
    key = app.vault.key
    if key is None or not app.vault.encrypted:
        path.chmod(0o400)
        return f"{int(job_id)}/{path.name}", sha, size, False
    sealed = path.with_name(path.name + SEALED)
    with path.open("rb") as src, sealed.open("xb") as dst:
        vaultcrypto.encrypt_stream(src, dst, key)
        dst.flush()
        os.fsync(dst.fileno())
    path.unlink()
    sealed.chmod(0o400)
    return f"{int(job_id)}/{sealed.name}", sha, size, True


def _path(app: App, stored: str) -> Path:
    number, _, name = stored.partition("/")
    if not number.isdigit() or not name or "/" in name or name.startswith("."):
        raise ValueError(f"{stored!r} is not a job result's name")
    return root(app) / number / name


def open_result(app: App, stored: str, sealed: bool) -> BinaryIO:
    """The plaintext of a stored result as a stream (decrypting a sealed one)."""
    path = _path(app, stored)
    if not sealed:
        return path.open("rb")
    return vaultcrypto.open_decrypting(path, app.vault.key, name="The job's result")


def exists(app: App, stored: str) -> bool:
    return _path(app, stored).is_file()


def remove(app: App, job_id: int) -> None:
    folder = root(app) / str(int(job_id))
    if folder.exists():
        for p in folder.rglob("*"):
            if p.is_dir():
                p.chmod(0o700)
        shutil.rmtree(folder, ignore_errors=True)
