"""The tags in use and what carries each, from the browser and the API, as ``haechi tag
list``: the same service functions (``haechi.review.tags``), for everyone who reads the
archive; each tagged item linked to its page; a malformed tag refused in one sentence."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.analyst_kit import ABUSE, app_of, bearer, module_fixture, refused_outside
from tests.web.conftest import log_in

from haechi.auth.roles import Perm
from haechi.store.models import Chat, Message

web = module_fixture("tags", text=False)


def _tag(web: TestClient) -> tuple[int, int]:
    from haechi.review.tags import add_tag

    app = app_of(web)
    with app.db.connect() as conn:
        chat = conn.execute(select(Chat.id).where(Chat.title == ABUSE)).scalar_one()
        pk = conn.execute(select(Message.id).where(Message.chat_id == chat)).scalars().first()
    assert pk is not None
    add_tag(app, [f"chat:{chat}", f"message:{pk}"], "to-check")
    add_tag(app, [f"chat:{chat}"], "bot-ad")
    return chat, pk


def test_tags_are_refused_outside_the_matrix(web: TestClient) -> None:
    for path in ("/tags", "/tags/to-check", "/api/tags", "/api/tags/to-check"):
        refused_outside(web, Perm.ARCHIVE_READ, "GET", path)


def test_tags_in_use_and_what_carries_each(web: TestClient) -> None:
    chat, pk = _tag(web)
    log_in(web, "u_support_worker")
    page = web.get("/tags", headers={"accept-language": "ko"})
    assert page.status_code == 200 and "검토자가 파일·메시지·대화방에 붙인 태그" in page.text
    assert re.search(r'href="/tags/to-check".*?</td><td>2</td>', page.text)
    assert page.text.index("to-check") < page.text.index("bot-ad")  # most used first
    one = web.get("/tags/to-check")
    assert f'href="/chats/{chat}"' in one.text and f'href="/messages/{pk}"' in one.text
    api = bearer(app_of(web), "u_reviewer")
    assert web.get("/api/tags", headers=api).json() == [
        {"tag": "to-check", "count": 2}, {"tag": "bot-ad", "count": 1}
    ]  # fmt: skip
    items = web.get("/api/tags/bot-ad", headers=api).json()["items"]
    assert items == [{"target": f"chat:{chat}", "kind": "chat", "ref": str(chat)}]
    none = web.get("/tags/unused")
    assert none.status_code == 200 and "Nothing carries this tag." in none.text


def test_a_malformed_tag_is_refused_in_one_sentence(web: TestClient) -> None:
    log_in(web, "u_investigator")
    bad = web.get("/tags/%3Cscript%3E")
    assert bad.status_code == 400 and "is not a tag" in bad.text and "<script>" not in bad.text
    api = web.get("/api/tags/%3Cb%3E", headers=bearer(app_of(web), "u_investigator"))
    assert api.status_code == 400 and "is not a tag" in api.json()["detail"]
