"""The network graph (Cytoscape.js, served locally), built on ``haechi.graph``: the
room-to-room map (rooms linked by forwards, mentions, links, successor announcements,
shared media and shared identifiers), or the full map of rooms, accounts, bots and
identifiers, limited to the ``MAX_NODES`` best-connected nodes. Every node carries its
type and label (drawn with a legend) and opens its own page on a click: where it appears,
what it links to, where its room moved (``haechi.services.network``). The whole map is
downloaded as GEXF, GraphML or Cytoscape JSON as ``haechi graph export`` writes it
(``haechi.graph.service.export_graph``): each download an ``export`` entry of the audit
trail under the person's name, backed by its signed custody event."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.services import integrations
from haechi.services.signals import node_href
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(65, "nav.graph", "/graph", Perm.GRAPH)]
MAX_NODES = 400
# The legend: node types in the order they are explained, with their colour class.
NODE_TYPES = (
    "chat", "account", "bot", "username", "invite", "private_chat", "name", "media",
    "identifier",
)  # fmt: skip


@router.get("/graph", dependencies=[needs(Perm.GRAPH)])
def graph_page(request: Request, full: bool = False) -> Response:
    if not integrations.available("graph"):
        return unavailable(request, "graph")
    from haechi.graph.export import FORMATS

    return render(request, "graph.html", full=full, node_types=NODE_TYPES, formats=list(FORMATS))


def _type(value: Any) -> str:
    kind = str(value or "")
    return kind if kind in NODE_TYPES else ("identifier" if kind else "")


def elements(g: Any, limit: int = MAX_NODES) -> dict[str, Any]:
    """Cytoscape elements of the ``limit`` highest-degree nodes of ``g`` (any networkx graph):
    each node with its label, its type (``identifier`` for wallets, phones, handles, URLs;
    ``kind`` keeps which) and the page it opens."""
    keep = sorted(g.nodes, key=lambda n: (-g.degree(n), str(n)))[:limit]
    chosen = set(keep)
    nodes = []
    for n in keep:
        d = g.nodes[n]
        nodes.append(
            {
                "data": {
                    "id": str(n),
                    "label": str(d.get("label") or n)[:60],
                    "type": _type(d.get("type")),
                    "kind": str(d.get("type") or ""),
                    "chat_id": d.get("chat_id"),
                    "risk": d.get("risk_level") or "",
                    "href": node_href(str(n)),
                }
            }
        )
    edges = []
    for i, (a, b, d) in enumerate(g.edges(data=True)):
        if a in chosen and b in chosen:
            kind = d.get("kinds") or d.get("kind") or ""
            weight = float(d.get("weight", 1) or 1)
            edges.append(
                {"data": {"id": f"e{i}", "source": str(a), "target": str(b),
                          "kind": str(kind).strip(",")[:60], "weight": weight}}
            )  # fmt: skip
    return {"nodes": nodes, "edges": edges, "total_nodes": g.number_of_nodes()}


@router.get("/graph/data.json", dependencies=[needs(Perm.GRAPH)])
def graph_data(request: Request, full: bool = False) -> dict[str, Any]:
    if not integrations.available("graph"):
        return unavailable(request, "graph")  # type: ignore[return-value]
    from haechi.graph.analysis import chat_projection, undirected
    from haechi.graph.current import current_graph

    g = current_graph(haechi(request))  # built again only when its inputs changed
    return elements(undirected(g) if full else chat_projection(g))


@router.get("/graph/node", dependencies=[needs(Perm.GRAPH)])
def node_page(request: Request, id: str = "") -> Response:
    """One node: where it appears, what it links to, where its room moved."""
    if not integrations.available("graph"):
        return unavailable(request, "graph")
    from haechi.services.network import node_view

    view = node_view(haechi(request), id)
    if view.type == "chat" and request.query_params.get("timeline") == "1":
        return RedirectResponse(f"/chats/{view.chat_id}", status_code=303)
    return render(request, "graph_node.html", v=view)


@router.get("/graph/node/forwards", dependencies=[needs(Perm.GRAPH)])
def node_forwards(request: Request, chat: int = 0) -> Response:
    """A room's forward sources, loaded by htmx after its node page."""
    if not integrations.available("graph"):
        return unavailable(request, "graph")
    from haechi.services.network import forward_sources

    return render(request, "_graph_forwards.html", forwards=forward_sources(haechi(request), chat))


MEDIA_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml",
               "cytoscape": "application/json"}  # fmt: skip


def export_download(request: Request, fmt: str, chats_only: bool, accounts: bool) -> Response:
    """The map written by ``export_graph``, sent as a download: an ``export`` entry of the
    audit trail under the person's name, with its signed custody event."""
    from haechi.graph.export import FORMATS
    from haechi.graph.service import BuildOptions, export_graph

    if fmt not in FORMATS:
        raise UsageError(
            t_(
                "Unknown graph format {fmt!r}: use one of {formats}.",
                fmt=fmt[:40],
                formats=", ".join(FORMATS),
            )
        )
    with tempfile.TemporaryDirectory(prefix="haechi-graph-") as tmp:
        path = Path(tmp) / f"haechi-graph{FORMATS[fmt]}"
        opts = BuildOptions(accounts=accounts)
        info = export_graph(haechi(request), path, fmt, opts=opts, chats_only=chats_only,
                            actor=current(request).actor)  # fmt: skip
        data = path.read_bytes()
    name = f"haechi-graph-{info['sha256'][:12]}{FORMATS[fmt]}"
    return Response(
        data, media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "X-Content-SHA256": info["sha256"]},
    )  # fmt: skip


@router.get("/graph/export", dependencies=[needs(Perm.EXPORT)])
def graph_export(
    request: Request, format: str = "gexf", chats_only: bool = False, accounts: bool = True
) -> Response:
    if not integrations.available("graph"):
        return unavailable(request, "graph")
    return export_download(request, format, chats_only, accounts)


@router.get("/api/graph/export", dependencies=[needs(Perm.EXPORT)], tags=["api"])
def api_graph_export(
    request: Request, format: str = "gexf", chats_only: bool = False, accounts: bool = True
) -> Response:
    if not integrations.available("graph"):
        return unavailable(request, "graph")
    return export_download(request, format, chats_only, accounts)
