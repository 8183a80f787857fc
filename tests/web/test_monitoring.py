"""/healthz (open, no data) and /metrics (Prometheus; loopback, configured networks or a
token; counts only) for operations (issue 18)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.web.settings import WebSettings, load_web_settings

TOKEN = "metrics-token-for-the-test"


def _value(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name + labels)} ([0-9.e+]+)$", text, re.M)
    assert found, f"{name}{labels} not in the exposition"
    return float(found.group(1))


def test_health_is_open_and_says_nothing_else(web: TestClient) -> None:
    r = web.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["x-content-type-options"] == "nosniff"  # the security headers too
    assert "set-cookie" not in r.headers


def test_health_reports_a_database_that_does_not_answer(loaded: App) -> None:
    from dataclasses import replace

    from starlette.responses import PlainTextResponse

    from haechi.store.db import Database
    from haechi.web.monitoring import Monitoring

    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    inner = PlainTextResponse("the application")
    health = Monitoring(inner, haechi_app=replace(loaded, db=broken))
    client = TestClient(health)  # no lifespan: the inner app is a bare response
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}
    assert client.get("/other").text == "the application"
    broken.dispose()


def test_metrics_from_the_loopback(loaded: App) -> None:
    with client_of(loaded, client=("127.0.0.1", 40000)) as client:
        log_in(client, ROLE_USERS[Role.INVESTIGATOR])
        for _ in range(3):
            assert client.get("/chats").status_code == 200
        r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert _value(text, "haechi_http_request_duration_seconds_count",
                  '{method="GET",route="/chats",status="2xx"}') == 3  # fmt: skip
    assert _value(text, "haechi_database_up") == 1
    assert _value(text, "haechi_messages_stored") > 0
    assert _value(text, "haechi_files_stored") > 0
    assert _value(text, "haechi_custody_events") > 0
    assert _value(text, "haechi_sources", '{state="finished"}') >= 1
    assert "haechi_analysis_pending_steps" in text and "haechi_jobs" in text
    # counts, never content: no message text, chat title or user name
    with loaded.db.connect() as conn:
        from sqlalchemy import text as sql

        words = conn.execute(sql("SELECT text FROM messages WHERE text <> '' LIMIT 20")).scalars()
        for body in words:
            assert body not in r.text
    assert ROLE_USERS[Role.INVESTIGATOR] not in r.text


def test_metrics_are_refused_elsewhere(loaded: App, tmp_path: Path) -> None:
    with client_of(loaded, client=("203.0.113.9", 40000)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 404
    # through a proxy haechi does not trust, the loopback peer proves nothing
    with client_of(loaded, client=("127.0.0.1", 40000)) as client:
        r = client.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
        assert r.status_code == 404
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    settings = WebSettings(metrics_networks=("10.0.0.0/8",), metrics_token_sha256=digest)
    with client_of(loaded, settings, client=("10.2.3.4", 40000)) as client:
        assert client.get("/metrics").status_code == 200
    with client_of(loaded, settings, client=("203.0.113.9", 40000)) as client:
        assert client.get("/metrics").status_code == 404
        ok = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
    (tmp_path / "web.toml").write_text(
        f'[metrics]\nnetworks = ["10.0.0.0/8"]\ntoken_sha256 = "{digest}"\n', encoding="utf-8"
    )
    read = load_web_settings(tmp_path)
    assert read.metrics_networks == ("10.0.0.0/8",) and read.metrics_token_sha256 == digest
