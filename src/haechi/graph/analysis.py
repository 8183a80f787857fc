"""Centrality and communities of the map (networkx).

- PageRank on the directed multigraph (parallel edges' weights summed): which rooms, bots
  and identifiers many others point to.
- Degree centrality and, on graphs up to ``EXACT_BETWEENNESS`` nodes, betweenness (with
  ``k`` sampled pivots above that, seeded, so a rerun gives the same numbers): which nodes
  bridge otherwise separate clusters (a shared wallet between two room families).
- Louvain communities on the undirected, weight-summed projection, seeded.
- Chat-to-chat projections: two rooms that share a media group or an identifier.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

EXACT_BETWEENNESS = 5000
BETWEENNESS_SAMPLES = 256
SEED = 7
PROJECTION_MAX_CHATS = 50  # an identifier in more rooms than this is too common to link them


@dataclass
class Analysis:
    pagerank: dict[str, float] = field(default_factory=dict)
    degree: dict[str, float] = field(default_factory=dict)
    betweenness: dict[str, float] = field(default_factory=dict)
    community: dict[str, int] = field(default_factory=dict)
    communities: list[list[str]] = field(default_factory=list)

    def top(
        self, g: nx.MultiDiGraph, n: int = 10, by: str = "pagerank", node_type: str | None = None
    ) -> list[dict[str, Any]]:
        scores: dict[str, float] = getattr(self, by)
        rows = [
            {
                "node": k,
                "type": g.nodes[k].get("type"),
                "label": g.nodes[k].get("label"),
                by: round(v, 6),
                "community": self.community.get(k),
            }
            for k, v in scores.items()
            if node_type is None or g.nodes[k].get("type") == node_type
        ]
        rows.sort(key=lambda r: (-r[by], str(r["node"])))
        return rows[:n]


def undirected(g: nx.MultiDiGraph) -> nx.Graph:
    u = nx.Graph()
    # With their attributes (type, label, ...): the full map is drawn from this graph, and
    # without them every node came back untyped and unlabelled.
    u.add_nodes_from(g.nodes(data=True))
    for a, b, d in g.edges(data=True):
        w = float(d.get("weight", 1) or 1)
        if u.has_edge(a, b):
            u[a][b]["weight"] += w
        else:
            u.add_edge(a, b, weight=w)
    return u


def analyse(g: nx.MultiDiGraph, *, betweenness: bool = True) -> Analysis:
    out = Analysis()
    if g.number_of_nodes() == 0:
        return out
    simple = nx.DiGraph()
    simple.add_nodes_from(g.nodes)
    for a, b, d in g.edges(data=True):
        w = float(d.get("weight", 1) or 1)
        if simple.has_edge(a, b):
            simple[a][b]["weight"] += w
        else:
            simple.add_edge(a, b, weight=w)
    out.pagerank = nx.pagerank(simple, weight="weight")
    out.degree = nx.degree_centrality(simple)
    u = undirected(g)
    if betweenness:
        n = u.number_of_nodes()
        k = None if n <= EXACT_BETWEENNESS else min(BETWEENNESS_SAMPLES, n)
        out.betweenness = nx.betweenness_centrality(u, k=k, seed=SEED, weight=None)
    comms = nx.community.louvain_communities(u, weight="weight", seed=SEED)
    ordered = sorted((sorted(c) for c in comms), key=lambda c: (-len(c), c[0]))
    out.communities = ordered
    out.community = {node: i for i, c in enumerate(ordered) for node in c}
    return out


def chat_projection(g: nx.MultiDiGraph) -> nx.Graph:
    """Rooms linked when they share a media group or an identifier (weight: how many),
    and by their direct edges (forward, mention, link, successor)."""
    p = nx.Graph()
    chats = [n for n, d in g.nodes(data=True) if d.get("type") == "chat"]
    p.add_nodes_from((n, g.nodes[n]) for n in chats)
    shared: dict[str, set[str]] = defaultdict(set)
    for a, b, d in g.edges(data=True):
        kind = d.get("kind")
        if kind in ("shared_media", "identifier", "link", "mention", "via_bot") and (
            g.nodes[a].get("type") == "chat" and g.nodes[b].get("type") != "chat"
        ):
            shared[b].add(a)
        elif g.nodes[a].get("type") == "chat" and g.nodes[b].get("type") == "chat":
            _bump(p, a, b, str(kind), float(d.get("weight", 1) or 1))
    for node, rooms in shared.items():
        if len(rooms) < 2 or len(rooms) > PROJECTION_MAX_CHATS:
            continue
        kind = "shared_media" if g.nodes[node].get("type") == "media" else "shared_identifier"
        for a, b in combinations(sorted(rooms), 2):
            _bump(p, a, b, kind, 1.0, via=node)
    return p


def _bump(p: nx.Graph, a: str, b: str, kind: str, w: float, via: str | None = None) -> None:
    if not p.has_edge(a, b):
        p.add_edge(a, b, weight=0.0, kinds="", via="")
    e = p[a][b]
    e["weight"] += w
    kinds = set(filter(None, e["kinds"].split(","))) | {kind}
    e["kinds"] = ",".join(sorted(kinds))
    if via:
        e["via"] = ",".join(sorted(set(filter(None, e["via"].split(","))) | {via}))
