"""A worker answering more than its share of requests at once hands connections back
(web.rebalance): the response says ``Connection: close`` so the client's next request
opens a new connection, which another worker may accept."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from haechi.app import App
from haechi.web.app import create_app
from haechi.web.rebalance import Rebalance
from haechi.web.settings import WebSettings


def _closes(headers: list[tuple[bytes, bytes]]) -> bool:
    return (b"connection", b"close") in headers


def test_only_responses_given_while_the_worker_is_busy_close_their_connection() -> None:
    gate = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    balanced = Rebalance(app, busy=2)

    async def one(path: str) -> list[tuple[bytes, bytes]]:
        sent: list[MutableMapping[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        await balanced({"type": "http", "path": path}, receive, send)
        return list(sent[0]["headers"])

    async def run() -> None:
        assert not _closes(await one("/fast"))  # alone: keeps its connection
        slow = [asyncio.ensure_future(one("/slow")) for _ in range(2)]
        await asyncio.sleep(0)
        assert balanced.in_flight == 2
        assert _closes(await one("/fast"))  # a third at once: this one is handed back
        gate.set()
        # The two slow ones answer with two (then one) at once: no more than ``busy``, so
        # they keep theirs.
        assert [_closes(h) for h in await asyncio.gather(*slow)] == [False, False]
        assert balanced.in_flight == 0
        assert not _closes(await one("/fast"))

    asyncio.run(run())


def test_only_a_server_of_several_workers_sheds(app: App, tmp_path: Path) -> None:
    def layers(workers: int) -> list[type]:
        api = create_app(app, WebSettings(run_jobs=False, workers=workers))
        return [m.cls for m in api.user_middleware]  # type: ignore[misc]

    assert Rebalance not in layers(1)
    assert Rebalance in layers(2)
