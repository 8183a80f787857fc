"""`haechi demo` analyses every file it stores: the faces step runs every analyzer on its own
export (it used to run only the faces analyzer, so its pictures had no safe preview), and
the analysis check catches up and names any picture or video left without one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text
from tests.helpers import haechi

from haechi.app import init_home
from haechi.demo.steps import DemoContext, s88_analysed


@pytest.mark.slow
def test_every_stored_picture_has_a_safe_preview(tmp_path: Path) -> None:
    pytest.importorskip("dlib", reason="the faces step needs the faces extra")
    home = tmp_path / "demo-data"
    proc = haechi("demo", "--home", str(home), "--steps", "ingest,analyze,faces,analysis check")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The faces step analysed its own files: nothing was left for the catch-up.
    assert re.search(r"caught up: 0 files analysed now", proc.stdout), proc.stdout[-2000:]
    found = re.search(r"all (\d+) pictures, animations and videos have a safe preview", proc.stdout)
    assert found and int(found.group(1)) > 20


def test_the_check_names_what_has_no_preview(tmp_path: Path) -> None:
    """A stored picture nobody analysed is named (and fails the demo), not left grey."""
    app = init_home(tmp_path / "home")
    try:
        sha = "ab" * 32
        with app.db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO blobs (sha256, md5, size, encrypted, stored_at, kind) "
                    "VALUES (:s, :m, 1, :e, 'now', 'image')"
                ),
                {"s": sha, "m": "cd" * 16, "e": False},
            )
        ctx = DemoContext(app=app, home=tmp_path, out=Console(file=io.StringIO()))
        assert s88_analysed.unanalysed(ctx) == [sha]
    finally:
        app.close()
