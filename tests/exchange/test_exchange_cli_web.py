"""`haechi exchange` through the real command line, and the exchange page and API in the web
application (Korean and English, KST beside UTC, the permission on every route)."""

from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.exchange.servers import served
from tests.web.conftest import PASSWORD, ROLE_USERS, client_of, log_in

from haechi.app import App, init_home, open_app
from haechi.auth.accounts import add_user
from haechi.auth.roles import Role
from haechi.auth.types import cli_actor
from haechi.exchange.partners import add_partner
from haechi.match.bank_sources import add_hashes
from haechi.match.banks import create_bank
from haechi.store.keys import public_pem


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(
    capsys: pytest.CaptureFixture[str], *args: str, home: Path | None, stdin: str | None = None
) -> Ran:
    """The command line's entry point in this process (``main`` ends every command with an
    exit, a failure with its sentence and never a traceback), ``stdin`` what it reads."""
    from haechi.cli.main import main

    capsys.readouterr()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        main([*args, "--home", str(home)] if home is not None else list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.stdin = saved
    out = capsys.readouterr()
    return Ran(code, out.out, out.err)


@pytest.mark.slow
def test_the_command_line_publishes_subscribes_checks_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "init", str(a_home), home=None).returncode == 0
    init_home(b_home).close()
    setup = open_app(a_home)
    create_bank(setup, "shared", labels=["deepfake"])
    add_hashes(setup, "shared", [("md5", "1" * 32)])
    setup.close()
    made = run(capsys, "exchange", "partner", "add", "b", "--bank", "shared", "--json",
               home=a_home)  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    assert token.startswith("hxp_") and json.loads(made.stdout)["active"]
    key = run(capsys, "exchange", "key", home=a_home)
    assert key.stdout.startswith("-----BEGIN PUBLIC KEY-----") and "key id" in key.stderr
    pem = tmp_path / "a.pem"
    pem.write_text(key.stdout)
    listed = json.loads(run(capsys, "exchange", "partner", "list", "--json", home=a_home).stdout)
    assert listed[0]["name"] == "b" and token not in json.dumps(listed)
    app = open_app(a_home)
    try:
        with served(app) as url:
            missing = run(capsys, "exchange", "add", "a", "--url", url, home=b_home)
            assert missing.returncode == 2 and "--token-stdin" in missing.stderr
            subscribed = run(capsys, "exchange", "add", "a", "--url", url, "--token-stdin",
                             "--public-key", str(pem), home=b_home, stdin=token + "\n")  # fmt: skip
            assert subscribed.returncode == 0, subscribed.stderr
            synced = run(capsys, "exchange", "sync", "--json", home=b_home)
            assert synced.returncode == 0, synced.stderr
            [report] = json.loads(synced.stdout)
            assert (report["added"], report["error"]) == (1, None)
            assert run(capsys, "exchange", "partner", "revoke", "b", home=a_home).returncode == 0
            refused = run(capsys, "exchange", "sync", home=b_home)
            assert refused.returncode == 1 and "revoked" in refused.stdout
    finally:
        app.close()
    [page] = sorted((b_home / "exchange" / "received").glob("sub-*/*.json"))
    checked = run(capsys, "exchange", "check-page", str(page), "--public-key", str(pem),
                  home=None)  # fmt: skip
    assert checked.returncode == 0 and "1 items" in checked.stdout
    page.write_bytes(page.read_bytes().replace(b"1111", b"2222"))
    forged = run(capsys, "exchange", "check-page", str(page), "--public-key", str(pem),
                 home=None)  # fmt: skip
    assert forged.returncode == 1 and "signature does not match" in forged.stderr
    subs = json.loads(run(capsys, "exchange", "list", "--json", home=b_home).stdout)
    assert subs[0]["position"] == 1 and "revoked" in subs[0]["last_error"]
    assert "hxp_" not in json.dumps(subs)
    ftm = run(capsys, "exchange", "ftm", str(tmp_path / "out.jsonl"), "--json", home=b_home)
    assert ftm.returncode == 0 and json.loads(ftm.stdout)["cursor"] == "ftm1.0"
    bad = run(capsys, "exchange", "serve", "--every", "soon", home=b_home)
    assert bad.returncode == 2 and "is not a duration" in bad.stderr
    assert "Traceback" not in bad.stderr + forged.stderr + refused.stderr


