"""Her case from the files confirmed as hers: opened once, extended later without a second
victim or a second consent, every message that carried a file as an item, what a person
can get wrong refused before anything is written, and the acting person's name on it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from haechi.app import App
from haechi.cases.acting import acting_as
from haechi.cases.detail import case_detail
from haechi.cases.for_subject import VictimDetails, case_for_subject, cases_of_subject
from haechi.cases.model import CaseError, ConsentScope
from haechi.cases.service import list_cases

pytest.importorskip("dlib")


@pytest.fixture
def subject_files(app: App, tmp_path: Path) -> list[str]:
    """The faces demo export ingested, and subject V-2024-017 enrolled; returns the
    SHA-256 of the original portrait and of its cropped re-post."""
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.faces_export import build_faces_export, reference_photo, variants
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.service import enroll_subject

    run_ingest(app, build_faces_export(tmp_path / "export"), quiet=True)
    enroll_subject(
        app, label="V-2024-017", photos=[("ref.png", reference_photo())], staff="park (web)",
        consent=ConsentRequest(given_by="Jane Roe", scope="search", given_at="2024-09-01"),
    )  # fmt: skip
    v = variants()
    return [hashlib.sha256(v[name][0]).hexdigest() for name in ("original", "cropped")]


def test_open_then_extend_her_case(app: App, subject_files: list[str]) -> None:
    park = acting_as(app, "park (web)")
    victim = VictimDetails(age=24, consent_given_by="subject", consent_at="2024-09-01")
    first = case_for_subject(
        park, subject_label="V-2024-017", files=subject_files[:1], victim=victim
    )
    assert first.created_case and first.created_victim and first.items_added == 1
    again = case_for_subject(
        park, subject_label="V-2024-017", files=subject_files, victim=victim, case=first.case_ref
    )
    assert not again.created_case and not again.created_victim
    assert again.victim_label == first.victim_label == "V1"
    assert again.items_added == 1  # the original was in it already
    detail = case_detail(app, first.case_ref)
    (v,) = detail.victims
    assert v.faces_subject_ref == "V-2024-017" and v.age_band == "20s"
    scopes = sorted(c.scope for c in v.consents)
    assert scopes == [ConsentScope.FACE_SEARCH.value, ConsentScope.TAKEDOWN.value]
    assert {i.blob_sha256 for i in detail.active_items()} == set(subject_files)
    assert all(i.message_pk for i in detail.active_items())  # each place it was posted
    assert detail.created_by == "park (web)"
    assert [c.ref for c in cases_of_subject(app, "V-2024-017")] == [first.case_ref]


def test_what_a_person_can_get_wrong_changes_nothing(app: App, subject_files: list[str]) -> None:
    park = acting_as(app, "park (web)")
    young = VictimDetails(age=12, consent_given_by="subject")
    with pytest.raises(CaseError, match="guardian"):
        case_for_subject(park, subject_label="V-2024-017", files=subject_files, victim=young)
    with pytest.raises(CaseError, match="No stored file"):
        case_for_subject(park, subject_label="V-2024-017", files=["0" * 64], victim=VictimDetails())
    with pytest.raises(CaseError, match="Confirm at least one"):
        case_for_subject(park, subject_label="V-2024-017", files=[], victim=VictimDetails())
    assert list_cases(app) == []


def test_one_transaction_whatever_the_number_of_files(app: App, subject_files: list[str]) -> None:
    """The case, her victim record, consents, link and every file commit once, in as many
    statements for two files as for one (but an INSERT a row; it was a transaction and
    five statements a file); a failure half-way (no faces subject to link) leaves no case."""
    from sqlalchemy import event

    counts = {"commits": 0, "statements": 0}

    def on_commit(_conn: object) -> None:
        counts["commits"] += 1

    def on_statement(*_args: object) -> None:
        counts["statements"] += 1

    event.listen(app.db.engine, "commit", on_commit)
    event.listen(app.db.engine, "before_cursor_execute", on_statement)
    park = acting_as(app, "park (web)")
    victim = VictimDetails(age=24, consent_given_by="subject", consent_at="2024-09-01")
    seen = []
    for files in (subject_files[:1], subject_files):
        counts.update(commits=0, statements=0)
        done = case_for_subject(park, subject_label="V-2024-017", files=files, victim=victim)
        assert done.items_added == len(files)
        seen.append(dict(counts))
    assert seen[0]["commits"] == seen[1]["commits"] == 1
    # SQLite's driver may run a many-row INSERT ... RETURNING a row at a time: at most that.
    assert seen[1]["statements"] - seen[0]["statements"] <= 1
    before = {c.ref for c in list_cases(app)}
    with pytest.raises(CaseError):
        case_for_subject(park, subject_label="NO-SUCH-SUBJECT", files=subject_files, victim=victim)
    assert {c.ref for c in list_cases(app)} == before
