"""Exports dropped on the server: the folders an administrator names in ``haechi.toml``
(``[ingest] drop_roots``), whose Telegram Desktop exports investigators ingest from the
browser (a folder of gigabytes is copied there, not uploaded through a form).

Only a folder directly inside a drop root is ever ingested: a name with a separator,
``..`` or a NUL is refused, and the folder and its ``result.json`` are resolved (every
symlink followed) and must still lie inside the resolved root, so a link leading out of
it is refused too. The checks run when the ingest is asked for and again in the job,
just before it reads anything; after that every file of the export (``result.json``, its
media) is opened from beneath the drop root without following a link
(:func:`haechi.store.beneath.open_beneath`), so a folder or file swapped for a link out
between the check and the read is refused, never read.

Whether a folder was ingested already is asked by the source identity the ingest itself
uses (:func:`haechi.run.ingest_source.find_source`: the SHA-256 of ``result.json``), so a
renamed or copied folder is still recognised. Listing hashes a ``result.json`` up to
``HASH_WHILE_LISTING`` bytes in all (each remembered by path, size and modification
time); the others are hashed by the job, which says so when the export was ingested
before and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from sqlalchemy import select

from haechi.app import App
from haechi.collect.telegram_export.locate import locate_export
from haechi.config import Settings
from haechi.domain import HaechiError, UsageError
from haechi.i18n import Msg, t_
from haechi.run.ingest_source import KnownSource, find_source
from haechi.store.beneath import ChangedAfterCheck, open_beneath
from haechi.store.models import Source

KIND = "telegram_desktop_export"  # the collector's source kind (its describe())
MAX_FOLDERS = 100  # folders listed per drop root (newest first)
MAX_ENTRIES = 10_000  # files and folders counted inside one export folder
MAX_NAME = 255  # bytes of a folder name on the usual file systems
SHOWN = 100  # characters of a name shown
HASH_WHILE_LISTING = 512 * 1024 * 1024  # bytes of result.json hashed by one listing
_HASHES: dict[tuple[str, int, int, int], str] = {}
_HASHES_LOCK = Lock()


@dataclass(frozen=True)
class DropFolder:
    root: int  # which drop root (its place in the settings)
    name: str  # the folder's name, as the form sends it back
    size: int  # bytes of every file counted
    files: int  # files counted
    counted_all: bool  # False: more than MAX_ENTRIES entries, the counts are a floor
    modified: int  # unix time of the folder's last change
    json_size: int | None = None  # bytes of result.json
    identity: str | None = None  # SHA-256 of result.json, when hashed while listing
    source: KnownSource | None = None  # the source made from it before
    messages: int | None = None  # messages the source's ingest read
    problem: str | None = None  # why it cannot be ingested (a sentence)

    @property
    def shown(self) -> str:
        return self.name if len(self.name) <= SHOWN else self.name[: SHOWN - 1] + "…"

    @property
    def ingested(self) -> bool:
        return self.source is not None and self.source.status == "finished"

    @property
    def can_start(self) -> bool:
        return self.problem is None and not self.ingested


@dataclass(frozen=True)
class DropRoot:
    index: int
    path: Path
    problem: str | None = None  # missing or unreadable (a sentence)
    folders: list[DropFolder] = field(default_factory=list)
    more: int = 0  # folders beyond MAX_FOLDERS, not listed


def _no_roots() -> UsageError:
    return UsageError(
        t_(
            "No drop folder is set up: an administrator names one under [ingest] "
            "drop_roots in haechi.toml (docs/configuration.md)."
        )
    )


def _root(settings: Settings, root: object) -> tuple[int, Path]:
    roots = settings.drop_roots
    if not roots:
        raise _no_roots()
    index = root if isinstance(root, int) and not isinstance(root, bool) else None
    if isinstance(root, str) and root.strip().isascii() and root.strip().isdigit():
        index = int(root.strip())
    if index is None or not 0 <= index < len(roots):
        raise UsageError(t_("There is no drop folder number {root}.", root=str(root)[:16]))
    return index, roots[index]


def check_name(name: object) -> str:
    """A folder's own name: one path component, never a path or a way up."""
    try:  # a name that is not UTF-8 (a lone surrogate) is listed, never asked for
        size = len(name.encode("utf-8")) if isinstance(name, str) else 0
    except UnicodeEncodeError:
        size = 0
    if not isinstance(name, str) or not 0 < size <= MAX_NAME:
        raise UsageError(t_("Name one export folder inside the drop folder."))
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise UsageError(
            t_("Name one export folder inside the drop folder, not a path: {name}", name=name)
        )
    return name


def sentence(exc: BaseException) -> str:
    """A refusal's sentence, kept translatable (its ``Msg``) when it has one."""
    args = exc.args
    return args[0] if len(args) == 1 and isinstance(args[0], Msg) else str(exc)


def _inside(path: Path, base: Path) -> bool:
    return path != base and path.is_relative_to(base)


def resolve(settings: Settings, root: object, name: object) -> tuple[int, Path]:
    """(root number, resolved export folder) of ``name`` inside drop root ``root``;
    a sentence for anything outside it or not an export folder."""
    index, base_path = _root(settings, root)
    name = check_name(name)
    base = Path(os.path.realpath(base_path))
    if not base.is_dir():
        raise UsageError(
            t_("The drop folder {path} does not exist or cannot be read.", path=base_path)
        )
    folder = Path(os.path.realpath(base / name))
    if not _inside(folder, base):
        raise UsageError(t_("{name} leads outside the drop folder.", name=name))
    if not folder.is_dir():
        raise UsageError(t_("There is no export folder {name} in the drop folder.", name=name))
    json_path, _root_dir = locate_export(folder)  # the collector's own sentences
    real_json = Path(os.path.realpath(json_path))
    if json_path.parent != folder or not _inside(real_json, base):
        raise UsageError(t_("The result.json of {name} leads outside the drop folder.", name=name))
    return index, folder


def identity(
    json_path: Path, *, budget: list[int] | None = None, beneath: Path | None = None
) -> str | None:
    """SHA-256 of ``result.json`` (the source identity); None when not hashed before and
    larger than what is left of ``budget`` (bytes, a one-item list this call draws on).
    ``beneath``: the drop root it is opened from beneath only (a file or folder swapped for
    a link out after the check is refused, never read: :mod:`haechi.store.beneath`)."""
    real = os.path.realpath(json_path)
    try:
        if beneath is None:
            fd = os.open(real, os.O_RDONLY)
        else:
            fd = open_beneath(beneath, json_path, os.O_RDONLY)
    except ChangedAfterCheck as exc:
        raise UsageError(exc.sentence) from None
    except OSError as exc:  # removed or unreadable meanwhile
        raise _unreadable(json_path, exc) from None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())  # the file opened, not the path
            key = (real, info.st_size, info.st_mtime_ns, info.st_ino)
            with _HASHES_LOCK:
                if key in _HASHES:
                    return _HASHES[key]
            if budget is not None:
                if info.st_size > budget[0]:
                    return None
                budget[0] -= info.st_size
            digest = hashlib.sha256()
            while block := fh.read(1 << 20):
                digest.update(block)
        except OSError as exc:
            raise _unreadable(json_path, exc) from None
    with _HASHES_LOCK:
        if len(_HASHES) > 4096:
            _HASHES.clear()
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _unreadable(json_path: Path, exc: OSError) -> UsageError:
    return UsageError(
        t_("{path} cannot be read ({error}).", path=json_path, error=exc.strerror or exc)
    )


def ingested_before(app: App, sha256: str | None) -> KnownSource | None:
    if sha256 is None:
        return None
    with app.db.connect() as conn:
        return find_source(conn, KIND, sha256)


def _count(base: Path, folder: Path) -> tuple[int, int, bool]:
    """(files, bytes, counted all) of ``folder``; symlinks are not followed, and each folder
    is opened from beneath the drop root ``base`` (a folder swapped for a link out
    meanwhile is skipped, so nothing outside the root is counted)."""
    files = size = seen = 0
    todo = [folder]
    while todo:
        current = todo.pop()
        try:
            fd = open_beneath(base, current, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        return files, size, False
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(current / entry.name)
                    elif entry.is_file(follow_symlinks=False):
                        files += 1
                        size += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        finally:
            os.close(fd)
    return files, size, True


def _messages(app: App, source_id: int) -> int | None:
    with app.db.connect() as conn:
        text = conn.execute(select(Source.stats_json).where(Source.id == source_id)).scalar()
    try:
        value = json.loads(text).get("messages") if text else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _folder(app: App, index: int, base: Path, name: str, budget: list[int]) -> DropFolder:
    path = base / name
    try:
        info = os.stat(path)
    except OSError:
        info = None
    modified = int(info.st_mtime) if info else 0
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        problem = t_("The folder's name is not valid UTF-8: rename it to ingest it.")
        return DropFolder(index, shown, 0, 0, True, modified, problem=problem)
    try:
        _index, folder = resolve(app.settings, index, name)
    except HaechiError as exc:
        return DropFolder(index, name, 0, 0, True, modified, problem=sentence(exc))
    files, size, counted_all = _count(base, folder)
    json_path = folder / "result.json"
    try:
        json_size = json_path.stat().st_size
        sha = identity(json_path, budget=budget, beneath=base)
    except (OSError, HaechiError) as exc:  # removed or unreadable meanwhile
        return DropFolder(index, name, size, files, counted_all, modified, problem=sentence(exc))
    known = ingested_before(app, sha)
    messages = _messages(app, known.id) if known is not None else None
    return DropFolder(
        index, name, size, files, counted_all, modified, json_size, sha, known, messages
    )


def _entries(base: Path) -> list[tuple[float, str]]:
    """(modified, name) of the folders and links in ``base``, hidden ones left out."""
    found = []
    with os.scandir(base) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if entry.name.startswith(".") or not (
                    stat.S_ISLNK(info.st_mode) or stat.S_ISDIR(info.st_mode)
                ):
                    continue
            except OSError:  # gone meanwhile
                continue
            found.append((info.st_mtime, entry.name))
    return found


def list_drop(app: App) -> list[DropRoot]:
    """Every drop root with the folders in it, newest first (empty: none set up)."""
    found: list[DropRoot] = []
    budget = [HASH_WHILE_LISTING]
    for index, root in enumerate(app.settings.drop_roots):
        base = Path(os.path.realpath(root))
        try:
            names = sorted(_entries(base), key=lambda item: (-item[0], item[1]))
        except OSError:
            problem = t_("The drop folder {path} does not exist or cannot be read.", path=root)
            found.append(DropRoot(index, root, problem))
            continue
        shown = [_folder(app, index, base, name, budget) for _when, name in names[:MAX_FOLDERS]]
        found.append(DropRoot(index, root, None, shown, max(0, len(names) - MAX_FOLDERS)))
    return found
