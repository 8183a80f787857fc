"""Write the map as GEXF (Gephi), GraphML (yEd, Gephi, igraph) or Cytoscape JSON.

Attributes are made scalar first: GEXF and GraphML take strings, numbers and booleans,
never None, so a missing value is left out of that node rather than written as "None".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from haechi.domain import UsageError
from haechi.i18n import t_

FORMATS = {"gexf": ".gexf", "graphml": ".graphml", "cytoscape": ".json"}


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool | int | float | str):
            out[k] = v
        else:
            out[k] = json.dumps(v, ensure_ascii=False, default=str)
    return out


def scalar_copy(
    g: nx.MultiDiGraph, extra: dict[str, dict[str, Any]] | None = None
) -> nx.MultiDiGraph:
    """A copy whose attributes every format accepts; ``extra`` adds per-node values
    (centrality, community) computed by the analysis."""
    h = nx.MultiDiGraph()
    h.graph.update(_clean(dict(g.graph)))
    for n, d in g.nodes(data=True):
        attrs = dict(d)
        for name, values in (extra or {}).items():
            if n in values:
                attrs[name] = values[n]
        h.add_node(n, **_clean(attrs))
    for a, b, k, d in g.edges(keys=True, data=True):
        h.add_edge(a, b, key=k, **_clean(d))
    return h


def write(
    g: nx.MultiDiGraph, path: Path, fmt: str, extra: dict[str, dict[str, Any]] | None = None
) -> Path:
    if fmt not in FORMATS:
        raise UsageError(
            t_(
                "Unknown graph format {fmt!r}: use one of {formats}.",
                fmt=fmt,
                formats=", ".join(FORMATS),
            )
        )
    h = scalar_copy(g, extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gexf":
        nx.write_gexf(h, path)
    elif fmt == "graphml":
        nx.write_graphml(h, path)
    else:
        data = nx.cytoscape_data(h)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
