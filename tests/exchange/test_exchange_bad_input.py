"""Bad input is refused with one sentence, logged, and leaves nothing partly imported: wrong
and revoked tokens, a partner asking outside its scope, a forged or altered page, a
replayed or reordered page, another partner's page, a huge page, malformed hashes, and a
failure half-way through writing a page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from tests.conftest import _PG_SKIP
from tests.exchange.servers import instance, served

from haechi.app import App
from haechi.auth.audit import entries
from haechi.exchange import wire
from haechi.exchange.envelope import load_public_key, seal
from haechi.exchange.errors import ExchangeError, PageRefused
from haechi.exchange.page import PAGE, audience, make_cursor
from haechi.exchange.partners import add_partner, revoke_token
from haechi.exchange.publish import serve_page
from haechi.exchange.subscriptions import add_haechi, get_subscription
from haechi.exchange.sync import sync
from haechi.match.bank_sources import add_hashes
from haechi.match.banks import bank_items, create_bank
from haechi.store.keys import public_pem


@dataclass
class Duo:
    a: App
    b: App
    url: str
    token: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def duo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Duo]:
    """A publisher and a subscriber for the module; each test subscribes under its own name."""
    if request.param == "postgresql" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    root = tmp_path_factory.mktemp(f"bad-{request.param}")
    with instance(root, "a", request.param) as a, instance(root, "b", request.param) as b:
        create_bank(a, "shared", labels=["deepfake"])
        add_hashes(a, "shared", [("md5", "1" * 32)])
        add_hashes(a, "shared", [("pdq", "e" * 64)])
        token, _ = add_partner(a, "b", banks=["shared"], kinds=["md5", "pdq"])
        with served(a) as url:
            yield Duo(a, b, url, token)


class Canned:
    """A local HTTP server answering every request with the bytes it is given."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.status = 200
        self.headers: dict[str, str] = {}
        self.seen: list[str] = []  # the Authorization headers received
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canned.seen.append(self.headers.get("Authorization", ""))
                self.send_response(canned.status)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned() -> Iterator[Canned]:
    server = Canned()
    yield server
    server.close()


def _subscribe(duo: Duo, url: str, name: str = "a", pem: bytes | None = None) -> str:
    add_haechi(duo.b, name, url=url, token=duo.token,
               public_key_pem=pem or public_pem(duo.a.signer.public))  # fmt: skip
    return get_subscription(duo.b, name).bank_name


def _nothing_imported(duo: Duo, name: str, bank: str) -> None:
    sub = get_subscription(duo.b, name)
    assert (sub.position, sub.cursor) == (0, None)
    assert bank_items(duo.b, bank) == []
    assert sub.last_error
    _logged_in_one_sentence(duo, name)


def _logged_in_one_sentence(duo: Duo, name: str) -> None:
    """The refusal is in the subscriber's log of syncs as one line, no traceback."""
    from sqlalchemy import select

    from haechi.store.tables.exchange import ExchangeSync

    sub = get_subscription(duo.b, name)
    with duo.b.db.connect() as conn:
        logged = conn.execute(
            select(ExchangeSync.error).where(ExchangeSync.subscription_id == sub.id)
            .order_by(ExchangeSync.id.desc()).limit(1)
        ).scalar_one()  # fmt: skip
    assert logged == sub.last_error and logged
    assert "\n" not in logged and "Traceback" not in logged and len(logged) < 400


def _refused(duo: Duo) -> list[str]:
    return [e.detail["why"] for e in entries(duo.a, action="exchange_refused")]


def test_wrong_revoked_and_out_of_scope_tokens_are_refused_and_logged(duo: Duo) -> None:
    public = duo.a.signer.public
    with pytest.raises(ExchangeError, match=r"HTTP 401.*wrong or was replaced"):
        wire.fetch_page(duo.url, "hxp_" + "x" * 43, public, after=None, position=0)
    with pytest.raises(ExchangeError, match=r"HTTP 403.*'sha256' is outside"):
        wire.fetch_page(duo.url, duo.token, public, after=None, position=0, kinds=["sha256"])
    with pytest.raises(ExchangeError, match=r"HTTP 400.*cursor is not one"):
        wire.fetch_page(duo.url, duo.token, public, after="../../etc", position=0)
    with pytest.raises(ExchangeError, match=r"HTTP 400.*1 to 5000"):
        wire.fetch_page(duo.url, duo.token, public, after=None, position=0, limit=5001)
    leaving, _ = add_partner(duo.a, "leaving", banks=["shared"])
    revoke_token(duo.a, "leaving", reason="left the programme")
    with pytest.raises(ExchangeError, match=r"HTTP 401.*revoked"):
        wire.fetch_page(duo.url, leaving, public, after=None, position=0)
    why = _refused(duo)
    assert len(why) >= 5 and any("revoked" in w for w in why)
    assert any("outside this partner's scope" in w for w in why)
    [scope] = [e for e in entries(duo.a, action="exchange_refused") if "outside" in e.detail["why"]]
    assert scope.username == "partner:b" and scope.via == "exchange"


