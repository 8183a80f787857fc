"""Login (phone, code, two-step password) and the session sealed at rest under the data
directory's key: never on disk in plaintext, mode 0600, useless in another data directory."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.live.fake_telegram import FakeClient, FakeWorld

from haechi.app import App, init_home
from haechi.collect.telegram_live import account
from haechi.collect.telegram_live.sessionbox import SealedSession, seal, session_path, unseal
from haechi.domain import DataDirError, UsageError
from haechi.store.tables.live import LiveAccount


def _prompts(code: str = "12345", password: str = "two step secret") -> account.Prompts:
    return account.Prompts(phone=lambda: "+82 10 1234 5678", code=lambda: code,
                           password=lambda: password)  # fmt: skip


def test_login_with_code_and_two_step_password_seals_the_session(
    app: App, world: FakeWorld
) -> None:
    client = FakeClient(world, authorized=False, password="two step secret")
    found = asyncio.run(account.login(app, client, _prompts()))
    assert found["tg_id"] == world.me.id and found["username"] == "unit_watch"
    path = session_path(app.settings.keys_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = client.session.save()
    blob = path.read_bytes()
    assert secret.encode() not in blob and secret[1:40].encode() not in blob  # sealed
    opened = unseal(path, app.signer)
    assert opened.session == secret and opened.session_id == found["session_id"]
    assert not list(app.settings.home.rglob("*.session"))  # no Telethon session file anywhere
    with app.db.connect() as conn:
        row = conn.execute(select(LiveAccount)).one()
        body = conn.execute(
            text("SELECT body FROM custody_events WHERE event_type = 'live_login'")
        ).scalar_one()
    assert row.tg_id == world.me.id and row.session_id == found["session_id"]
    assert '"phone":"+**********78"' in body and "1234" not in body


def test_a_wrong_code_three_times_and_a_wrong_password_are_refused(
    app: App, world: FakeWorld
) -> None:
    client = FakeClient(world, authorized=False)
    with pytest.raises(UsageError, match="code was wrong three times"):
        asyncio.run(account.login(app, client, _prompts(code="00000")))
    client = FakeClient(world, authorized=False, password="right")
    with pytest.raises(UsageError, match="two-step password was wrong"):
        asyncio.run(account.login(app, client, _prompts(password="wrong")))
    assert not session_path(app.settings.keys_dir).exists()


def test_the_sealed_session_opens_only_with_its_own_data_directory(
    app: App, tmp_path: Path
) -> None:
    path = session_path(app.settings.keys_dir)
    seal(path, app.signer, SealedSession("1secret-session", "abcd", {"tg_id": 5}))
    other = init_home(tmp_path / "other")
    try:
        with pytest.raises(DataDirError, match="another data directory"):
            unseal(path, other.signer)
    finally:
        other.close()
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DataDirError, match="altered"):
        unseal(path, app.signer)


def test_no_session_and_logout(app: App, world: FakeWorld) -> None:
    with pytest.raises(DataDirError, match="haechi watch login"):
        account.open_session(app)
    client = FakeClient(world, authorized=False)
    asyncio.run(account.login(app, client, _prompts()))
    sealed = account.open_session(app)
    asyncio.run(account.start(FakeClient(world), sealed))
    assert asyncio.run(account.logout(app, client))
    assert client.logged_out and not session_path(app.settings.keys_dir).exists()
    with app.db.connect() as conn:
        assert conn.execute(select(LiveAccount.logged_out_at)).scalar_one() is not None
        assert (
            conn.execute(
                text("SELECT count(*) FROM custody_events WHERE event_type = 'live_logout'")
            ).scalar_one()
            == 1
        )


def test_a_session_of_another_account_is_refused(app: App, world: FakeWorld) -> None:
    sealed = SealedSession("1x", "abcd", {"tg_id": 42})
    with pytest.raises(DataDirError, match="another account"):
        asyncio.run(account.start(FakeClient(world), sealed))
    with pytest.raises(DataDirError, match="logged out"):
        asyncio.run(account.start(FakeClient(world, authorized=False), sealed))


def test_the_real_client_keeps_its_session_in_memory(app: App) -> None:
    from telethon.sessions import StringSession

    from haechi.collect.telegram_live.settings import LiveSettings

    client = account.make_client(LiveSettings(api_id=12345, api_hash="0123456789abcdef" * 2))
    assert isinstance(client.session, StringSession)
    with pytest.raises(DataDirError, match="api_id and api_hash"):
        account.make_client(LiveSettings())


def test_the_service_waits_for_telegram_to_be_reachable(world: FakeWorld) -> None:
    client = FakeClient(world)
    client.fail("connect", ConnectionError("no route"), OSError("network down"))
    sealed = SealedSession("1x", "abcd", {"tg_id": world.me.id})

    async def go() -> bool:
        return await account.start_when_reachable(client, sealed, asyncio.Event(), ceiling=0.01)

    assert asyncio.run(go()) and client.calls["connect"] == 3

    async def stopped() -> bool:
        stop = asyncio.Event()
        stop.set()
        return await account.start_when_reachable(FakeClient(world), sealed, stop)

    assert asyncio.run(stopped()) is False
