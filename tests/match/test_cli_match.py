"""`haechi bank ...` and `haechi match ...` through the real command line (SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.helpers import haechi
from tests.match.conftest import cat_photo

from haechi.demo.export_builder import build_demo_export


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    h = root / "home"
    haechi("init", str(h), check=True)
    export = build_demo_export(root / "export")
    haechi("ingest", str(export), "--no-analyze", home=h, check=True)
    haechi("analyze", "-a", "pdq", "-a", "vpdq", home=h, check=True)  # the hook matches
    return h


def _json(*args: str, home: Path) -> object:
    proc = haechi(*args, "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_bank_lifecycle_and_file_match(home: Path, tmp_path: Path) -> None:
    created = _json("bank", "create", "victim A", "--origin", "support centre", "-l", "reported",
                    home=home)  # fmt: skip
    assert created["name"] == "victim A" and created["labels"] == ["reported"]
    mine = cat_photo(tmp_path / "mine.jpg", flip=True)
    added = _json("bank", "add", "victim A", str(mine), "--note", "her copy", home=home)
    assert added["items_added"] == 1 and added["matches_found"] >= 2
    listed = _json("bank", "list", home=home)
    assert [b["name"] for b in listed] == ["victim A"] and listed[0]["matches"] >= 2
    described = _json("bank", "describe", "victim A", home=home)
    assert described["items"][0]["notes"] == "her copy" and described["matches"]
    probe = cat_photo(tmp_path / "probe.jpg", size=200)
    (result,) = _json("match", str(probe), home=home)
    banks = [h for h in result["hits"] if h["bank"] == "victim A"]
    stored = [h for h in result["hits"] if h["stored_file"]]
    assert banks and banks[0]["transform"] != "original" and stored
    text = haechi("match", str(probe), home=home)
    assert "bank 'victim A' item" in text.stdout and "posted in 3 chats" in text.stdout
    assert "distance" in text.stdout


def test_match_all_lists_hits_and_is_idempotent(home: Path) -> None:
    first = _json("match", "--all", home=home)
    again = _json("match", "--all", home=home)
    assert first["matches"] and again["run"]["new_matches"] == 0
    assert {m["kind"] for m in first["matches"]} >= {"pdq"}
    table = haechi("match", "--all", home=home)
    assert table.returncode == 0 and "distance" in table.stdout


def test_groups_in_json_and_text(home: Path) -> None:
    groups = _json("match", "--groups", home=home)
    assert groups and all(g["chats"] >= 2 for g in groups)
    assert any(g["summary"].startswith("posted in 3 chats, first in ") for g in groups)
    one = _json("match", "--group", groups[0]["key"], home=home)
    assert one[0]["key"] == groups[0]["key"]
    text = haechi("match", "--groups", home=home)
    assert "first in 커피 사진 채널" in text.stdout


def test_import_export_and_bad_lines_are_one_sentence(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "list.txt"
    good.write_text("pdq " + "0" * 63 + "1\npdq zz\n")
    proc = haechi("bank", "import", "partner", str(good), "--create", home=home)
    assert proc.returncode == 2 and "line 2" in proc.stderr and "Traceback" not in proc.stderr
    ok = _json("bank", "import", "partner", str(good), "--skip-bad", home=home)
    assert ok["items_added"] == 1 and ok["skipped"][0]["line"] == 2
    out = tmp_path / "partner.json"
    exported = _json("bank", "export", "partner", str(out), "--format", "stopncii", home=home)
    assert exported["records"] == 1 and json.loads(out.read_text())["hashRecords"]
    proc = haechi("bank", "export", "nobody", str(tmp_path / "x"), home=home)
    assert proc.returncode == 2 and "no bank called 'nobody'" in proc.stderr
    proc = haechi("bank", "add", "partner", "--hash", "pdq-abc", home=home)
    assert proc.returncode == 2 and "kind:value" in proc.stderr


def test_delete_needs_confirmation_and_is_logged(home: Path) -> None:
    _json("bank", "create", "temporary", home=home)
    refused = haechi("bank", "delete", "temporary", home=home)  # no --yes, no tty: "no"
    assert refused.returncode != 0
    proc = haechi("bank", "delete", "temporary", "--yes", "--reason", "test", home=home)
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(home / "haechi.db") as conn:
        kinds = [r[0] for r in conn.execute("SELECT event_type FROM custody_events")]
    assert kinds.count("bank_deleted") == 1 and "bank_created" in kinds and "match" in kinds
    assert haechi("verify", home=home).returncode == 0


def test_match_without_arguments_says_what_to_give(home: Path) -> None:
    proc = haechi("match", home=home)
    assert proc.returncode == 2 and "--all" in proc.stderr
