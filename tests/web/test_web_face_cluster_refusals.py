"""The face groups' refusals read on a web page as on the command line: no command-line flag
(--reason) or consent code ('link') and no command to run, in English and in Korean."""

from __future__ import annotations

import pytest
from tests.faces.conftest import add_synthetic_faces, identities
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.i18n import localize
from haechi.services import integrations
from haechi.web import i18n

pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="no subjects capability"
)
FLAGS = ("--reason", "'link'", "haechi face", "&#39;link&#39;")


def test_the_refusals_name_no_flag_in_english_or_korean(staffed: App) -> None:
    from haechi.subjects.clusters import get_cluster, link_cluster, set_apparent_minor
    from haechi.subjects.model import SubjectError

    with pytest.raises(SubjectError) as missing:
        get_cluster(staffed, 4242)
    with pytest.raises(SubjectError) as short:
        link_cluster(staffed, 4242, None, staff="s", reason="no")
    with pytest.raises(SubjectError) as minor:
        set_apparent_minor(staffed, 4242, True, staff="s", reason=" ")
    assert str(short.value) == "Give a reason of at least 5 characters; it is recorded."
    assert localize(minor.value, "ko") == "사유를 5자 이상 적으세요. 기록에 남습니다."
    assert localize(missing.value, "ko") == (
        "인물 #4242이(가) 없습니다. 얼굴을 다시 묶어야 할 수 있습니다."
    )
    for error in (missing.value, short.value, minor.value):
        for lang in ("en", "ko"):
            assert not any(flag in localize(error, lang) for flag in FLAGS), error


def test_the_consent_refusal_names_no_code() -> None:
    from haechi.i18n import t_

    said = t_(
        "Subject {subject_id}'s consent does not cover linking unknown faces to them.",
        subject_id=3,
    )
    assert localize(said, "ko") == "대상자 3의 동의에는 미확인 얼굴 연결이 포함되어 있지 않습니다."


def test_a_change_without_a_reason_on_the_korean_page(staffed: App) -> None:
    from haechi.subjects.clusters import list_clusters, update_clusters

    add_synthetic_faces(staffed, identities(1, 3, seed=9), tag="r")
    update_clusters(staffed, staff="s")
    (cluster,) = list_clusters(staffed)
    with client_of(staffed) as client:
        csrf = log_in(client, ROLE_USERS[Role.INVESTIGATOR])
        client.cookies.set(i18n.COOKIE, "ko")
        form = {"csrf_token": csrf, "minor": "true", "reason": "no"}
        page = client.post(f"/face-clusters/{cluster.id}/minor", data=form)
        assert page.status_code == 400, page.status_code
        assert "사유를 5자 이상 적으세요. 기록에 남습니다." in page.text
        assert "--reason" not in page.text
        client.cookies.set(i18n.COOKIE, "en")
        page = client.post(f"/face-clusters/{cluster.id}/minor", data=form)
        assert "Give a reason of at least 5 characters; it is recorded." in page.text