def test_a_page_signed_by_another_key_or_altered_imports_nothing(
    duo: Duo, canned: Canned, tmp_path: Path
) -> None:
    with instance(tmp_path, "mallory", "sqlite") as mallory:
        bank = _subscribe(duo, duo.url, "forged", pem=public_pem(mallory.signer.public))
        [report] = sync(duo.b, "forged")
        assert report.error and "not by the partner's key" in report.error
        _nothing_imported(duo, "forged", bank)
    served_page = serve_page(duo.a, duo.token)
    envelope = orjson.loads(served_page.body)
    envelope["payload"] = envelope["payload"].replace("1" * 32, "2" * 32)
    canned.body = orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)
    bank = _subscribe(duo, canned.url, "altered")
    [report] = sync(duo.b, "altered")
    assert report.error and "signature does not match" in report.error
    _nothing_imported(duo, "altered", bank)


def test_replayed_reordered_and_foreign_pages_are_refused(duo: Duo, canned: Canned) -> None:
    public = duo.a.signer.public
    first = serve_page(duo.a, duo.token, limit=1)
    second = serve_page(duo.a, duo.token, after=orjson.loads(orjson.loads(first.body)["payload"])
                        ["next"], limit=1)  # fmt: skip
    bank = _subscribe(duo, canned.url, "replay")
    canned.body = second.body  # page 2 before page 1: reordered
    [report] = sync(duo.b, "replay")
    assert report.error and "another cursor" in report.error
    _nothing_imported(duo, "replay", bank)
    canned.body = first.body
    [report] = sync(duo.b, "replay", max_pages=1)
    assert report.error is None and len(bank_items(duo.b, bank)) == 1
    [report] = sync(duo.b, "replay", max_pages=1)  # the same page again: replayed
    assert report.error and "another cursor" in report.error
    _logged_in_one_sentence(duo, "replay")
    assert len(bank_items(duo.b, bank)) == 1 and get_subscription(duo.b, "replay").position == 1
    other_token, _ = add_partner(duo.a, "c", banks=["shared"], kinds=["md5", "pdq"])
    raw = serve_page(duo.a, other_token).body
    with pytest.raises(PageRefused, match="another partner's token"):
        wire.read_page(raw, public, token=duo.token, after=None, position=0)


def _signed(duo: Duo, items: list[dict], **over: object) -> bytes:
    payload = {
        "format": PAGE, "publisher": duo.a.signer.key_id, "audience": audience(duo.token),
        "partner": "b", "issued_at": "2026-12-12T00:00:00Z", "after": "",
        "next": make_cursor(len(items), "0" * 12), "from": 0, "to": len(items),
        "reset": False, "more": False, "items": items, **over,
    }  # fmt: skip
    return seal(duo.a.signer, payload)


def _add(change: int, kind: str, value: str) -> dict:
    return {"change": change, "op": "add", "item": change, "labels": [], "added_at": "t",
            "signals": [{"kind": kind, "value": value}]}  # fmt: skip


def test_malformed_hashes_and_huge_pages_refuse_the_whole_page(duo: Duo, canned: Canned) -> None:
    bank = _subscribe(duo, canned.url, "signed-bad")
    for value, why in (("xyz", "malformed pdq"), ("f" * 63, "malformed pdq"),
                       ("f" * 65, "malformed pdq")):  # fmt: skip
        canned.body = _signed(duo, [_add(1, "md5", "3" * 32), _add(2, "pdq", value)])
        [report] = sync(duo.b, "signed-bad")
        assert report.error and why in report.error and "nothing was imported" in report.error
        _nothing_imported(duo, "signed-bad", bank)
    canned.body = _signed(duo, [_add(1, "photodna", "abc")])
    assert "unknown kind" in (sync(duo.b, "signed-bad")[0].error or "")
    _nothing_imported(duo, "signed-bad", bank)
    huge = [_add(i, "md5", f"{i:032x}") for i in range(1, 5002)]
    canned.body = _signed(duo, huge)
    assert "more than 5000 items" in (sync(duo.b, "signed-bad")[0].error or "")
    _nothing_imported(duo, "signed-bad", bank)
    canned.body = b'{"format": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    assert "huge page" in (sync(duo.b, "signed-bad")[0].error or "")
    _nothing_imported(duo, "signed-bad", bank)
    canned.body = _signed(duo, [_add(2, "md5", "3" * 32), _add(1, "md5", "4" * 32)])
    assert "out of order" in (sync(duo.b, "signed-bad")[0].error or "")
    _nothing_imported(duo, "signed-bad", bank)
    with pytest.raises(Exception, match="not a PEM public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_a_failure_half_way_through_a_page_leaves_nothing(
    duo: Duo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import haechi.exchange.importer as importer

    bank = _subscribe(duo, duo.url, "crash")

    def fail(*_args: object) -> None:  # after the items and imports were written
        raise ExchangeError("the disk went away (simulated)")

    monkeypatch.setattr(importer, "_touch", fail)
    [report] = sync(duo.b, "crash")
    assert report.error == "the disk went away (simulated)"
    _nothing_imported(duo, "crash", bank)
    monkeypatch.undo()
    [report] = sync(duo.b, "crash")
    assert report.error is None and report.added == 2 and len(bank_items(duo.b, bank)) == 2


def test_a_redirect_is_not_followed(duo: Duo, canned: Canned) -> None:
    """A redirect would carry the token to another host: refused, the token sent once."""
    elsewhere = Canned()
    try:
        canned.status, canned.headers = 302, {"Location": elsewhere.url + "/steal"}
        bank = _subscribe(duo, canned.url, "redirected")
        [report] = sync(duo.b, "redirected")
        assert report.error and "does not follow redirects" in report.error
        assert canned.seen == [f"Bearer {duo.token}"] and elsewhere.seen == []
        _nothing_imported(duo, "redirected", bank)
    finally:
        elsewhere.close()
