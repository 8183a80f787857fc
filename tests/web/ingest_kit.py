"""What the drop-folder ingest tests share: a data directory whose ``haechi.toml`` names a
drop root (read again by the job's own process), a small Telegram Desktop export written
by the text tests' kit, and the posting of the page's form."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from tests.text.kit import T0, room, write_export
from tests.web.counsellor_kit import form_key

from haechi.app import App
from haechi.config import load_settings
from haechi.demo.tdesktop_format import Peer

ROOM = "귤 농장 모임"
WORDS = "귤 껍질 벗기기 대회 열려요"
FOLDER = "ChatExport_2024-08-31"


def with_drop_root(app: App, root: Path) -> App:
    """``app`` with ``root`` as its drop root, written in its haechi.toml too."""
    config = app.settings.config_path
    text = config.read_text(encoding="utf-8")
    # as an administrator does: uncomment the section init wrote and name the folder
    assert "# [ingest]\n# drop_roots = [" in text
    named = f'[ingest]\ndrop_roots = ["{root}"]  # ['
    config.write_text(text.replace("# [ingest]\n# drop_roots = [", named, 1))
    settings = load_settings(app.settings.home)
    assert settings.drop_roots == (root,)
    return replace(app, settings=replace(app.settings, drop_roots=settings.drop_roots))


def export_in(folder: Path, name: str = ROOM, bare_id: int = 1500000001) -> Path:
    """A one-room export (two messages) written to ``folder``."""
    chat = room(name, bare_id)
    a, b = Peer("익명1", "user7700000001"), Peer("익명2", "user7700000002")
    chat.message(T0, a, WORDS)
    chat.message(T0 + 60, b, "몇 시에 모여요?")
    return write_export(folder, [chat])


def post_choice(web: TestClient, csrf: str, choice: str, **extra: str) -> object:
    page = web.get("/sources/drop").text
    key = form_key(page, "/sources/drop") if 'id="drop-form"' in page else "k" * 24
    data = {"csrf_token": csrf, "key": key, "choice": choice, **extra}
    return web.post("/sources/drop", data=data)
