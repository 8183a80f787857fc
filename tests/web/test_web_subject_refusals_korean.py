"""A missing subject on the subject's page is refused in the reader's language (the views'
refusals are marked with t_: api_cases.py, face_review.py, subjects.py)."""

from __future__ import annotations

import pytest
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.i18n import localize, t_
from haechi.services import integrations
from haechi.web import i18n


@pytest.mark.skipif(not integrations.available("subjects"), reason="no subjects capability")
def test_a_missing_subject_in_korean_and_english(staffed: App) -> None:
    with client_of(staffed) as client:
        log_in(client, ROLE_USERS[Role.INVESTIGATOR])
        client.cookies.set(i18n.COOKIE, "ko")
        page = client.get("/subjects/987654")
        assert page.status_code == 404 and "대상자 987654이(가) 없습니다." in page.text
        assert "There is no subject" not in page.text
        client.cookies.set(i18n.COOKIE, "en")
        assert "There is no subject 987654." in client.get("/subjects/987654").text


def test_a_search_without_a_subject_in_korean() -> None:
    assert localize(t_("The search has no subject."), "ko") == "이 검색에는 대상자가 없습니다."


def test_a_missing_reason_names_no_flag_on_a_web_page(staffed: App) -> None:
    """Deleting a subject or searching her face without a reason is refused with a sentence
    a web page can show: no command-line flag (it read "(--reason)"), in both languages."""
    from haechi.subjects.model import SubjectError
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import delete_subject

    with pytest.raises(SubjectError) as deleted:
        delete_subject(staffed, 4242, "s", " ")
    with pytest.raises(SubjectError) as searched:
        search_subject(staffed, 4242, staff="s", reason="no")
    assert str(deleted.value) == (
        "Give the reason for deleting the subject; the custody log keeps it."
    )
    assert (
        localize(searched.value, "ko")
        == "이 검색을 하는 사유를 5자 이상 적으세요. 검색 기록에 남습니다."
    )
    for error in (deleted.value, searched.value):
        for lang in ("en", "ko"):
            text = localize(error, lang)
            assert "--" not in text and "haechi " not in text, (lang, text)
