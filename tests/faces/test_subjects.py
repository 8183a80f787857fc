"""Subjects, consent and deletion on both back ends, with real templates from real dlib."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import orjson
import pytest
from PIL import Image
from skimage import data
from sqlalchemy import select
from tests.faces.conftest import png

from haechi.app import App
from haechi.run.verify import verify
from haechi.store.models import CustodyEvent
from haechi.store.tables.faces import Consent, Subject, SubjectPhoto, SubjectTemplate
from haechi.subjects import photos as photo_store
from haechi.subjects.consent import ConsentRequest, record_consent, withdraw_consent
from haechi.subjects.model import SubjectError, today
from haechi.subjects.search import search_probe, search_subject
from haechi.subjects.service import delete_subject, enroll_subject, get_subject


def consent(scope: str = "search,link", **kw: str) -> ConsentRequest:
    return ConsentRequest(given_by="Jane Roe", scope=scope, given_at="2024-09-01", **kw)


def events(app: App, kind: str) -> list[dict]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == kind)
        ).scalars()
        return [orjson.loads(b) for b in bodies]


def test_enrolment_keeps_templates_only_by_default(app: App, reference_png: bytes) -> None:
    info, warnings = enroll_subject(
        app, label="V-2024-017", photos=[("ref.png", reference_png)], consent=consent(),
        staff="officer.kim", display_name="Jane Roe",
    )  # fmt: skip
    assert warnings == []
    assert info.label == "V-2024-017" and len(info.templates) == 1 and info.photos == 0
    assert not info.templates[0].photo_kept
    assert not (app.settings.home / "subjects" / "photos").exists()
    (c,) = info.consents
    assert (
        c.given_by == "Jane Roe"
        and c.recorded_by == "officer.kim"
        and c.scope == ["search", "link"]
    )
    (enrolled,) = events(app, "subject_enrolled")
    text = orjson.dumps(enrolled).decode()
    assert "Jane Roe" not in text  # names never enter the permanent log
    assert enrolled["data"]["templates"] == 1 and enrolled["subject"] == f"subject:{info.id}"
    assert events(app, "consent_recorded")[0]["data"]["recorded_by"] == "officer.kim"
    assert get_subject(app, "V-2024-017") == get_subject(app, info.id)
    assert verify(app).ok


def test_kept_photos_are_encrypted_and_deletion_removes_everything(
    app: App, reference_png: bytes
) -> None:
    info, _ = enroll_subject(
        app, label="V-1", photos=[("ref.png", reference_png)],
        consent=consent("search,keep_photos"), staff="officer.kim", display_name="Jane Roe",
        notes="came forward on 2024-09-01",
    )  # fmt: skip
    assert info.photos == 1 and info.templates[0].photo_kept
    with app.db.connect() as conn:
        stored = conn.execute(select(SubjectPhoto.stored_name)).scalar_one()
    path = app.settings.home / "subjects" / "photos" / stored
    raw = path.read_bytes()
    assert b"PNG" not in raw[:64] and raw.startswith(b"HAECHIV1")
    assert photo_store.read_photo(app, stored) == reference_png
    summary = delete_subject(app, info.id, "officer.lee", "she withdrew her consent")
    assert summary == {"templates": 1, "photos": 1, "clusters_unlinked": 0}
    assert not path.exists()
    with app.db.connect() as conn:
        assert conn.execute(select(SubjectTemplate.id)).all() == []
        assert conn.execute(select(SubjectPhoto.id)).all() == []
        row = conn.execute(select(Subject.__table__)).one()
        assert row.status == "deleted" and row.display_name is None and row.notes is None
        (consent_row,) = conn.execute(select(Consent.__table__)).all()
        assert consent_row.withdrawn_at and "Jane" not in consent_row.given_by
    (deleted,) = events(app, "subject_deleted")
    assert deleted["data"]["reason"] == "she withdrew her consent" and deleted["actor"]
    with pytest.raises(SubjectError, match="deleted"):
        search_subject(app, info.id, staff="x", reason="after deletion")
    assert verify(app).ok


def test_consent_rules_are_enforced(app: App, reference_png: bytes) -> None:
    photos = [("ref.png", reference_png)]
    future = (today() + timedelta(days=3)).isoformat()
    past = (today() - timedelta(days=3)).isoformat()
    with pytest.raises(SubjectError, match="future"):
        enroll_subject(
            app, label="A", photos=photos, consent=ConsentRequest("J", "search", future), staff="s"
        )
    with pytest.raises(SubjectError, match="already ended"):
        enroll_subject(app, label="A", photos=photos, consent=consent(valid_until=past), staff="s")
    with pytest.raises(SubjectError, match="Unknown consent scope"):
        enroll_subject(
            app, label="A", photos=photos, consent=consent("search,everything"), staff="s"
        )
    with pytest.raises(SubjectError, match="case code"):
        enroll_subject(app, label="Jane Roe", photos=photos, consent=consent(), staff="s")
    info, _ = enroll_subject(app, label="B", photos=photos, consent=consent("link"), staff="s")
    with pytest.raises(SubjectError, match="no active consent to search"):
        search_subject(app, info.id, staff="s", reason="looking for her")
    granted = record_consent(app, info.id, consent("search"), "officer.kim")
    assert search_subject(app, info.id, staff="s", reason="looking for her").hits == []
    with pytest.raises(SubjectError, match="Give the reason for this search"):
        search_subject(app, info.id, staff="s", reason=" ")
    with pytest.raises(SubjectError, match="between"):
        search_subject(app, info.id, staff="s", reason="too loose", threshold=0.95)
    withdraw_consent(app, info.id, granted.id, "officer.kim")
    with pytest.raises(SubjectError, match="no active consent"):
        search_subject(app, info.id, staff="s", reason="looking again")
    with pytest.raises(SubjectError, match="basis"):
        search_probe(app, ("probe.png", reference_png), staff="s", reason="a probe", basis="")


def test_photos_without_a_clear_single_face_are_refused(app: App) -> None:
    coffee = png(data.coffee())
    with pytest.raises(SubjectError, match="No face was found"):
        enroll_subject(
            app, label="C", photos=[("coffee.png", coffee)], consent=consent(), staff="s"
        )
    face = Image.fromarray(data.astronaut()).crop((120, 20, 320, 240))
    pair = Image.new("RGB", (400, 220))
    pair.paste(face, (0, 0))
    pair.paste(face, (200, 0))
    with pytest.raises(SubjectError, match="2 faces of similar size"):
        enroll_subject(
            app,
            label="C",
            photos=[("pair.png", png(np.asarray(pair)))],
            consent=consent(),
            staff="s",
        )
    with pytest.raises(SubjectError, match="not a readable picture"):
        enroll_subject(
            app, label="C", photos=[("x.jpg", b"\xff\xd8junk" * 10)], consent=consent(), staff="s"
        )
    with app.db.connect() as conn:
        assert conn.execute(select(Subject.id)).all() == []  # nothing half-written


def test_withdrawing_the_photo_consent_deletes_the_photos(app: App, reference_png: bytes) -> None:
    info, _ = enroll_subject(
        app, label="V-2", photos=[("ref.png", reference_png)],
        consent=consent("search,keep_photos"), staff="officer.kim",
    )  # fmt: skip
    folder = app.settings.home / "subjects" / "photos"
    assert len(list(folder.iterdir())) == 1
    withdraw_consent(app, info.id, info.consents[0].id, "officer.kim")
    assert list(folder.iterdir()) == []
    after = get_subject(app, info.id)
    assert after is not None and after.photos == 0 and len(after.templates) == 1
    assert events(app, "subject_photos_deleted")[0]["data"]["photo_sha256"] == [
        info.templates[0].photo_sha256
    ]
