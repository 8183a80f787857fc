"""Who acted, as every page shows it (the ``actor`` template global of haechi.web.render):
the shell's unnamed actor ``root (login name; no operator named)`` reads in the reader's
language on /custody, a message's custody trail and the review and subject pages alike;
any other name is shown as it is, isolated."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.config import unnamed
from haechi.services import integrations
from haechi.web import i18n
from haechi.web.i18n import Translator
from haechi.web.render import ENV

KO = '<bdi translate="no">root</bdi> (로그인 계정 이름, 지정된 운영자 없음)'
EN = '<bdi translate="no">root</bdi> (login name; no operator named)'


def test_the_actor_global_marks_the_unnamed_login_in_the_readers_language() -> None:
    one = ENV.from_string("{{ actor(a) }}")
    assert one.render(t=Translator("ko"), a=unnamed("root")) == KO
    assert one.render(t=Translator("en"), a=unnamed("root")) == EN
    assert one.render(t=Translator("ko"), a="Kim <b>") == '<bdi translate="no">Kim &lt;b&gt;</bdi>'
    assert one.render(t=Translator("ko"), a=None) == '<bdi translate="no"></bdi>'
    # a message's custody trail (message.html) and /custody share _custody.html
    event = SimpleNamespace(
        seq=1, at="2024-09-02T10:00:00+00:00", event_type="ingest", actor=unnamed("root"),
        subject="source:1", summary={}, hash="ab" * 32,
    )  # fmt: skip
    table = ENV.from_string(
        '{% import "_custody.html" as cu with context %}{{ cu.custody_table(events) }}'
    ).render(t=Translator("ko"), events=[event])
    assert KO in table and "no operator named" not in table


@pytest.mark.skipif(not integrations.available("cases"), reason="no cases capability")
def test_the_custody_page_shows_the_unnamed_login_in_korean(staffed: App) -> None:
    from haechi.cases.acting import acting_as
    from haechi.cases.service import create_case

    create_case(acting_as(staffed, unnamed("root")), "From the shell", ref="ACT-2024-1")
    with client_of(staffed) as client:
        log_in(client, ROLE_USERS[Role.AUDITOR])
        client.cookies.set(i18n.COOKIE, "ko")
        page = client.get("/custody")
        assert page.status_code == 200 and KO in page.text
        assert "no operator named" not in page.text
        client.cookies.set(i18n.COOKIE, "en")
        assert EN in client.get("/custody").text
