"""An enrolment from the web page waiting for its face work.

The page's request checks the form and hands the face detection and embedding to a
background job (``jobs.kinds.enrol``): done in the web worker, they held a core for 0.1 to
several seconds a photo, and every other page of that worker waited. Between the two, the
form's values (the consenting person's name among them) and the reference photos are
sealed together under the subjects' key (AES-256-GCM, :mod:`haechi.subjects.photos`) in
``HOME/subjects/staging/<random name>`` (0600, in a 0700 folder), never in the job's
parameters (which the database keeps in clear). The job takes the file: it reads it and
unlinks it before the face work begins, whatever the outcome. A file no job took (the job
was never run, or the server stopped first) is removed by the job runner's sweep after
``MAX_AGE`` seconds. Only templates are kept afterwards, unless the consent keeps photos.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from haechi.app import App
from haechi.i18n import t_
from haechi.store import vaultcrypto
from haechi.subjects.model import SubjectError
from haechi.subjects.photos import subjects_key

MAX_AGE = 24 * 3600  # seconds an untaken enrolment may wait
_NAME_CHARS = set("0123456789abcdef")


@dataclass(frozen=True)
class Staged:
    owner: int | None  # the user who uploaded it (only that user's job may take it)
    values: dict[str, str]
    photos: list[tuple[str, bytes]]


def _folder(app: App) -> Path:
    return app.settings.home / "subjects" / "staging"


def _path(app: App, name: str) -> Path:
    if len(name) != 32 or not set(name) <= _NAME_CHARS:
        raise SubjectError(t_("{name!r} is not a waiting enrolment.", name=name[:40]))
    return _folder(app) / name


def stage(
    app: App, owner: int | None, values: dict[str, str], photos: list[tuple[str, bytes]]
) -> str:
    """Seal the form's values and the photos; returns the file's random name."""
    record = {
        "owner": owner,
        "values": values,
        "photos": [[name, base64.b64encode(data).decode("ascii")] for name, data in photos],
    }
    folder = _folder(app)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    tmp = folder / f".{name}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            plain = io.BytesIO(json.dumps(record, ensure_ascii=False).encode("utf-8"))
            vaultcrypto.encrypt_stream(plain, fh, subjects_key(app))
        # Not fsynced: it lives seconds, and after a crash its job fails anyway (the runner
        # marks it interrupted; the sweep removes the file). The rename keeps it whole.
        os.replace(tmp, folder / name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return name


def waiting(app: App, name: str) -> bool:
    return _path(app, name).is_file()


def take(app: App, name: str, owner: int | None) -> Staged:
    """Read and unlink the enrolment ``name`` uploaded by ``owner``. Raises
    :class:`SubjectError` when it is gone or was uploaded by someone else (then it stays)."""
    path = _path(app, name)
    out = io.BytesIO()
    try:
        with open(path, "rb") as fh:
            vaultcrypto.decrypt_stream(fh, out, subjects_key(app), name="The waiting enrolment")
    except FileNotFoundError:
        raise SubjectError(
            t_("The uploaded photos are no longer here (removed after a day): enrol again.")
        ) from None
    record = json.loads(out.getvalue().decode("utf-8"))
    if record.get("owner") != owner:
        raise SubjectError(t_("This enrolment was uploaded by someone else."))
    path.unlink(missing_ok=True)
    photos = [(str(n), base64.b64decode(d)) for n, d in record["photos"]]
    values = {str(k): "" if v is None else str(v) for k, v in record["values"].items()}
    return Staged(owner=owner, values=values, photos=photos)


def discard(app: App, name: str) -> None:
    with contextlib.suppress(FileNotFoundError, SubjectError):
        _path(app, name).unlink()


def sweep(app: App, max_age: float = MAX_AGE) -> int:
    """Remove waiting enrolments older than ``max_age`` seconds; returns how many."""
    folder = _folder(app)
    if not folder.is_dir():
        return 0
    limit, removed = time.time() - max_age, 0
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed
