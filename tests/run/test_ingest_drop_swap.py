"""A drop-folder export swapped for a symlink out of the drop root after the job checked it
(someone who may write in a shared drop folder racing the job): the export folder after
the job's check, the same after the ``already ingested?`` look-up (the collector's own
read), a media folder after the collector checked a photo's path (the vault's copy).
The drop-folder page's listing too (its counts and its hash of result.json). Each swap
is made by wrapping the check so that it swaps right after returning. Before the fix the
job read the outside export, and the vault stored the outside file; now nothing outside
the drop root is read: the job is refused with a sentence (English and Korean), the
photo is recorded as unreadable with why, and the page says why it offers nothing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.web.ingest_kit import with_drop_root

from haechi.app import App
from haechi.auth.types import cli_actor
from haechi.collect.telegram_export import normalize
from haechi.domain import UsageError
from haechi.i18n import localize
from haechi.jobs.kinds import ingest as ingest_job
from haechi.jobs.model import JobContext
from haechi.run import ingest_drop
from haechi.store.beneath import ChangedAfterCheck, open_beneath
from haechi.store.models import Message, Source

FOLDER = "ChatExport_2026-12-07"
INSIDE, SECRET = b"a photo inside the drop root", b"outside the drop root: never read"
CHANGED = "changed after it was checked"


def _export(folder: Path, room: str, photo: bytes, chat_id: int) -> None:
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "p.jpg").write_bytes(photo)
    message = {"id": 1, "type": "message", "date": "2026-12-07T10:00:00",
               "date_unixtime": "1796637600", "from": "A", "from_id": "user77",
               "text": f"hello from {room}", "photo": "photos/p.jpg"}  # fmt: skip
    chat = {"name": room, "type": "personal_chat", "id": chat_id, "messages": [message]}
    (folder / "result.json").write_text(json.dumps(chat), "utf-8")


@pytest.fixture
def drop(sqlite_app: App, tmp_path: Path) -> tuple[App, Path, Path]:
    root, outside = tmp_path / "drop", tmp_path / "outside"
    _export(root / FOLDER, "inside room", INSIDE, 4242)
    _export(outside / "secret", "outside room", SECRET, 4343)
    return with_drop_root(sqlite_app, root), root, outside


def _swap(path: Path, target: Path) -> None:
    """``path`` (a folder) replaced by a symlink to ``target``, as a racing writer does."""
    path.rename(path.with_name(path.name + ".before"))
    path.symlink_to(target, target_is_directory=True)


def _swapping_after(check: Callable[..., Any], path: Path, target: Path) -> Callable[..., Any]:
    def checked_then_swapped(*args: Any, **kwargs: Any) -> Any:
        result = check(*args, **kwargs)
        if not path.is_symlink():
            _swap(path, target)
        return result

    return checked_then_swapped


def _run_job(app: App, tmp_path: Path, folder: str = FOLDER) -> dict[str, Any]:
    out = tmp_path / "job"
    out.mkdir()
    params = {"root": 0, "folder": folder, "analyze": False, "assume_timezone": None}
    ctx = JobContext(app, cli_actor("test"), 1, params, out, lambda *_: None)
    return ingest_job.run(ctx).summary


def _stored(app: App) -> tuple[list[str], int]:
    with app.db.connect() as conn:
        labels = list(conn.execute(select(Source.label)).scalars())
        messages = conn.execute(select(func.count()).select_from(Message)).scalar_one()
    return labels, messages


def test_an_export_swapped_after_the_jobs_check_is_not_read(
    drop: tuple[App, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, root, outside = drop
    swap = _swapping_after(ingest_job.resolve, root / FOLDER, outside / "secret")
    monkeypatch.setattr(ingest_job, "resolve", swap)
    with pytest.raises(UsageError, match=CHANGED) as refused:
        _run_job(app, tmp_path)
    assert (root / FOLDER).is_symlink()  # the swap happened between the check and the read
    korean = localize(refused.value, "ko")
    assert "확인한 뒤에 바뀌었습니다" in korean and "읽지 않았습니다" in korean, korean
    labels, messages = _stored(app)
    assert messages == 0 and not any("outside room" in label for label in labels)


def test_the_collectors_own_read_is_confined_too(
    drop: tuple[App, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapped after the 'ingested before?' look-up, just before the collector opens
    result.json: the ingest is refused and stores no message of the outside export."""
    app, root, outside = drop
    swap = _swapping_after(ingest_job._refuse_if_ingested, root / FOLDER, outside / "secret")
    monkeypatch.setattr(ingest_job, "_refuse_if_ingested", swap)
    with pytest.raises(UsageError, match=CHANGED):
        _run_job(app, tmp_path)
    labels, messages = _stored(app)
    assert messages == 0 and not any("outside room" in label for label in labels)


def test_a_media_folder_swapped_after_its_check_is_not_copied(
    drop: tuple[App, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, root, outside = drop
    photos = root / FOLDER / "photos"
    swap = _swapping_after(normalize.media_status, photos, outside / "secret" / "photos")
    monkeypatch.setattr(normalize, "media_status", swap)
    summary = _run_job(app, tmp_path)
    assert photos.is_symlink()
    assert summary["messages"] == 1 and summary["files_missing"] == 1
    assert not app.vault.exists(hashlib.sha256(SECRET).hexdigest())  # never read
    report = json.loads(next((tmp_path / "job").glob("ingest-*.json")).read_text("utf-8"))
    assert any(CHANGED in w and "photos/p.jpg" in w for w in report["warnings"])


def test_the_listing_counts_and_hashes_nothing_outside(
    drop: tuple[App, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapped after the page's own check of a folder: its files are not counted and its
    result.json not hashed (the page says why instead of offering it)."""
    app, root, outside = drop
    swap = _swapping_after(ingest_drop.resolve, root / FOLDER, outside / "secret")
    monkeypatch.setattr(ingest_drop, "resolve", swap)
    (listed,) = ingest_drop.list_drop(app)[0].folders
    assert (root / FOLDER).is_symlink()
    assert (listed.files, listed.size, listed.identity) == (0, 0, None)
    assert listed.problem is not None and CHANGED in listed.problem and not listed.can_start


def test_an_ordinary_export_is_ingested_whole(drop: tuple[App, Path, Path], tmp_path: Path) -> None:
    """Links that stay inside the drop root are still followed: the export folder named
    through one, its photos folder another."""
    app, root, _outside = drop
    export = root / FOLDER
    (export / "photos").rename(export / "kept")
    (export / "photos").symlink_to(export / "kept", target_is_directory=True)
    (root / "link_in").symlink_to(export, target_is_directory=True)
    summary = _run_job(app, tmp_path, "link_in")
    assert summary["messages"] == 1 and summary["files_missing"] == 0
    assert app.vault.exists(hashlib.sha256(INSIDE).hexdigest())
    assert _stored(app)[1] == 1


def test_open_beneath(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_bytes(b"in")
    outside.mkdir()
    (outside / "f").write_bytes(b"out")
    os.symlink(root / "a" / "b", root / "link_in")
    os.symlink(outside, root / "link_out")
    for ok in (root / "a" / "b" / "f", root / "link_in" / "f"):
        fd = open_beneath(root, ok, os.O_RDONLY)
        assert os.read(fd, 8) == b"in"
        os.close(fd)
    for bad in (root / "link_out" / "f", outside / "f", root, root / ".." / "outside" / "f"):
        with pytest.raises(ChangedAfterCheck):
            os.close(open_beneath(root, bad, os.O_RDONLY))
    with pytest.raises(FileNotFoundError):
        open_beneath(root, root / "a" / "missing", os.O_RDONLY)


def test_open_beneath_refuses_a_swap_after_its_own_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder on the way swapped for a link out between the resolution and the opening
    (the path resolved is checked, then walked without following any link)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_bytes(b"in")
    (outside / "b").mkdir(parents=True)
    (outside / "b" / "f").write_bytes(b"out")
    target, resolve = root / "a" / "b" / "f", os.path.realpath

    def resolved_then_swapped(path: Any) -> str:
        real = resolve(path)
        if Path(path) == target:  # the file's own resolution, not the root's
            _swap(root / "a", outside)
        return real

    monkeypatch.setattr(os.path, "realpath", resolved_then_swapped)
    with pytest.raises(ChangedAfterCheck):
        os.close(open_beneath(root, target, os.O_RDONLY))
    assert (root / "a").is_symlink()


def test_open_beneath_refuses_a_file_swapped_for_a_fifo(tmp_path: Path) -> None:
    """A photo replaced by a named pipe after its check would block a plain open (and the
    job) until someone writes to it; it is refused at once, and the returned descriptor of
    a regular file blocks as usual (O_NONBLOCK cleared)."""
    import fcntl

    root = tmp_path / "root"
    root.mkdir()
    os.mkfifo(root / "p.jpg")
    with pytest.raises(ChangedAfterCheck):
        os.close(open_beneath(root, root / "p.jpg", os.O_RDONLY))
    (root / "q.jpg").write_bytes(b"in")
    fd = open_beneath(root, root / "q.jpg", os.O_RDONLY)
    try:
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK
        assert os.read(fd, 8) == b"in"
    finally:
        os.close(fd)
