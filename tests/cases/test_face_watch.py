"""Re-upload watch by face, end to end on real pictures and real dlib: a portrait is posted,
reported and removed; weeks later it comes back cropped and resized (new bytes, new
hashes) in another room, and the next ingest raises it on the case through the face
templates of the removed item. The picture is scikit-image's ``astronaut`` (NASA's
public-domain portrait of Eileen Collins), as in the demo's faces step."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from skimage import data
from sqlalchemy import select
from tests.helpers import haechi
from tests.text.kit import room, write_export

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases import items, people, service
from haechi.cases.detail import case_detail
from haechi.cases.face_watch import face_matches
from haechi.cases.notices.service import draft_notice
from haechi.cases.notices.status import mark
from haechi.cases.notices.views import get_notice
from haechi.cases.watch import scan
from haechi.demo.tdesktop_format import Peer, unix_at
from haechi.store.models import CustodyEvent
from haechi.store.tables.cases import ReuploadHit, ReuploadTemplate, ReuploadWatch

pytest.importorskip("dlib")
pytest.importorskip("faiss")

POSTER = Peer("Space Photos", "channel2087650011")
TAEO = Peer("Taeo", "user5500000111")
CHANNEL_KEY = "channel:2087650011"
CHANNEL_URL = "https://t.me/space_photos_watch_demo"
VICTIM_NAME = "박하늘"  # fictional; must never reach the custody log


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def pictures() -> dict[str, bytes]:
    portrait = Image.fromarray(data.astronaut())
    return {
        "original": _jpeg(portrait, 92),
        # cropped to the face and blown up: every hash of the file changes
        "cropped": _jpeg(portrait.crop((60, 0, 380, 320)).resize((400, 400)), 80),
        # shrunk to half and recompressed hard
        "small": _jpeg(portrait.resize((256, 256), Image.Resampling.BILINEAR), 45),
        "cat": _jpeg(Image.fromarray(data.chelsea())),  # no person in it
        "coffee": _jpeg(Image.fromarray(data.coffee())),
    }


def _export(dest: Path, chat: Any, who: Peer, posts: list[tuple[str, str, bytes]]) -> Path:
    for when, text, picture in posts:
        unix = unix_at(when)
        size = Image.open(io.BytesIO(picture)).size
        chat.message(unix, who, text, media=chat.photo(unix, picture, *size))
    return write_export(dest, [chat])


def first_export(root: Path, pics: dict[str, bytes]) -> Path:
    channel = room("Space Photos", 2087650011, "public_channel")
    return _export(
        root / "first",
        channel,
        POSTER,
        [
            ("2024-08-01 10:00:00", "crew portrait", pics["original"]),
            ("2024-08-01 11:00:00", "coffee before the launch", pics["coffee"]),
        ],
    )


def later_export(root: Path, pics: dict[str, bytes]) -> Path:
    swap = room("Photo Swap", 2012340011)
    return _export(
        root / "later",
        swap,
        TAEO,
        [
            ("2024-08-10 21:10:00", "saved this one", pics["cropped"]),
            ("2024-08-11 08:00:00", "smaller copy", pics["small"]),
            ("2024-08-11 08:05:00", "the same file again", pics["original"]),
            ("2024-08-11 08:20:00", "office cat", pics["cat"]),
        ],
    )


def ingest_like_the_cli(app: App, export: Path) -> dict[str, object]:
    """What ``haechi ingest`` does: ingest, analyse (the faces analyzer is the one that
    matters here), then the after-ingest hooks, among them the re-upload watch."""
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.hooks import run_ingest_hooks

    report = run_ingest(app, export, quiet=True)
    assert run_analysis(app, ["faces"], quiet=True).as_dict()["ok"] > 0
    return run_ingest_hooks(app, report)


def removed_case(app: App) -> tuple[str, int, int]:
    """A case with the channel's portrait post, reported to Telegram and removed on
    2 August; returns (case ref, the portrait's item id, the notice id)."""
    case = service.create_case(app, "Portrait re-posts", reported_on="2024-08-01")
    items.add_chat(app, case.ref, CHANNEL_KEY, url=CHANNEL_URL)
    added = items.add_message(app, case.ref, chat=CHANNEL_KEY, message_id=1)
    portrait = next(a.id for a in added[1:])  # the message's file
    label = people.add_victim(app, case.ref, display_name=VICTIM_NAME, age=30)
    people.record_consent(app, case.ref, label, "takedown", given_by="subject")
    notice = draft_notice(app, case.ref, "telegram", "en", item_ids=[portrait]).notice
    mark(app, notice.id, "sent", at="2024-08-01T12:00+09:00")
    mark(app, notice.id, "removed", at="2024-08-02T00:00+09:00")
    return case.ref, portrait, notice.id


def watched(app: App) -> list[str]:
    with app.db.connect() as conn:
        return list(conn.execute(select(ReuploadWatch.method)).scalars())


def custody(app: App, event_type: str) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == event_type)
        ).scalars()
        return [json.loads(b)["data"] for b in bodies]