def _staff(app: App) -> None:
    for role, name in ROLE_USERS.items():
        add_user(app, name, PASSWORD, role.value, actor=cli_actor("test"), reason="test")


def test_the_exchange_page_and_api(tmp_path: Path) -> None:
    a = init_home(tmp_path / "a")
    b = init_home(tmp_path / "b")
    try:
        _staff(b)
        create_bank(a, "shared")
        add_hashes(a, "shared", [("md5", "9" * 32)])
        token, _ = add_partner(a, "b", banks=["shared"])
        create_bank(b, "ours")
        with served(a) as url, client_of(b) as web:
            _page_and_forms(web, url, token, public_pem(a.signer.public).decode())
            _partner_route(web, b)
    finally:
        a.close()
        b.close()


def _page_and_forms(web: TestClient, url: str, token: str, pem: str) -> None:
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    page = web.get("/exchange", headers={"accept-language": "en"})
    assert page.status_code == 200 and "What we publish" in page.text
    form = {"csrf_token": csrf, "name": "police-fr", "bank": "ours", "kinds": ["pdq", "md5"]}
    made = web.post("/exchange/partners", data=form)
    assert made.status_code == 200
    shown = re.search(r"<code translate=\"no\">(hxp_[^<]+)</code>", made.text)
    assert shown and "shown only now" in made.text
    assert shown.group(1) not in web.get("/exchange").text  # shown once
    sub = web.post("/exchange/subscriptions", data={"csrf_token": csrf, "name": "a", "url": url,
                                                    "token": token, "public_key": pem})  # fmt: skip
    assert sub.status_code == 303
    synced = web.post("/exchange/subscriptions/a/sync", data={"csrf_token": csrf})
    assert synced.status_code == 200 and "1 added" in synced.text
    korean = web.get("/exchange", headers={"accept-language": "ko"}).text
    assert "협력기관 교환" in korean and "우리가 받아오는 것" in korean
    assert re.search(r"\d\d:\d\d UTC · [\d: -]+KST", korean)  # the last sync, UTC and KST
    api = web.get("/api/exchange/subscriptions").json()
    assert api[0]["name"] == "a" and api[0]["position"] == 1 and token not in json.dumps(api)
    assert web.get("/api/exchange/partners").json()[0]["name"] == "police-fr"
    web.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(web, ROLE_USERS[Role.REVIEWER])
    assert web.get("/exchange").status_code == 403
    assert web.post("/exchange/partners", data={"csrf_token": csrf, "name": "x",
                                                "bank": "ours"}).status_code == 403  # fmt: skip
    web.post("/logout", data={"csrf_token": csrf})


def _partner_route(web: TestClient, b: App) -> None:
    from haechi.exchange.partners import new_token

    secret, _ = new_token(b, "police-fr")
    served_page = web.get("/api/exchange/v1/changes", headers={"authorization": f"Bearer {secret}"})
    assert served_page.status_code == 200 and served_page.headers["x-haechi-changes"] == "0-0"
    assert set(served_page.json()) == {"format", "key_id", "payload", "signature"}
    assert web.get("/api/exchange/v1/changes").status_code == 401
    wrong = web.get("/api/exchange/v1/changes", headers={"authorization": "Bearer hxp_nope"})
    assert wrong.status_code == 401 and "not a partner token" not in wrong.json()["detail"]
    log_in(web, ROLE_USERS[Role.ADMIN])
    assert web.get("/api/exchange/v1/changes").status_code == 403  # a person is not a partner
