"""The support worker's whole job through the web application's routes, on the real
services, real dlib and both database back ends: enrol a consenting subject from a
reference photo, search for her face, look at each candidate's face region (one logged act
each), confirm them, open her case, draft the takedown notice, download it, mark it sent
and removed, and see the re-upload watch catch a re-post on the case page. Every step is
recorded under the support worker's name, in the audit trail and the custody log."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import (
    add_staff,
    custody_events,
    enrol,
    face_search,
    form_key,
    load_faces_demo,
)

from haechi.app import App
from haechi.auth import audit
from haechi.cases.model import ConsentScope
from haechi.services import integrations
from haechi.web.settings import WebSettings

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not (integrations.available("subjects") and integrations.available("cases")),
    reason="the faces and cases capabilities are not installed",
)
COUNSELLOR = "park"


def repost_export(tmp: Path) -> Path:
    """A later export: another room re-posts the portrait, cropped and recompressed (new
    bytes: only her face can find it), with a picture of no one."""
    from skimage import data
    from tests.text.kit import room, write_export

    from haechi.demo.tdesktop_format import Peer, unix_at

    def jpeg(img: Image.Image, quality: int) -> bytes:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    portrait = Image.fromarray(data.astronaut())
    posts = [
        ("2024-09-20 22:00:00", jpeg(portrait.crop((40, 10, 400, 370)).resize((300, 300)), 77)),
        ("2024-09-20 22:05:00", jpeg(Image.fromarray(data.rocket()), 70)),
    ]
    chat = room("New Room", 2012349901)
    who = Peer("Someone", "user5500009901")
    for when, picture in posts:
        unix = unix_at(when)
        size = Image.open(io.BytesIO(picture)).size
        chat.message(unix, who, "again", media=chat.photo(unix, picture, *size))
    return write_export(tmp / "repost", [chat])


@pytest.fixture
def counsellor(app: App, tmp_path: Path) -> App:
    load_faces_demo(app, tmp_path)
    add_staff(app, COUNSELLOR, "support_worker")
    return app


def test_the_counsellors_whole_flow(counsellor: App, tmp_path: Path) -> None:
    from haechi.demo.faces_export import reference_photo, variants

    app = counsellor
    with client_of(app, WebSettings(run_jobs=False)) as web:
        csrf = log_in(web, COUNSELLOR)

        # -- enrol: a reference photo and her consent; templates only (no keep_photos)
        status, page = enrol(web, csrf, reference_photo())
        assert status == 200 and 'id="subject-title"' in page, page
        assert "김하늘" not in page  # the consenting person's name is never shown
        sid = int(re.search(r'action="/subjects/(\d+)/search"', page).group(1))  # type: ignore[union-attr]
        from haechi.subjects.service import get_subject

        info = get_subject(app, sid)
        assert info is not None and len(info.templates) == 1 and info.photos == 0
        enrolled = custody_events(app, "subject_enrolled")[-1]
        assert enrolled["actor"] == "park (web)" and enrolled["data"]["staff"] == "park (web)"

        # -- a face search needs a reason; then its candidates' review page
        r = web.post(f"/subjects/{sid}/search", data={"csrf_token": csrf, "reason": "x"})
        assert r.status_code == 400 and 'id="subject-error"' in r.text
        r = face_search(web, csrf, sid, "she asked us to find her photos")
        assert r.status_code == 303 and r.headers["location"].startswith("/face-searches/")
        review_url = r.headers["location"]
        search_id = int(review_url.rsplit("/", 1)[1])
        review = web.get(review_url).text
        expected = {hashlib.sha256(v[0]).hexdigest() for v in variants().values()}
        shown = set(re.findall(r'data-sha="([0-9a-f]{64})"', review))
        assert shown == expected  # all five re-posts, no cat, no coffee
        assert "face-crop" not in review and "/original" not in review  # nothing shown yet
        searches = audit.entries(app, action=audit.FACE_SEARCH)
        assert [e.username for e in searches] == ["park", "park"]  # the refusal too

        # -- each face is one logged act; the picture is the face region, greyscale
        original = hashlib.sha256(variants()["original"][0]).hexdigest()
        base = f"/face-searches/{search_id}/candidates/{original}"
        assert web.get(f"{base}/face.jpg").status_code == 403  # not before the act
        part = web.post(f"{base}/show", headers={"x-csrf-token": csrf}).text
        src = re.search(r'class="face-crop grey"[^>]*src="([^"]+)"', part)
        assert src, part
        picture = web.get(src.group(1).replace("&amp;", "&"))
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
        assert "no-store" in picture.headers["cache-control"]
        face = Image.open(io.BytesIO(picture.content))
        assert face.mode == "L" and max(face.size) <= 320
        portrait = Image.open(io.BytesIO(variants()["original"][0]))
        assert face.width * face.height < portrait.width * portrait.height / 3  # not the body
        # colour is asked for separately and logged again
        part = web.post(f"{base}/show", data={"colour": "true"}, headers={"x-csrf-token": csrf})
        colour = re.search(r'class="face-crop"[^>]*src="([^"]+)"', part.text)
        assert colour and Image.open(io.BytesIO(
            web.get(colour.group(1).replace("&amp;", "&")).content)).mode == "RGB"  # fmt: skip
        # a grey grant does not open the colour picture
        forged = src.group(1).replace("&amp;", "&").replace("colour=0", "colour=1")
        assert web.get(forged).status_code == 403
        looks = [e for e in audit.entries(app, action=audit.REVEAL) if e.subject == original]
        assert [e.detail["colour"] for e in looks] == [True, False]
        assert all(e.detail["view"] == "face_region" and e.custody_seq for e in looks)
        access = [e for e in custody_events(app, "access") if e["subject"] == original]
        assert len(access) == 2 and access[0]["actor"] == "park (web)"

        # -- confirm every candidate (twice: the second adds nothing), reject none
        for sha in sorted(expected):
            for _ in range(2):
                r = web.post(
                    f"/face-searches/{search_id}/candidates/{sha}/decision",
                    data={"decision": "confirmed"}, headers={"x-csrf-token": csrf},
                )  # fmt: skip
                assert r.status_code == 200 and "decided-confirmed" in r.text
        reviewed = custody_events(app, "face_candidate_reviewed")
        assert len(reviewed) == 5 and {e["data"]["staff"] for e in reviewed} == {"park (web)"}

        # -- her case, from the confirmed files; a double submit opens one case
        review = web.get(review_url).text
        key = form_key(review, f"/face-searches/{search_id}/case")
        form = {"csrf_token": csrf, "key": key, "age": "24", "given_by": "subject",
                "method": "written", "consent_on": "2024-09-01"}  # fmt: skip
        first = web.post(f"/face-searches/{search_id}/case", data=form)
        again = web.post(f"/face-searches/{search_id}/case", data=form)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        case_url = first.headers["location"]
        from haechi.cases.detail import case_detail
        from haechi.cases.service import list_cases

        assert len(list_cases(app)) == 1
        ref = case_url.rsplit("/", 1)[1]
        detail = case_detail(app, ref)
        assert {i.blob_sha256 for i in detail.active_items()} == expected
        (victim,) = detail.victims
        assert victim.faces_subject_ref == "V-2024-017"
        assert victim.consents_to(ConsentScope.TAKEDOWN)
        created = custody_events(app, "case_created")[-1]
        assert created["actor"] == "park (web)"
        page = web.get(case_url).text
        assert 'id="case-title"' in page and "reupload-hit" not in page
        assert "custody-case_created" not in page  # the trail is for custody.read roles

        # -- the takedown notice: Telegram, in Korean; downloaded as .eml (logged)
        key = form_key(page, f"/cases/{ref}/notices")
        r = web.post(f"/cases/{ref}/notices",
                     data={"csrf_token": csrf, "key": key, "recipient": "telegram",
                           "language": "ko"})  # fmt: skip
        assert r.status_code == 303
        notice_url = r.headers["location"]
        notice_page = web.get(notice_url).text
        assert "abuse@telegram.org" in notice_page  # an adult: the abuse address
        eml = web.get(f"{notice_url}/notice.eml")
        assert eml.status_code == 200 and b"X-Unsent: 1" in eml.content
        exports = [e for e in audit.entries(app, action=audit.EXPORT)]
        assert exports[0].detail["kind"] == "notice_eml" and exports[0].custody_seq
        assert exports[0].detail["sha256"] == hashlib.sha256(eml.content).hexdigest()

        # -- sent and removed, at the times they happened (KST)
        for status, day, at in (
            ("sent", "2024-09-03", "10:00"),
            ("removed", "2024-09-04", "16:30"),
        ):
            form = {"csrf_token": csrf, "status": status, "day": day, "time": at, "zone": "KST"}
            r = web.post(f"{notice_url}/mark", data=form)
            assert r.status_code == 303, r.text
            assert web.post(f"{notice_url}/mark", data=form).status_code == 303  # no change
        from haechi.cases.notices.views import get_notice

        notice = get_notice(app, int(notice_url.rsplit("/", 1)[1]))
        assert notice.status == "removed" and notice.hours_to_removal == pytest.approx(30.5)
        marks = [e for e in custody_events(app, "notice_status")]
        assert [e["data"]["to"] for e in marks] == ["sent", "removed"]
        assert {e["actor"] for e in marks} == {"park (web)"}

        # -- weeks later the portrait comes back, cropped (new bytes): caught by her face
        from tests.cases.test_face_watch import ingest_like_the_cli

        ingest_like_the_cli(app, repost_export(tmp_path))
        page = web.get(case_url).text
        hits = re.findall(r'<tr class="reupload-hit hit-(\w+)">', page)
        assert hits and set(hits) == {"reupload"}, page
        assert "same face" in page
        assert web.get(notice_url).text.count("re-uploaded") >= 1

    # every change is on the audit trail, under her account, once
    did = {(e.action, e.detail.get("did")) for e in audit.entries(app, username="park", limit=500)}
    assert {
        ("subject_change", "subject_enrol"), ("face_review", "confirmed"),
        ("case_change", "case_from_search"), ("notice_change", "notice_draft"),
        ("notice_change", "notice_sent"), ("notice_change", "notice_removed"),
    } <= did  # fmt: skip
    reviews = audit.entries(app, action="face_review", limit=500)
    assert len(reviews) == 5  # five candidates, each confirmed once (the repeats added nothing)
    (opened,) = audit.entries(app, action="case_change", limit=500)
    assert opened.subject == f"case:{ref}"
    # what the counsellor did to the case carries her name, never the server's account
    mine = ("case_created", "case_subject_added", "consent_recorded", "case_subject_updated",
            "notice_drafted", "notice_status")  # fmt: skip
    events = [
        e for t in mine for e in custody_events(app, t) if e["subject"] == f"case:{detail.id}"
    ]
    by_watch = [e for e in events if e["data"].get("to") == "reuploaded"]
    assert len(events) >= 8 and len(by_watch) == 1
    assert {e["actor"] for e in events if e not in by_watch} == {"park (web)"}
