"""Rooms by risk and the lexicon from the browser and the API, as ``haechi text rooms`` and
``haechi text lexicon``: the same service functions, graph readers see them, investigators
(``analysis.run``) import an analyst's lexicon file once per form, validated as the command
line validates it, recorded under their name; everyone else is refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.web.analyst_kit import ABUSE, app_of, bearer, module_fixture, refused_outside
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, form_key

from haechi.auth import audit
from haechi.auth.roles import Perm

web = module_fixture("rooms")
GOOD = (
    '[[term]]\nid = "local.cafe"\nlang = "ko"\nforms = ["귤 껍질"]\nstrength = "low"\n'
    'category = "test"\nnotes = "test term"\n'
).encode()
BAD = b'[[term]]\nid = "x"\nforms = ["a"]\nstrength = "huge"\n'


def test_rooms_and_lexicon_are_refused_outside_the_matrix(web: TestClient) -> None:
    for path in ("/rooms", "/api/rooms", "/lexicon", "/api/lexicon"):
        refused_outside(web, Perm.GRAPH, "GET", path)
    upload = {"file": ("extra.toml", GOOD, "application/toml")}
    for path in ("/lexicon", "/api/lexicon"):
        refused_outside(web, Perm.ANALYSIS, "POST", path, files=upload)
    assert not custody_events(app_of(web), "text_lexicon_import")


def test_rooms_ranked_with_every_reason_and_victims_redacted(web: TestClient) -> None:
    log_in(web, "u_reviewer")
    page = web.get("/rooms", headers={"accept-language": "ko"})
    assert page.status_code == 200 and "위험도순 대화방" in page.text
    first = page.text.index(ABUSE)
    assert first < page.text.index("커피 모임") if "커피 모임" in page.text else True
    chat = re.search(r'<tr id="room-(\d+)">', page.text)
    assert chat and f'href="/chats/{chat.group(1)}"' in page.text
    assert f'href="/graph/node?id=chat%3A{chat.group(1)}"' in page.text
    assert "07년생" not in page.text  # the victim's school year stays redacted
    rooms = web.get("/api/rooms", headers=bearer(app_of(web), "u_admin")).json()
    top = rooms[0]
    assert top["title"] == ABUSE and top["level"] == "high" and top["explanation"]
    assert all(f"{line['points']}점" in page.text for line in top["explanation"])


def test_lexicon_import_once_under_the_persons_name(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    page = web.get("/lexicon")
    assert page.status_code == 200 and 'id="lexicon-form"' in page.text
    before = web.get("/api/lexicon", headers=bearer(app, "u_reviewer")).json()
    form = {"csrf_token": csrf, "key": form_key(page.text, 'id="lexicon-form"')}
    files = {"file": ("cafe.toml", GOOD, "application/toml")}
    first = web.post("/lexicon", data=form, files=files)
    again = web.post("/lexicon", data=form, files=files)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/lexicon?imported=cafe.toml"
    (event,) = custody_events(app, "text_lexicon_import")
    assert event["actor"] == "u_investigator (web)"
    (entry,) = audit.entries(app, action="lexicon_change")
    assert entry.username == "u_investigator" and entry.detail["file"] == "cafe.toml"
    after = web.get("/lexicon?imported=cafe.toml").text
    assert "cafe.toml" in after and before["version"] not in after
    assert str(app.settings.home) not in after  # file names only, never the server's paths

    headers = {**bearer(app, "u_investigator"), "idempotency-key": "lexicon-retry-00001"}
    api_files = {"file": ("cafe2.toml", GOOD, "application/toml")}
    one = web.post("/api/lexicon", files=api_files, headers=headers)
    two = web.post("/api/lexicon", files=api_files, headers=headers)
    assert one.status_code == 201 and two.status_code == 200 and two.json()["repeat"] is True
    assert len(custody_events(app, "text_lexicon_import")) == 2


def test_a_bad_lexicon_file_is_refused_in_one_sentence(web: TestClient) -> None:
    app = app_of(web)
    csrf = log_in(web, "u_investigator")
    count = len(custody_events(app, "text_lexicon_import"))
    cases = [
        (("bad.toml", BAD), "strength"),
        (("../../etc/x.txt", GOOD), "is not a lexicon file name"),
        (("big.toml", b"#" * (300 * 1024)), "larger than 256 KB"),
        (("broken.toml", b"[[term\n"), "not valid UTF-8 TOML"),
    ]
    for n, ((name, body), said) in enumerate(cases):
        r = web.post("/lexicon", data={"csrf_token": csrf, "key": f"bad-{n}" * 4},
                     files={"file": (name, body, "application/toml")})  # fmt: skip
        assert r.status_code == 400, (name, r.status_code)
        error = re.search(r'<p class="error" role="alert" id="lexicon-error">([^<]*)</p>', r.text)
        assert error and said in error.group(1) and error.group(1).count(". ") == 0, r.text
    api = web.post("/api/lexicon", files={"file": ("bad.toml", BAD, "application/toml")},
                   headers=bearer(app, "u_investigator"))  # fmt: skip
    assert api.status_code == 400 and "strength" in api.text
    ko = web.post("/lexicon", data={"csrf_token": csrf, "key": "ko-name" * 4},
                  files={"file": ("x.txt", GOOD, "text/plain")},
                  headers={"accept-language": "ko"})  # fmt: skip
    assert ko.status_code == 400 and "어휘 사전 파일 이름이 아니니" in ko.text
    assert len(custody_events(app, "text_lexicon_import")) == count
