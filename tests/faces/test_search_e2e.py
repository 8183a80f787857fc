"""The whole path through the real `haechi` command: ingest a benign export of re-posted
portraits, analyse, enrol a consenting subject from another crop, search, cluster, link,
flag, delete - and `haechi verify` still passes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.helpers import haechi

from haechi.demo.faces_export import build_faces_export, reference_photo, variants


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces")
    h = root / "home"
    haechi("init", str(h), check=True)
    export = build_faces_export(root / "export")
    # A damaged JPEG among them (a valid header, then junk): an error on that file only.
    photo = next((export / "chats" / "chat_1" / "photos").glob("photo_3@*"))
    photo.write_bytes(photo.read_bytes()[:600] + b"\x00junk" * 300)
    haechi("ingest", str(export), "--no-analyze", home=h, check=True)
    report = json.loads(haechi("analyze", "-a", "faces", "--json", home=h, check=True).stdout)
    assert report["errors"] == {"faces:error": 1}, report
    assert report["hook_warnings"] == []
    (root / "ref.png").write_bytes(reference_photo())
    return h


def rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "haechi.db") as conn:
        return conn.execute(sql).fetchall()


def j(*args: str, home: Path) -> object:
    proc = haechi(*args, "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_search_finds_every_altered_repost_and_nothing_else(home: Path) -> None:
    ref = home.parent / "ref.png"
    added = j(
        "subject", "add", "DEMO-001", "--photo", str(ref), "--consented-by", "Demo Subject",
        "--consented-on", "2024-09-01", "--scope", "search,link", "--staff", "officer.kim",
        home=home,
    )  # fmt: skip
    assert added["id"] == 1 and added["photos"] == 0
    result = j("face", "search", "--subject", "1", "--reason", "takedown of re-posts", home=home)
    shas = {h["blob_sha256"] for h in result["hits"]}
    import hashlib

    expected = {hashlib.sha256(v[0]).hexdigest() for v in variants().values()}
    assert shas == expected  # all five re-posts; no coffee, rocket or cat
    distances = [h["distance"] for h in result["hits"]]
    assert distances == sorted(distances) and max(distances) < 0.55
    chats = {s["chat_title"] for h in result["hits"] for s in h["sightings"]}
    assert len(chats) == 3
    logged = rows(home, "SELECT staff, reason, basis, images, custody_seq FROM face_searches")
    assert logged[0][1:4] == ("takedown of re-posts", "consent:1", 5) and logged[0][4]
    event = json.loads(
        rows(home, f"SELECT body FROM custody_events WHERE seq = {logged[0][4]}")[0][0]
    )
    assert event["data"]["images"] == 5
    # How the index answered is part of the record: a small archive is searched exactly.
    mode = event["data"]["index"]
    assert mode == result["index"] and mode["kind"] == "flat" and mode["faces"] >= 5
    assert mode["exact"] is True and mode["exhaustive"] is False
    again = j(
        "face", "search", "--subject", "1", "--reason", "final sweep", "--exhaustive", home=home
    )  # fmt: skip
    assert {h["blob_sha256"] for h in again["hits"]} == shas
    event = rows(home, f"SELECT body FROM custody_events WHERE seq = {again['custody_seq']}")
    assert json.loads(event[0][0])["data"]["index"]["exhaustive"] is True
    text = haechi("face", "search", "--subject", "1", "--reason", "read it out", home=home)
    assert f"exact search of {mode['faces']:,} faces" in " ".join(text.stdout.split())
    # Searches from the shell are in the audit trail auditors read, like the web's.
    trail = rows(
        home,
        "SELECT username, via, subject, detail_json FROM audit_log "
        "WHERE action = 'face_search' ORDER BY id",
    )
    assert [(t[0], t[1], t[2]) for t in trail] == [(logged[0][0], "cli", "subject:1")] * 3
    first = json.loads(trail[0][3])
    assert first["reason"] == "takedown of re-posts" and first["images"] == 5
    assert first["faces_custody_seq"] == logged[0][4]


def test_probe_search_keeps_only_the_hash(home: Path) -> None:
    ref = home.parent / "ref.png"
    result = j(
        "face", "search", "--probe", str(ref), "--basis", "warrant 2024-77",
        "--reason", "probe check", home=home,
    )  # fmt: skip
    assert len(result["hits"]) == 5 and result["kind"] == "probe"
    (probe_sha,) = rows(home, "SELECT probe_sha256 FROM face_searches WHERE kind = 'probe'")[0]
    import hashlib

    assert probe_sha == hashlib.sha256(ref.read_bytes()).hexdigest()
    assert not (home / "subjects").exists()  # the probe picture was not stored


def test_clusters_link_and_minor_flag(home: Path) -> None:
    out = j("face", "clusters", home=home)
    (cluster,) = out["clusters"]
    assert (cluster["images"], cluster["chats"]) == (5, 3)
    proc = haechi("face", "clusters", "--no-update", home=home)
    assert f"person #{cluster['id']} appears in 5 images across 3 chats" in proc.stdout
    again = j("face", "clusters", home=home)
    assert again["clusters"][0]["id"] == cluster["id"]  # stable numbers
    cid = str(cluster["id"])
    assert (
        haechi(
            "face", "link", cid, "--subject", "1", "--reason", "same person", home=home
        ).returncode
        == 0
    )
    assert haechi("face", "minor", cid, "--reason", "staff judgement", home=home).returncode == 0
    shown = j("face", "cluster", cid, home=home)
    assert shown["cluster"]["subject_id"] == 1 and shown["cluster"]["apparent_minor"]

    from haechi.app import open_app
    from haechi.subjects.minors import apparent_minor

    app = open_app(home)
    try:
        shas = [i["blob_sha256"] for i in shown["images"]]
        found = apparent_minor(app, [*shas, "f" * 64])
    finally:
        app.close()
    assert all(found[s].apparent_minor for s in shas) and not found["f" * 64].apparent_minor
    assert "marked apparent minor" in found[shas[0]].reasons[0]


def test_errors_are_sentences_and_verify_passes(home: Path) -> None:
    proc = haechi("face", "search", "--reason", "neither", home=home)
    assert (
        proc.returncode == 2 and "exactly one of" in proc.stderr and "Traceback" not in proc.stderr
    )
    proc = haechi("face", "search", "--subject", "99", "--reason", "nobody", home=home)
    assert proc.returncode == 2 and "no subject 99" in proc.stderr
    (refused,) = rows(home, "SELECT detail_json FROM audit_log WHERE subject = 'subject:99'")
    assert "no subject 99" in json.loads(refused[0])["refused"]  # refusals are on the trail
    assert haechi("verify", home=home).returncode == 0


def test_deleting_the_subject_ends_her_searches(home: Path) -> None:
    proc = haechi("subject", "delete", "1", "--reason", "consent withdrawn", home=home)
    assert proc.returncode == 0, proc.stderr
    assert rows(home, "SELECT count(*) FROM subject_templates") == [(0,)]
    assert rows(home, "SELECT subject_id FROM face_clusters") == [(None,)]
    proc = haechi("face", "search", "--subject", "1", "--reason", "after deletion", home=home)
    assert proc.returncode == 2 and "deleted" in proc.stderr
    kinds = [r[0] for r in rows(home, "SELECT event_type FROM custody_events ORDER BY seq")]
    for kind in ("subject_enrolled", "face_search", "face_clusters_updated", "face_cluster_linked",
                 "face_cluster_minor", "subject_deleted"):  # fmt: skip
        assert kind in kinds
    assert haechi("verify", home=home).returncode == 0
