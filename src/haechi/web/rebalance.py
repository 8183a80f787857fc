"""Connections handed back by a worker process that has more than its share of them.

``haechi serve --workers N`` shares one listening socket between N processes, and each
browser keeps its connection open (HTTP/1.1 keep-alive) for every later request. Whichever
process wakes first accepts what is waiting: measured under the web benchmark, all eight
users' connections went to one worker in each of three runs while the other sat idle, so
one process (one core, under Python's interpreter lock) served everyone and a run's
latencies depended on how the connections happened to fall.

Here a worker answering more than ``busy`` requests at once ends the connection after the
response (``Connection: close``, which HTTP clients and browsers follow by opening a new
one for their next request). The new connection goes to whichever process accepts it
first, usually one with less to do, so the users spread over the workers within seconds.
A single worker never sheds (it has nowhere to send them).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE = (b"connection", b"close")


class Rebalance:
    def __init__(self, app: ASGIApp, busy: int) -> None:
        self.app = app
        self.busy = busy
        self.in_flight = 0  # requests of this process being answered (one event loop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1

        async def shed(message: Message) -> None:
            if message["type"] == "http.response.start" and self.in_flight > self.busy:
                message["headers"] = [*message.get("headers", []), CLOSE]
            await send(message)

        try:
            await self.app(scope, receive, shed)
        finally:
            self.in_flight -= 1
