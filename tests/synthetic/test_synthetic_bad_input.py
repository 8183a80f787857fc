"""Hostile files through the real runner: each gives a recorded result or error on that
file, the batch completes, and `haechi verify` still passes."""

from __future__ import annotations

import io
import json
import sqlite3
import zlib
from pathlib import Path

from PIL import Image
from skimage import data
from tests.helpers import haechi, haechi_here

from haechi.demo.c2pa_demo import make_signer, sign_jpeg
from haechi.demo.tdesktop_format import ChatBuilder, Peer, dumps, unix_at


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + ctype + body + zlib.crc32(ctype + body).to_bytes(4, "big")


def _hostile_files() -> dict[str, bytes]:
    buf = io.BytesIO()
    Image.new("L", (12_000, 12_000)).save(buf, "PNG", optimize=True)  # 144 MP, ~140 KB
    bomb = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, "PNG")
    png = buf.getvalue()
    truncated = png[: len(png) // 3]
    text_bomb = png[:33] + _chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(b"A" * (64 << 20)))
    text_bomb += png[33:]
    buf = io.BytesIO()
    Image.fromarray(data.rocket()).save(buf, "JPEG")
    signed = bytearray(sign_jpeg(buf.getvalue(), make_signer()))
    at = signed.find(b"jumb")
    signed[at - 4 : at + 300] = b"\xff" * 304  # a box header with an impossible length
    return {
        "bomb.png": bomb,
        "truncated.png": truncated,
        "text_bomb.png": text_bomb,
        "bad_c2pa.jpg": bytes(signed),
    }


def test_hostile_files_are_recorded_errors_not_crashes(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    chat = ChatBuilder("hostile", "private_supergroup", 1733000888, "", files)
    t = unix_at("2024-09-04 10:00:00")
    for i, (name, blob) in enumerate(_hostile_files().items()):
        mime = "image/png" if name.endswith(".png") else "image/jpeg"
        doc = chat.document(t + i, kind_folder="files", mime_type=mime, data=blob, file_name=name)
        chat.message(t + i, Peer("x", "user1"), name, media=doc)
    export = tmp_path / "export"
    for rel, blob in files.items():
        (export / rel).parent.mkdir(parents=True, exist_ok=True)
        (export / rel).write_bytes(blob)
    (export / "result.json").write_text(dumps(chat.to_dict()), encoding="utf-8")
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    haechi_here("ingest", str(export), "--no-analyze", home=home, check=True)
    proc = haechi(
        "analyze", "--json", "-a", "nudity", "-a", "provenance", "-a", "synthetic", home=home
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files"] == 4 and report["worker_restarts"] == 0
    with sqlite3.connect(home / "haechi.db") as conn:
        rows = conn.execute(
            "SELECT m.file_name, a.analyzer, a.status, a.error, a.warnings_json FROM analyses a "
            "JOIN media m ON m.blob_sha256 = a.blob_sha256"
        ).fetchall()
    got = {
        (name, analyzer): (status, error, warnings)
        for name, analyzer, status, error, warnings in rows
    }
    assert len(got) == 12  # every file x analyzer has a recorded outcome
    for analyzer in ("nudity", "synthetic"):
        status, error, _ = got[("bomb.png", analyzer)]
        assert status == "error" and "pixels" in error
        assert got[("truncated.png", analyzer)][0] == "error"
    assert got[("bomb.png", "provenance")][0] == "ok"  # metadata is still read
    status, _, warnings = got[("text_bomb.png", "provenance")]
    assert status == "ok"
    assert got[("bad_c2pa.jpg", "provenance")][0] == "ok"
    assert haechi("verify", home=home).returncode == 0
    assert warnings is None or isinstance(json.loads(warnings), list)
