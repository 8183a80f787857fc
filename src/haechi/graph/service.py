"""What other capabilities (the web UI, reports, cases) call: build, summarise, query the
neighbourhood of a node, list successor rooms, trace spread, export. Documented in
docs/graph.md ("For other capabilities"). An export is a custody event: the file's
SHA-256 and what it was built from are recorded, so a chart shown in court can be tied
back to the evidence.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from haechi.app import App
from haechi.domain import UsageError
from haechi.graph import export as gexport
from haechi.graph.analysis import Analysis, analyse, chat_projection
from haechi.graph.build import BuildOptions, build_graph
from haechi.graph.spread import Spread, bot_spread, media_spread
from haechi.graph.successors import Successor
from haechi.i18n import t_
from haechi.store.custody import EXPORT, Draft

if TYPE_CHECKING:
    from haechi.auth.types import Actor

__all__ = [
    "BuildOptions",
    "GraphSummary",
    "Spread",
    "bot_spread",
    "build_graph",
    "export_graph",
    "media_spread",
    "neighbourhood",
    "successor_rooms",
    "summary",
]


@dataclass
class GraphSummary:
    nodes: int
    edges: int
    node_types: dict[str, int]
    edge_kinds: dict[str, int]
    text_version: str
    media_groups: str
    top_pagerank: list[dict[str, Any]] = field(default_factory=list)
    top_bots: list[dict[str, Any]] = field(default_factory=list)
    top_identifiers: list[dict[str, Any]] = field(default_factory=list)
    communities: list[dict[str, Any]] = field(default_factory=list)
    successors: list[dict[str, Any]] = field(default_factory=list)


def summary(g: nx.MultiDiGraph, a: Analysis | None = None, n: int = 10) -> GraphSummary:
    a = a or analyse(g, betweenness=g.number_of_nodes() <= 20000)
    types = Counter(d.get("type", "?") for _, d in g.nodes(data=True))
    kinds = Counter(d.get("kind", "?") for _, _, d in g.edges(data=True))
    comms = []
    for i, members in enumerate(a.communities[:n]):
        rooms = [m for m in members if g.nodes[m].get("type") == "chat"]
        comms.append(
            {
                "community": i,
                "size": len(members),
                "rooms": len(rooms),
                "labels": [g.nodes[m].get("label") for m in rooms[:5]],
            }
        )
    idents = [
        r
        for r in a.top(g, 10 * n, "pagerank")
        if r["type"] not in ("chat", "account", "bot", "media", "name")
    ][:n]
    succ = [
        {
            "from": u,
            "from_label": g.nodes[u].get("label"),
            "to": v,
            "to_label": g.nodes[v].get("label"),
            "confidence": d.get("confidence"),
            "resolution": d.get("resolution"),
            "reasons": d.get("reasons"),
        }
        for u, v, d in g.edges(data=True)
        if d.get("kind") == "successor"
    ]
    return GraphSummary(
        nodes=g.number_of_nodes(),
        edges=g.number_of_edges(),
        node_types=dict(types.most_common()),
        edge_kinds=dict(kinds.most_common()),
        text_version=str(g.graph.get("text_version", "")),
        media_groups=str(g.graph.get("media_groups", "")),
        top_pagerank=a.top(g, n, "pagerank"),
        top_bots=a.top(g, n, "pagerank", node_type="bot"),
        top_identifiers=idents,
        communities=comms,
        successors=succ,
    )


def neighbourhood(g: nx.MultiDiGraph, node: str, depth: int = 1) -> nx.MultiDiGraph:
    """The subgraph within ``depth`` hops of ``node`` (edges in either direction)."""
    if node not in g:
        raise UsageError(
            t_("No node {node!r} in the graph (ids look like chat:12, bot:name).", node=node)
        )
    keep = set(nx.single_source_shortest_path_length(g.to_undirected(as_view=True), node, depth))
    return g.subgraph(keep).copy()


def successor_rooms(app: App) -> list[Successor]:
    """Every successor/backup link in the store: resolved targets first, then strongest."""
    from haechi.graph.build import Lookup, add_chats, text_version
    from haechi.graph.successors import find_successors, resolver

    g = nx.MultiDiGraph()
    lk = Lookup()
    with app.db.connect() as conn:
        version = text_version(conn, app, None)
        add_chats(conn, g, lk, version)
        found = find_successors(conn, version, lk.titles, resolver(g, lk))
    return sorted(
        found,
        key=lambda s: (s.resolution is None, -s.confidence, -(s.resolution or 0), s.message_pk),
    )


def export_graph(
    app: App,
    path: Path,
    fmt: str,
    *,
    opts: BuildOptions | None = None,
    chats_only: bool = False,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Build, analyse and write the map; records an ``export`` custody event. With an
    ``actor`` (a person through the web) the export is an entry of the audit trail under
    their name instead, backed by that same signed ``export`` event (one, not two)."""
    g = build_graph(app, opts)
    a = analyse(g, betweenness=g.number_of_nodes() <= 20000)
    extra: dict[str, dict[str, Any]] = {
        "pagerank": a.pagerank,
        "betweenness": a.betweenness,
        "community": a.community,
    }
    graph: nx.MultiDiGraph = nx.MultiDiGraph(chat_projection(g)) if chats_only else g
    graph.graph.update(g.graph)
    out = gexport.write(graph, path, fmt, extra)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    info = {
        "what": "graph",
        "format": fmt,
        "file": out.name,
        "sha256": digest,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "chats_only": chats_only,
        "text_version": g.graph.get("text_version", ""),
        "media_groups": g.graph.get("media_groups", ""),
    }
    if actor is not None:
        from haechi.auth import audit

        audit.record(app, actor, audit.EXPORT, f"file:{digest}", info)
    else:
        with app.db.begin() as conn:
            app.custody.append_many(conn, [Draft(EXPORT, f"file:{digest}", info)])
    return info | {"path": str(out)}
