"""Pictures and videos hashed into a bank from its page and the API, as ``haechi bank add
<files>``: the same service (``bank_sources.add_files``) hashes them and keeps only md5,
SHA-256 and PDQ (never the file: nothing is left in the data directory's scratch space),
the custody event and the audit entry name the person, the same file again adds nothing,
anything but a picture or a video and more than the bounded count are refused with one
sentence, and anonymous visitors and every role without ``review.write`` are refused.
Benign generated pictures only. One data directory for the module."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, form_key

from haechi.app import App, init_home
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("matches"), reason="haechi.match is not installed"
)
BANK = "상담 2024-77"  # fictional
QUOTED = "%EC%83%81%EB%8B%B4%202024-77"


def _picture(seed: int) -> bytes:
    """A benign PNG: stripes and a gradient that differ with ``seed``."""
    from PIL import Image

    img = Image.new("RGB", (96, 96))
    img.putdata([((x * seed * 7) % 256, (y * 3 + seed * 40) % 256, ((x // (seed + 2)) % 2) * 255)
                 for y in range(96) for x in range(96)])  # fmt: skip
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _files(*pairs: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/octet-stream")) for name, data in pairs]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from haechi.match.banks import create_bank

    app = init_home(tmp_path_factory.mktemp("bank-files") / "home")
    create_bank(app, BANK, description="상담센터 (fictional)")
    try:
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


def _items(app: App) -> list[object]:
    from haechi.match.banks import bank_items

    return bank_items(app, BANK)  # type: ignore[return-value]


def _left_behind(app: App) -> list[str]:
    tmp = app.settings.tmp_dir
    return [p.name for p in tmp.rglob("*")] if tmp.exists() else []


def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    app = app_of(web)
    for path in (f"/banks/{QUOTED}/files", f"/api/banks/{QUOTED}/files"):
        refused_outside(web, Perm.REVIEW, "POST", path, {"labels": "x"},
                        files=_files(("a.png", _picture(1))))  # fmt: skip
    assert _items(app) == [] and not custody_events(app, "bank_items_added")
    assert not audit.entries(app, action="bank_change")


def test_the_page_hashes_pictures_once_and_keeps_no_file(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_reviewer")
    page = web.get(f"/banks/{QUOTED}", headers={"accept-language": "ko"}).text
    assert 'id="bank-files"' in page and "사진·동영상을 해시로 추가" in page
    path = f"/banks/{QUOTED}/files"
    form = {"csrf_token": csrf, "key": form_key(page, path), "labels": "victim-photo",
            "note": "brought to the centre"}  # fmt: skip
    two = _files(("first photo.png", _picture(1)), ("../second.png", _picture(2)))
    sent = {"x-csrf-token": csrf}  # an upload path: the token in the header, as htmx sends it
    first = web.post(path, data=form, files=two, headers=sent)
    again = web.post(path, data=form, files=two, headers=sent)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert "added=2" in first.headers["location"]
    fresh_key = web.post(path, data={**form, "key": "r" * 24}, files=two, headers=sent)
    assert fresh_key.status_code == 303 and "added=0" in fresh_key.headers["location"]
    items = _items(app)
    assert [i.origin for i in items] == ["file:first_photo.png", "file:second.png"]  # type: ignore[attr-defined]
    for item in items:
        kinds = {k for k, _v, _d in item.signals}  # type: ignore[attr-defined]
        assert {"md5", "sha256", "pdq"} <= kinds
        assert item.labels == ["victim-photo"] and item.notes == "brought to the centre"  # type: ignore[attr-defined]
    (event,) = custody_events(app, "bank_items_added")
    assert event["actor"] == "u_reviewer (web)"
    assert event["data"]["source"] == {"how": "files", "files": ["first_photo.png", "second.png"]}  # type: ignore[index]
    entries = audit.entries(app, action="bank_change")
    assert [e.username for e in entries] == ["u_reviewer", "u_reviewer"]
    assert {e.detail["did"] for e in entries} == {"bank_add_files"}
    assert _left_behind(app) == []
    assert web.post(path, data={**form, "key": "f" * 24}, files=two,
                    headers={"x-csrf-token": "forged"}).status_code == 403  # fmt: skip
    # the token only in the form is not read: the body is not parsed before the check
    assert web.post(path, data={**form, "key": "g" * 24}, files=two).status_code == 403

    shown = web.get(first.headers["location"], headers={"accept-language": "ko"}).text
    assert 'id="bank-done"' in shown


def test_only_pictures_and_videos_and_a_bounded_count(web: TestClient) -> None:
    app = app_of(web)
    before = len(_items(app))
    csrf = log_in(web, "u_investigator")
    path = f"/banks/{QUOTED}/files"
    form = {"csrf_token": csrf}
    sent = {"x-csrf-token": csrf}
    mixed = _files(("notes.txt", b"not a picture"), ("ok.png", _picture(3)))
    text = web.post(path, data={**form, "key": "t" * 24}, files=mixed, headers=sent)
    assert text.status_code == 400 and "notes.txt" in text.text
    many = _files(*[(f"{n}.png", _picture(1)) for n in range(11)])
    too_many = web.post(path, data={**form, "key": "m" * 24}, files=many, headers=sent)
    assert too_many.status_code == 400 and "At most 10 files at a time." in too_many.text
    empty = web.post(path, data={**form, "key": "e" * 24}, files=_files(("", b"")), headers=sent)
    assert empty.status_code == 400
    ko = web.post(path, data={**form, "key": "k" * 24}, headers={"accept-language": "ko", **sent},
                  files=_files(("notes.txt", b"plain words")))  # fmt: skip
    assert ko.status_code == 400 and "사진이나 동영상이 아닙니다" in ko.text
    assert len(_items(app)) == before and _left_behind(app) == []


def test_the_api_hashes_files_once_per_key(web: TestClient) -> None:
    app = app_of(web)
    web.cookies.clear()
    headers = {**bearer(app, "u_investigator"), "idempotency-key": "bank-files-00000001"}
    path = f"/api/banks/{QUOTED}/files"
    upload = _files(("third.png", _picture(4)))
    first = web.post(path, data={"labels": "api"}, files=upload, headers=headers)
    again = web.post(path, data={"labels": "api"}, files=upload, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json()["items_added"] == 1 and again.json()["repeat"] is True
    other = {**headers, "idempotency-key": "bank-files-00000002"}
    same = web.post(path, files=upload, headers=other)
    assert same.status_code == 201 and same.json()["items_added"] == 0
    bad = web.post(path, files=_files(("x.txt", b"words")), headers={
        **headers, "idempotency-key": "bank-files-00000003"})  # fmt: skip
    assert bad.status_code == 400
    assert _items(app)[-1].origin == "file:third.png"  # type: ignore[attr-defined]
    assert custody_events(app, "bank_items_added")[-1]["actor"] == "u_investigator (api)"


def _large_picture() -> bytes:
    """A benign photograph (scikit-image's coffee cup) enlarged and saved as an
    uncompressed BMP: over 2 MB, more than the 1 MB form bodies take."""
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.coffee()).resize((1200, 800))
    out = io.BytesIO()
    img.save(out, "BMP")
    return out.getvalue()


def test_a_large_picture_takes_the_upload_limit(web: TestClient) -> None:
    """/banks/<name>/files is an upload path: a 2 MB picture is hashed (it was 413 under
    the 1 MB form limit); a file over the bound and a body over the server's upload limit
    are refused; the CSRF token is the header's."""
    from haechi.web import security
    from haechi.web.views.banks import MAX_FILE_BYTES

    app = app_of(web)
    big = _large_picture()
    assert len(big) > 2 * 1024 * 1024
    csrf = log_in(web, "u_reviewer")
    path, sent = f"/banks/{QUOTED}/files", {"x-csrf-token": csrf}
    page = web.post(path, data={"key": "L" * 24}, files=_files(("cup.bmp", big)), headers=sent)
    assert page.status_code == 303, page.text[:300]
    (item,) = [i for i in _items(app) if i.origin == "file:cup.bmp"]  # type: ignore[attr-defined]
    assert {"md5", "sha256", "pdq"} <= {k for k, _v, _d in item.signals}  # type: ignore[attr-defined]
    assert web.post(path, data={"key": "N" * 24}, files=_files(("cup.bmp", big))).status_code == 403
    over = big + b"\0" * (MAX_FILE_BYTES + 1 - len(big))
    one = web.post(path, data={"key": "O" * 24}, files=_files(("huge.bmp", over)), headers=sent)
    assert one.status_code == 400 and "huge.bmp is larger than 12 MB." in one.text
    limit = web.app.state.web.max_upload_bytes  # type: ignore[attr-defined]
    three = _files(*[(f"{n}.bmp", over[:MAX_FILE_BYTES]) for n in range(3)])
    body = web.post(path, data={"key": "P" * 24}, headers=sent, files=three)
    assert limit < 3 * MAX_FILE_BYTES and body.status_code == 413
    web.cookies.clear()
    api = {**bearer(app, "u_investigator"), "idempotency-key": "bank-files-large-0001"}
    answer = web.post(f"/api/banks/{QUOTED}/files", files=_files(("cup2.bmp", big + b"\0")),
                      headers=api)  # fmt: skip
    assert answer.status_code == 201, answer.text[:300]
    # the larger limit is for these paths exactly: one segment for the bank, nothing around
    assert security.is_upload(f"/banks/{QUOTED}/files")
    assert security.is_upload("/api/banks/x/files") and security.is_upload("/subjects/enrol")
    for other in (
        "/banks/a/b/files",
        "/banks//files",
        "/banks/x/files/",
        "/banks/x/filesx",
        "/x/banks/a/files",
        "/api/api/banks/a/files",
        "/banks/x/import",
        "/banks/files",
    ):
        assert not security.is_upload(other), other


def test_the_upload_bound_reads_in_megabytes(web: TestClient) -> None:
    """The bank page's hint and the refusal give the bound as a person says it (it read
    "30,720 KB together")."""
    from haechi.i18n import localize, t_
    from haechi.web import i18n

    log_in(web, "u_reviewer")
    for lang, said in (("en", "30 MB together"), ("ko", "합계 30 MB")):
        web.cookies.set(i18n.COOKIE, lang)
        page = web.get(f"/banks/{QUOTED}")
        assert page.status_code == 200 and said in page.text, lang
        assert "30,720" not in page.text and "30720" not in page.text
    refusal = t_("The files are larger than {mb} MB together; hash larger files with haechi "
                 "bank add on the server.", mb=30)  # fmt: skip
    assert localize(refusal, "ko").startswith("파일 합계가 30 MB를 넘습니다.")
