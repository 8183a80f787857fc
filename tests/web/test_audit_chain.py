"""The audit trail is tamper-evident: `haechi verify` names deleted, altered and reordered
entries, edited columns, and the cross-references between the trail and the custody log.

Each test first writes a real trail through the services the web application uses
(searches, logins, a reveal with its custody event), then tampers with the database the
way someone with write access to it could, then verifies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.helpers import haechi

from haechi.app import App
from haechi.auth import audit
from haechi.auth.types import Actor
from haechi.run.verify import verify

INVESTIGATOR = Actor(None, "lee", "investigator", via="web", ip="10.0.0.7")


def _write_trail(app: App, n: int = 6) -> None:
    for i in range(n):
        audit.record(app, INVESTIGATOR, audit.SEARCH, None, {"q": f"query {i}", "results": i})


def _problems(app: App) -> list[str]:
    report = verify(app, record=False)
    return report.audit.all_problems()


def test_an_untouched_trail_verifies(app: App) -> None:
    _write_trail(app)
    report = verify(app, record=False)
    assert report.audit.ok, report.audit.all_problems()
    assert report.audit.chain.events == 6 and report.audit.chain.head_seq == 6
    assert report.ok
    entries = audit.entries(app)
    assert [e.seq for e in entries] == [6, 5, 4, 3, 2, 1]
    assert entries[0].detail == {"q": "query 5", "results": 5}


def test_a_deleted_entry_is_named(app: App) -> None:
    _write_trail(app)
    with app.db.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    problems = _problems(app)
    assert any(p.startswith("audit trail: missing: audit entry 3") for p in problems), problems
    assert not verify(app, record=False).ok


def test_an_altered_body_is_named(app: App) -> None:
    _write_trail(app)
    with app.db.begin() as conn:
        body = conn.execute(text("SELECT body FROM audit_log WHERE seq = 2")).scalar_one()
        conn.execute(
            text("UPDATE audit_log SET body = :b WHERE seq = 2"),
            {"b": body.replace("query 1", "query X")},
        )
    problems = _problems(app)
    assert any("altered: audit entry 2" in p for p in problems), problems
    assert any("forged: audit entry 2" in p for p in problems), problems


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", 946684800),  # backdated
        ("at_iso", "2000-01-01T00:00:00Z"),
        ("action", "login"),  # hidden from the auditor's filter on searches
        ("username", "someone_else"),
        ("subject", "elsewhere"),
        ("detail_json", '{"q": "harmless"}'),
    ],
)
def test_an_edited_column_is_named_and_never_shown(app: App, column: str, value: object) -> None:
    _write_trail(app)
    with app.db.begin() as conn:
        conn.execute(text(f"UPDATE audit_log SET {column} = :v WHERE seq = 4"), {"v": value})
    problems = _problems(app)
    named = [p for p in problems if "altered: audit entry 4" in p and repr(column) in p]
    assert named, problems
    # The page reads the signed body, so the edit does not show there.
    shown = next(e for e in audit.entries(app, limit=500) if e.seq == 4)
    assert shown.action == audit.SEARCH and shown.username == "lee"
    assert shown.detail == {"q": "query 3", "results": 3}
    assert shown.at_iso != "2000-01-01T00:00:00Z" and shown.at != 946684800


def test_swapped_entries_are_named(app: App) -> None:
    _write_trail(app)
    cols = "seq, body, prev_hash, hash, signature, key_id, at, at_iso, action, detail_json"
    with app.db.begin() as conn:
        r2 = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 2")).one()
        r5 = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 5")).one()
        sets = ", ".join(f"{c.strip()} = :{c.strip()}" for c in cols.split(","))
        conn.execute(text("UPDATE audit_log SET seq = NULL WHERE seq IN (2, 5)"))
        conn.execute(text(f"UPDATE audit_log SET {sets} WHERE id = 2"), dict(r5._mapping))
        conn.execute(text(f"UPDATE audit_log SET {sets} WHERE id = 5"), dict(r2._mapping))
    problems = _problems(app)
    assert any("reordered: audit entry" in p for p in problems), problems


def test_a_deleted_reveal_entry_is_named_through_its_custody_event(app: App) -> None:
    """Removing the audit row of a reveal (and re-chaining nothing) is named because the
    signed custody event of the reveal names the entry."""
    _write_trail(app, 2)
    with app.db.begin() as conn:
        audit.record_in(app, conn, INVESTIGATOR, audit.REVEAL, "ab" * 32, {"sha256": "ab" * 32})
    _write_trail(app, 2)
    with app.db.connect() as conn:
        seq, custody_seq = conn.execute(
            text("SELECT seq, custody_seq FROM audit_log WHERE action = 'reveal'")
        ).one()
        event = json.loads(
            conn.execute(
                text("SELECT body FROM custody_events WHERE seq = :s"), {"s": custody_seq}
            ).scalar_one()
        )
    assert event["type"] == "access" and event["data"]["audit_seq"] == seq
    assert verify(app, record=False).audit.ok
    with app.db.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
    problems = _problems(app)
    assert any(
        f"missing: audit entry {seq} is named by custody event {custody_seq}" in p for p in problems
    ), problems


def test_entries_cut_from_the_end_are_named_by_the_last_verification(app: App) -> None:
    """The newest entries are the ones someone wants gone (their own reveal, their failed
    logins); the verification event records the head it vouched for."""
    _write_trail(app, 5)
    assert verify(app).ok  # records a verification event with the audit head (5)
    with app.db.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 4"))
    problems = _problems(app)
    assert any("the audit trail ends before entry 5" in p for p in problems), problems


def test_custody_events_cut_from_the_end_are_named_by_the_trail(app: App) -> None:
    with app.db.begin() as conn:
        audit.record_in(app, conn, INVESTIGATOR, audit.REVEAL, "cd" * 32, {"sha256": "cd" * 32})
    _write_trail(app, 1)  # sees the reveal's custody event as the head
    with app.db.connect() as conn:
        head = conn.execute(text("SELECT MAX(seq) FROM custody_events")).scalar_one()
    with app.db.begin() as conn:
        conn.execute(text("DELETE FROM custody_events WHERE seq = :s"), {"s": head})
    report = verify(app, record=False)
    problems = report.audit.all_problems()
    assert any(f"the custody log ends before event {head}" in p for p in problems), problems
    assert not report.ok


def test_verify_cli_names_audit_problems(app: App, home: Path) -> None:
    _write_trail(app, 3)
    with app.db.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    proc = haechi("verify", "--json", home=home)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert any("missing: audit entry 2" in p for p in data["audit_problems"])
    assert data["audit_entries"] == 2


def test_the_custody_log_page_shows_the_signed_event_not_its_columns(app: App) -> None:
    """Backdating a reveal's `at` column (or renaming its type) changes nothing an auditor
    reads: pages show the signed body; `verify` names the edited columns."""
    from haechi.services import custody as custody_view

    with app.db.begin() as conn:
        audit.record_in(app, conn, INVESTIGATOR, audit.REVEAL, "ef" * 32, {"sha256": "ef" * 32})
    with app.db.connect() as conn:
        seq, at = conn.execute(
            text("SELECT seq, at FROM custody_events WHERE event_type = 'access'")
        ).one()
    with app.db.begin() as conn:
        conn.execute(
            text("UPDATE custody_events SET at = '2001-01-01T00:00:00.000000Z' WHERE seq = :s"),
            {"s": seq},
        )
    shown = next(e for e in custody_view.log(app, subject="ef" * 32).events if e.seq == seq)
    assert shown.at == at and shown.event_type == "access"
    report = verify(app, record=False)
    assert any(p.seq == seq and "'at'" in p.detail for p in report.chain.problems)
