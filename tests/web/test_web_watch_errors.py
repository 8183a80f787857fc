"""The live-capture page while one target keeps failing: each target's row shows its own
last message, lag, error count and last error; the healthy one is followed all the same."""

from __future__ import annotations

import re

from tests.live.test_live_status import follow_with_a_failing_target
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.collect.telegram_live.status import watch_status


def _rows(page: str) -> dict[int, str]:
    return {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r'<tr id="target-(\d+)"[^>]*>(.*?)</tr>', page, re.S)
    }


def test_the_page_shows_each_targets_lag_and_errors(staffed: App) -> None:
    _healthy, posted = follow_with_a_failing_target(staffed)
    found = {t.ref: t for t in watch_status(staffed).targets}
    ok, failing = found["@healthy_room"], found["@flaky_room"]
    assert ok.lag_seconds is not None and failing.errors >= 3
    with client_of(staffed) as web:
        log_in(web, ROLE_USERS[Role.INVESTIGATOR])
        rows = _rows(web.get("/watch", headers={"accept-language": "en"}).text)
        good, bad = rows[ok.id], rows[failing.id]
        assert f"#{posted}" in good and f"{ok.lag_seconds} s" in good
        assert "following" in good and "connection to Telegram dropped" not in good
        assert "waiting (resumes by itself)" in bad and "connection to Telegram dropped" in bad
        assert f"<td>{failing.errors}<br>" in bad and "next try in" in bad
        korean = _rows(web.get("/watch", headers={"accept-language": "ko"}).text)
        assert f"{ok.lag_seconds}초" in korean[ok.id] and "대기 중" in korean[failing.id]
