"""Reviewing a face search's candidates (decisions with who and when, each a signed event,
the newest in force) and the face region shown for each: cut from the original through
the stored face box, greyscale unless colour is asked for, never the whole picture, from a
video's own keyframe too. Real dlib on scikit-image's astronaut portrait (NASA, public
domain); synthetic embeddings where the test is about the review's bookkeeping."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from sqlalchemy import select
from tests.faces.conftest import add_synthetic_faces
from tests.faces.test_video import clip

from haechi.analyze.faces import FaceAnalyzer, codec
from haechi.app import App
from haechi.domain.analysis import AnalysisInput, MediaKind
from haechi.store.models import CustodyEvent
from haechi.subjects.consent import ConsentRequest
from haechi.subjects.crops import face_crop
from haechi.subjects.model import SubjectError


def _faces(path: Path, kind: MediaKind) -> list[dict[str, object]]:
    analyzer = FaceAnalyzer()
    analyzer.setup()
    result = analyzer.analyze(AnalysisInput("0" * 64, path, path.stat().st_size, kind))
    return [s.data for s in result.signals if (s.score or 0) > 0.3]


def test_the_crop_is_her_face_not_the_picture(sqlite_app: App, tmp_path: Path) -> None:
    portrait = Image.fromarray(data.astronaut())
    buf = io.BytesIO()
    portrait.save(buf, "JPEG", quality=92)
    path = tmp_path / "portrait.jpg"
    path.write_bytes(buf.getvalue())
    (face,) = _faces(path, MediaKind.IMAGE)
    box = tuple(int(v) for v in face["box"])  # type: ignore[attr-defined]
    stored = sqlite_app.vault.put_bytes(buf.getvalue())
    grey = Image.open(io.BytesIO(face_crop(sqlite_app, stored.sha256, box, kind="image")))  # type: ignore[arg-type]
    colour = Image.open(
        io.BytesIO(face_crop(sqlite_app, stored.sha256, box, kind="image", colour=True))  # type: ignore[arg-type]
    )
    assert grey.mode == "L" and colour.mode == "RGB"
    assert 160 <= max(grey.size) <= 320
    # It is the face box with a margin (hair above, a little below the chin, never down
    # to the shoulders), cut from the original: the same pixels, far fewer of them.
    from haechi.subjects.crops import _region

    left, top, right, bottom = _region(box, 1.0, 512, 512)  # type: ignore[arg-type]
    x, y, w, h = box
    assert left < x and top < y and right > x + w and bottom > y + h
    assert bottom <= y + 1.2 * h and (right - left) * (bottom - top) < 512 * 512 / 3
    expected = portrait.crop((left, top, right, bottom)).convert("L").resize(grey.size)
    diff = np.abs(np.asarray(expected, dtype=float) - np.asarray(grey, dtype=float)).mean()
    assert diff < 8, diff
    # and dlib still finds her face in it
    crop_path = tmp_path / "crop.png"
    colour.save(crop_path)
    assert len(_faces(crop_path, MediaKind.IMAGE)) == 1


def test_a_video_candidate_is_cut_from_its_own_keyframe(sqlite_app: App, tmp_path: Path) -> None:
    portrait = data.astronaut()
    blank = np.full((512, 512, 3), 20, dtype=np.uint8)
    frames = [blank] * 20 + [portrait] * 20  # she appears after two seconds
    path = clip(tmp_path / "v.mp4", frames)
    (face,) = _faces(path, MediaKind.VIDEO)
    assert float(face["t"]) >= 1.9  # type: ignore[arg-type]
    stored = sqlite_app.vault.put_bytes(path.read_bytes())
    box = tuple(int(v) for v in face["box"])  # type: ignore[attr-defined]
    crop = Image.open(
        io.BytesIO(face_crop(sqlite_app, stored.sha256, box, kind="video", t=float(face["t"])))  # type: ignore[arg-type]
    )
    assert crop.mode == "L"
    assert np.asarray(crop).std() > 20  # a face, not the blank frames before her


@pytest.fixture
def search(sqlite_app: App) -> tuple[int, int, list[str]]:
    """A subject enrolled from a reference photo, three files whose faces are near her
    template and one far away, and a logged search: (subject id, search id, near files)."""
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import enroll_subject, subject_templates

    info, _ = enroll_subject(
        sqlite_app, label="V-REV-1", photos=[("ref.png", reference_photo())], staff="officer.kim",
        consent=ConsentRequest(given_by="Jane Roe", scope="search", given_at="2024-09-01"),
    )  # fmt: skip
    template = codec.stack(subject_templates(sqlite_app, info.id))[0]
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, (4, codec.DIM)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = np.stack([template + d * n for d, n in zip((0.2, 0.3, 0.4, 0.9), noise, strict=True)])
    shas = add_synthetic_faces(sqlite_app, vectors.astype(np.float32), tag="review")
    result = search_subject(sqlite_app, info.id, staff="officer.kim", reason="her request")
    assert {h.blob_sha256 for h in result.hits} == set(shas[:3])
    return info.id, result.search_id, shas[:3]


def test_decisions_are_recorded_once_and_the_newest_is_in_force(
    sqlite_app: App, search: tuple[int, int, list[str]]
) -> None:
    from haechi.subjects.review import candidate, confirmed_files, decide, review

    app = sqlite_app
    subject_id, search_id, shas = search
    page = review(app, search_id)
    assert [c.rank for c in page.candidates] == [1, 2, 3] and page.total == 3
    assert all(c.box == (10, 10, 100, 100) and c.face_id for c in page.candidates)
    assert [c.distance for c in page.candidates] == sorted(c.distance for c in page.candidates)
    first = page.candidates[0].blob_sha256
    assert decide(app, search_id, first, "confirmed", staff="park (web)") is True
    assert decide(app, search_id, first, "confirmed", staff="park (web)") is False  # no-op
    assert decide(app, search_id, shas[1], "rejected", staff="park (web)") is True
    assert decide(app, search_id, shas[1], "confirmed", staff="lee (web)") is True  # changed
    assert confirmed_files(app, subject_id) == [first, shas[1]]
    page = review(app, search_id)
    assert (page.confirmed, page.rejected) == (2, 0)
    assert candidate(app, search_id, shas[1]).decision.staff == "lee (web)"  # type: ignore[union-attr]
    with app.db.connect() as conn:
        bodies = [
            json.loads(b)
            for b in conn.execute(
                select(CustodyEvent.body).where(
                    CustodyEvent.event_type == "face_candidate_reviewed"
                )
            ).scalars()
        ]
    assert [(b["data"]["decision"], b["data"]["previous"]) for b in bodies] == [
        ("confirmed", None), ("rejected", None), ("confirmed", "rejected"),
    ]  # fmt: skip
    assert all(b["subject"] == f"subject:{subject_id}" for b in bodies)
    with pytest.raises(SubjectError, match="not a candidate"):
        decide(app, search_id, "f" * 64, "confirmed", staff="park (web)")
    with pytest.raises(SubjectError, match="confirmed or rejected"):
        decide(app, search_id, first, "maybe", staff="park (web)")


def test_a_deleted_subject_has_no_reviewable_candidates(
    sqlite_app: App, search: tuple[int, int, list[str]]
) -> None:
    from haechi.subjects.review import candidate, review
    from haechi.subjects.service import delete_subject

    subject_id, search_id, shas = search
    delete_subject(sqlite_app, subject_id, "officer.kim", "she withdrew")
    page = review(sqlite_app, search_id)
    assert page.total == 3 and all(c.box is None for c in page.candidates)  # no templates
    with pytest.raises(SubjectError, match="was deleted"):
        candidate(sqlite_app, search_id, shas[0])
