"""A JSON body may escape a lone UTF-16 surrogate (``"\\udc80"``): Python reads it into a
string that no response, database or file can encode as UTF-8. Such a body is refused as
invalid (422, the refusal naming the character as ``\\udc80``), never a server error
(the refusal used to echo the string and fail to encode), and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, module_web

from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
LONE = '"x\\udc80y"'  # the JSON text of a string holding a lone low surrogate


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with module_web(tmp_path_factory.mktemp("lone"), ingest=False) as client:
        yield client


def _post(web: TestClient, body: str) -> tuple[int, str]:
    headers = bearer(app_of(web), "u_investigator") | {"content-type": "application/json"}
    r = web.post("/api/cases", content=body.encode("ascii"), headers=headers)
    return r.status_code, r.text


def _cases(web: TestClient) -> int:
    from haechi.cases.service import list_cases

    return len(list_cases(app_of(web)))


def test_an_invalid_body_with_a_lone_surrogate_is_refused_with_its_errors(
    web: TestClient,
) -> None:
    before = _cases(web)
    # title too long (over 500 characters) and holding the surrogate: a validation error
    status, text = _post(web, '{"title": "' + "t" * 600 + '\\udc80"}')
    assert status == 422 and "title" in text and "\\\\udc80" in text
    status, text = _post(web, '{"title": 5, ' + LONE + ": 1}")  # the surrogate in a key
    assert status == 422
    assert _cases(web) == before


def test_a_string_that_is_not_text_is_refused_and_writes_nothing(web: TestClient) -> None:
    before = _cases(web)
    status, text = _post(web, '{"title": ' + LONE + "}")
    assert status == 422 and "title" in text and "\\udc80" in text
    assert _cases(web) == before
    status, _ = _post(web, '{"title": "x\\ud83d\\ude00y"}')  # a surrogate pair is text
    assert status in (200, 201, 303)
    assert _cases(web) == before + 1