def test_an_altered_repost_is_found_by_its_face(app: App, tmp_path: Path) -> None:
    pics = pictures()
    sha = {name: hashlib.sha256(b).hexdigest() for name, b in pics.items()}
    ingest_like_the_cli(app, first_export(tmp_path, pics))
    ref, portrait, notice_id = removed_case(app)

    # The removal put the portrait's face on watch: its template, never its picture.
    with app.db.connect() as conn:
        templates = conn.execute(select(ReuploadTemplate)).all()
        face_watches = conn.execute(
            select(ReuploadWatch).where(ReuploadWatch.method == "face")
        ).all()
    assert len(templates) == 1 and len(face_watches) == 1
    (template,) = templates
    assert template.blob_sha256 == sha["original"] and len(template.embedding) == 128 * 4
    assert face_watches[0].case_item_id == portrait
    assert face_watches[0].value == hashlib.sha256(bytes(template.embedding)).hexdigest()
    added = [d for d in custody(app, ev.WATCH_ADDED) if d.get("method") == "face"]
    assert added[0]["templates"] == [
        {
            "item_id": portrait,
            "template_sha256": face_watches[0].value,
            "blob_sha256": sha["original"],
        }
    ]

    # Nine days later the portrait comes back in another room, altered; the next ingest
    # (its analysis, then its hooks) raises it on the case.
    hooks = ingest_like_the_cli(app, later_export(tmp_path, pics))
    summary = hooks["cases"]
    assert isinstance(summary, dict) and (summary["hits"], summary["reuploads"]) == (3, 3), hooks
    found = {h.blob_sha256: h for h in hits_of(app)}
    assert set(found) == {sha["cropped"], sha["small"], sha["original"]}  # no cat
    assert found[sha["original"]].method == "sha256"  # the same bytes: the exact watch
    for name in ("cropped", "small"):
        hit = found[sha[name]]
        assert hit.method == "face" and hit.kind == "reupload", name
        assert 0 <= hit.score < 0.55, (name, hit.score)  # the calibrated threshold
    assert found[sha["cropped"]].score < found[sha["small"]].score  # a crop is closer

    detail = case_detail(app, ref)
    new = {i.blob_sha256: i for i in detail.items if i.reupload_of == portrait}
    assert set(new) == set(found)
    notice = get_notice(app, notice_id)
    assert notice.status == "reuploaded"
    assert notice.reuploaded_unix == unix_at("2024-08-10 21:10:00")  # the first re-post

    detected = [d for d in custody(app, ev.REUPLOAD_DETECTED) if d["method"] == "face"]
    assert {d["blob_sha256"] for d in detected} == {sha["cropped"], sha["small"]}
    assert all(d["template_sha256"] == face_watches[0].value for d in detected)
    assert all(0 <= d["distance"] < 0.55 for d in detected)
    with app.db.connect() as conn:
        log = "".join(str(b) for b in conn.execute(select(CustodyEvent.body)).scalars())
    escaped = json.dumps(VICTIM_NAME)[1:-1]  # as JSON with ensure_ascii would write it
    assert VICTIM_NAME not in log and escaped not in log

    assert scan(app).hits == []  # raised once


def hits_of(app: App) -> list[object]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(
                    ReuploadHit.blob_sha256,
                    ReuploadHit.kind,
                    ReuploadHit.score,
                    ReuploadWatch.method,
                ).join(ReuploadWatch, ReuploadWatch.id == ReuploadHit.watch_id)
            ).all()
        )


def test_faces_analysed_after_the_removal_are_watched_too(sqlite_app: App, tmp_path: Path) -> None:
    """Removal first, analysis later: the next scan takes the templates up, and the
    threshold is the calibrated one (a face at 0.54 is a candidate, one at 0.56 is not)."""
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest

    app = sqlite_app
    pics = pictures()
    run_ingest(app, first_export(tmp_path, pics), quiet=True)
    run_ingest(app, later_export(tmp_path, pics), quiet=True)
    removed_case(app)
    first = scan(app)
    assert [h.method for h in first.hits] == ["sha256"]  # the same bytes; no faces known yet
    assert watched(app).count("face") == 0
    run_analysis(app, ["faces"], quiet=True)
    second = haechi("notice", "watch", home=app.settings.home)  # the real command
    assert second.returncode == 0, second.stderr
    raised = [line for line in second.stdout.splitlines() if line.startswith("reupload (face, ")]
    assert len(raised) == 2, second.stdout
    assert f"{first.watches + 1} watches, 2 new hits" in second.stdout
    assert watched(app).count("face") == 1

    from tests.faces.conftest import add_synthetic_faces

    with app.db.connect() as conn:
        (watch_id, raw) = conn.execute(
            select(ReuploadTemplate.watch_id, ReuploadTemplate.embedding)
        ).one()
    template = np.frombuffer(bytes(raw), dtype="<f4").astype(np.float32)
    direction = np.random.default_rng(7).normal(size=template.shape).astype(np.float32)
    direction /= np.linalg.norm(direction)
    near, far = add_synthetic_faces(
        app, np.stack([template + 0.54 * direction, template + 0.56 * direction]), tag="watch"
    )
    matched = face_matches(app)[watch_id]
    assert near in matched and matched[near] == pytest.approx(0.54, abs=1e-4)
    assert far not in matched
