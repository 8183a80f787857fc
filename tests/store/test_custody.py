"""The custody log: chaining, signatures, and every kind of tampering named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from haechi.store.custody import (
    GENESIS,
    CustodyContext,
    CustodyLog,
    Draft,
    export_line,
    iter_db_events,
    iter_jsonl_events,
    verify_chain,
)
from haechi.store.db import Database
from haechi.store.keys import Verifier, generate_keypair, load_signer, load_verifier


@pytest.fixture
def setup(tmp_path: Path, database_url: str) -> Iterator[tuple[Database, CustodyLog, Verifier]]:
    db = Database(database_url)
    db.migrate()
    signer = generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    log = CustodyLog(signer, CustodyContext(actor="tester", host="lab-1"))
    with db.begin() as conn:
        log.append_many(
            conn, [Draft("capture", f"sha{i}", {"path": f"photos/{i}.jpg"}) for i in range(1, 9)]
        )
    yield db, log, load_verifier([tmp_path / "k.pub.pem"])
    db.dispose()


def _check(db: Database, verifier: Verifier):
    with db.connect() as conn:
        return verify_chain(iter_db_events(conn), verifier)


def test_intact_chain_verifies(setup) -> None:
    db, _log, verifier = setup
    report = _check(db, verifier)
    assert report.ok, report.problems
    assert report.events == 8 and report.head_seq == 8
    with db.connect() as conn:
        rows = conn.execute(text("SELECT seq, body, prev_hash FROM custody_events ORDER BY seq"))
        bodies = [(seq, json.loads(body), prev) for seq, body, prev in rows]
    assert bodies[0][1]["prev"] == GENESIS
    assert bodies[0][1]["actor"] == "tester" and bodies[0][1]["host"] == "lab-1"
    assert all(b["seq"] == seq and b["prev"] == prev for seq, b, prev in bodies)


def test_appends_continue_the_chain(setup) -> None:
    db, log, verifier = setup
    with db.begin() as conn:
        seq = log.append(conn, "verification", None, {"ok": True})
    assert seq == 9
    assert _check(db, verifier).ok


def test_altered_event_is_named(setup) -> None:
    db, _log, verifier = setup
    with db.begin() as conn:
        body = conn.execute(text("SELECT body FROM custody_events WHERE seq = 3")).scalar_one()
        forged = body.replace("photos/3.jpg", "photos/X.jpg")
        conn.execute(text("UPDATE custody_events SET body = :b WHERE seq = 3"), {"b": forged})
    report = _check(db, verifier)
    kinds = {(p.kind, p.seq) for p in report.problems}
    assert ("altered", 3) in kinds
    assert ("forged", 3) in kinds  # the signature no longer matches either


def test_deleted_event_is_named(setup) -> None:
    db, _log, verifier = setup
    with db.begin() as conn:
        conn.execute(text("DELETE FROM custody_events WHERE seq = 5"))
    report = _check(db, verifier)
    assert [(p.kind, p.seq) for p in report.problems] == [("missing", 5)]


def test_swapped_events_are_named(setup) -> None:
    db, _log, verifier = setup
    cols = "body, prev_hash, hash, signature, key_id, at, event_type, subject"
    with db.begin() as conn:
        r4 = conn.execute(text(f"SELECT {cols} FROM custody_events WHERE seq=4")).one()
        r5 = conn.execute(text(f"SELECT {cols} FROM custody_events WHERE seq=5")).one()
        sets = ", ".join(f"{c.strip()} = :{c.strip()}" for c in cols.split(","))
        conn.execute(text("UPDATE custody_events SET hash = 'swap' WHERE seq=4"))  # unique hash
        conn.execute(text(f"UPDATE custody_events SET {sets} WHERE seq=5"), dict(r4._mapping))
        conn.execute(text(f"UPDATE custody_events SET {sets} WHERE seq=4"), dict(r5._mapping))
    report = _check(db, verifier)
    # stored out of order, and each row's sequence column disagrees with its signed body
    assert sorted((p.kind, p.seq) for p in report.problems) == [
        ("altered", 4),
        ("altered", 5),
        ("reordered", 4),
    ]
    assert all("seq" in p.detail for p in report.problems if p.kind == "altered")


def test_forged_signature_is_named(setup, tmp_path: Path) -> None:
    db, _log, verifier = setup
    other = generate_keypair(tmp_path / "o.pem", tmp_path / "o.pub.pem")
    with db.begin() as conn:
        body = conn.execute(text("SELECT body FROM custody_events WHERE seq = 6")).scalar_one()
        # a signature by another key presented under the trusted key id
        conn.execute(
            text("UPDATE custody_events SET signature = :s WHERE seq = 6"),
            {"s": other.sign(body.encode())},
        )
    report = _check(db, verifier)
    assert [(p.kind, p.seq) for p in report.problems] == [("forged", 6)]


def test_unsigned_event_is_named(setup) -> None:
    db, _log, verifier = setup
    with db.begin() as conn:
        conn.execute(text("UPDATE custody_events SET signature = NULL WHERE seq = 2"))
    report = _check(db, verifier)
    assert [(p.kind, p.seq) for p in report.problems] == [("unsigned", 2)]


def test_rewritten_and_resigned_chain_fails_with_trusted_key(setup, tmp_path: Path) -> None:
    """An attacker who rebuilds the whole chain with their own key is still caught."""
    db, _log, verifier = setup
    attacker = generate_keypair(tmp_path / "a.pem", tmp_path / "a.pub.pem")
    with db.begin() as conn:
        conn.execute(text("DELETE FROM custody_events"))
        CustodyLog(attacker, CustodyContext("mallory", "x")).append(conn, "capture", "s", {})
    report = _check(db, verifier)
    assert report.problems and report.problems[0].kind == "forged"
    assert "unknown key" in report.problems[0].detail


def _export(db: Database) -> list[str]:
    with db.connect() as conn:
        return [export_line(ev) for ev in iter_db_events(conn)]


def test_jsonl_export_verifies_offline_and_names_tampering(setup) -> None:
    db, _log, verifier = setup
    lines = _export(db)
    assert verify_chain(iter_jsonl_events(lines), verifier).ok
    deleted = lines[:2] + lines[3:]
    assert [
        (p.kind, p.seq) for p in verify_chain(iter_jsonl_events(deleted), verifier).problems
    ] == [("missing", 3)]
    swapped = [*lines[:4], lines[5], lines[4], *lines[6:]]
    assert [
        (p.kind, p.seq) for p in verify_chain(iter_jsonl_events(swapped), verifier).problems
    ] == [("reordered", 5)]
    obj = json.loads(lines[7])
    obj["body"] = obj["body"].replace("photos/8", "photos/9")
    altered = [*lines[:7], json.dumps(obj)]
    kinds = {(p.kind, p.seq) for p in verify_chain(iter_jsonl_events(altered), verifier).problems}
    assert ("altered", 8) in kinds


def test_signer_round_trip(tmp_path: Path) -> None:
    signer = generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    again = load_signer(tmp_path / "k.pem")
    assert again.key_id == signer.key_id
    with pytest.raises(Exception, match="never replaced"):
        generate_keypair(tmp_path / "k.pem", tmp_path / "k2.pub.pem")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2020-01-01T00:00:00.000000Z"),  # backdated
        ("event_type", "analysis"),  # hidden from a filter on its type
        ("subject", "sha-elsewhere"),  # hidden from a filter on its subject
        ("prev_hash", "f" * 64),
    ],
)
def test_edited_display_column_is_named(setup, column: str, value: str) -> None:
    """The columns that pages filter and show on must say what the signed body says:
    editing one (backdating an event, hiding it from a filter) is named by verify."""
    db, _log, verifier = setup
    with db.begin() as conn:
        conn.execute(text(f"UPDATE custody_events SET {column} = :v WHERE seq = 4"), {"v": value})
    report = _check(db, verifier)
    named = [p for p in report.problems if p.seq == 4 and p.kind == "altered"]
    assert named, report.problems
    assert column in named[0].detail


def test_edited_sequence_column_is_named(setup) -> None:
    db, _log, verifier = setup
    with db.begin() as conn:
        conn.execute(text("UPDATE custody_events SET seq = 100 WHERE seq = 8"))
    report = _check(db, verifier)
    assert any(p.kind == "altered" and "seq" in p.detail for p in report.problems), report.problems


def test_signatures_checked_ahead_on_threads_name_the_same_problems(setup, tmp_path: Path) -> None:
    """Signatures are checked ahead of the walk, 64 a task on two threads: over a log
    longer than the read-ahead, a forgery, an unsigned event and one signed by an unknown
    key are named at their place exactly as the one-thread walk names them."""
    from haechi.store import custody

    db, log, verifier = setup
    with db.begin() as conn:
        log.append_many(conn, [Draft("note", None, {"n": i}) for i in range(1500)])
    other = generate_keypair(tmp_path / "o.pem", tmp_path / "o.pub.pem")
    with db.begin() as conn:
        body = conn.execute(text("SELECT body FROM custody_events WHERE seq = 700")).scalar_one()
        conn.execute(
            text("UPDATE custody_events SET signature = :s WHERE seq = 700"),
            {"s": other.sign(body.encode())},
        )
        conn.execute(text("UPDATE custody_events SET signature = NULL WHERE seq = 1300"))
        conn.execute(text("UPDATE custody_events SET key_id = 'nobody' WHERE seq = 64"))
    reports = []
    for threads in (1, 2):
        with db.connect() as conn:
            reports.append(custody.verify_chain(iter_db_events(conn), verifier, threads=threads))
    one, two = reports
    assert [(p.kind, p.seq) for p in two.problems] == [
        ("forged", 64), ("forged", 700), ("unsigned", 1300)
    ]  # fmt: skip
    assert [str(p) for p in one.problems] == [str(p) for p in two.problems]
    assert one.events == two.events == 1508 and one.head_hash == two.head_hash
