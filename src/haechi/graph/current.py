"""The map as the web shows it, built once per change of what it is made of.

Building the whole map reads every room, account, shared file and identifier: about 6 s at
1M messages, which the web did on every request of the map page's data. The map is now
kept per process and built again only when its inputs change, told by a fingerprint read
in one cheap query per table: the newest row of each table the map is made of (rows there
are added, or deleted and written again, as room scores are), the number of near-duplicate
matches, and the text engine's version. A change made only by updating a row in place,
with nothing added anywhere, would show at the next addition; the builders add rows.

Callers must not change the graph they get: it is shared by the process's requests.
"""

from __future__ import annotations

import threading
from typing import Any

import networkx as nx
from sqlalchemy import Connection, func, inspect, select, text

from haechi.app import App
from haechi.store.models import Account, Chat, Media, Message, Source
from haechi.store.tables.text import RoomScore, TextEntity

_NEWEST = (Message.id, Chat.id, Account.id, Media.id, Source.id, TextEntity.id, RoomScore.id)
_LOCK = threading.Lock()  # one build at a time; requests meanwhile wait for its result
_KEPT: dict[tuple[str, str], tuple[tuple[Any, ...], nx.MultiDiGraph]] = {}


def fingerprint(conn: Connection, app: App) -> tuple[Any, ...]:
    """What the map is made of, in a few aggregate reads."""
    from haechi.analyze.text.scan import scanner_for

    newest = tuple(conn.execute(select(func.max(column))).scalar() for column in _NEWEST)
    matches: tuple[Any, ...] = ()
    if inspect(conn).has_table("match_hits"):
        matches = tuple(conn.execute(text("SELECT count(*), max(id) FROM match_hits")).one())
    return (*newest, *matches, scanner_for(app.settings.home).version)


def current_graph(app: App) -> nx.MultiDiGraph:
    """The whole map (:func:`haechi.graph.build.build_graph` with its defaults), built
    again only when :func:`fingerprint` changed since the last build in this process."""
    from haechi.graph.build import build_graph

    key = (app.settings.database_url, str(app.settings.home))
    with app.db.connect() as conn:
        seen = fingerprint(conn, app)
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is not None and kept[0] == seen:
            return kept[1]
        graph = build_graph(app)
        _KEPT[key] = (seen, graph)
        return graph
