"""``haechi graph``: the network map of rooms, accounts, bots, identifiers and media."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 70

graph_app = typer.Typer(help=_("The network map: who makes, who spreads, where they went."))
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def _when(unix: int | None) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M") if unix else "-"


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


@graph_app.command(
    "build",
    help=_("Build the map and print its shape, central nodes, communities and successors."),
)
def build(
    home: HomeOption = None,
    no_accounts: Annotated[bool, typer.Option(help=_("Leave sender accounts out."))] = False,
    top: Annotated[int, typer.Option(min=1, help=_("How many top nodes to list."))] = 10,
    as_json: JsonOption = False,
) -> None:
    """Build the map and print its shape, central nodes, communities and successors."""
    from haechi.graph.service import BuildOptions, build_graph, summary

    app = open_app(home)
    try:
        g = build_graph(app, BuildOptions(accounts=not no_accounts))
    finally:
        app.close()
    s = summary(g, n=top)
    if as_json:
        typer.echo(json.dumps(asdict(s), ensure_ascii=False, indent=2))
        return
    said = _("graph: {nodes} nodes, {edges} edges (text {text}, media grouped by {media})").format(
        nodes=f"{s.nodes:,}", edges=f"{s.edges:,}", text=s.text_version or _("not analysed"),
        media=s.media_groups,
    )  # fmt: skip
    out.print(said, highlight=False)
    nodes = ", ".join(f"{k} {v}" for k, v in s.node_types.items())
    out.print(_("nodes: {nodes}").format(nodes=nodes), highlight=False)
    edges = ", ".join(f"{k} {v}" for k, v in s.edge_kinds.items())
    out.print(_("edges: {edges}").format(edges=edges), highlight=False)
    table = Table(
        _("node"), _("type"), _("label"), "pagerank", _("community"), title=_("most central")
    )
    for r in s.top_pagerank:
        table.add_row(
            r["node"], r["type"], str(r["label"]), f"{r['pagerank']:.4f}", str(r["community"])
        )
    out.print(table)
    for c in s.communities:
        said = _("community {community}: {size} nodes, {rooms} rooms {labels}").format(
            community=c["community"], size=c["size"], rooms=c["rooms"], labels=c["labels"]
        )
        out.print(said, highlight=False)
    for e in s.successors:
        said = _(
            "successor: {source} -> {target} (link {link}, target {resolution}: {why})"
        ).format(
            source=e["from_label"], target=e["to_label"], link=e["confidence"],
            resolution=e["resolution"], why=e["reasons"],
        )  # fmt: skip
        out.print(said, highlight=False)


@graph_app.command(
    "export",
    help=_("Write the map as GEXF, GraphML or Cytoscape JSON (recorded in the custody log)."),
)
def export(
    path: Annotated[Path, typer.Argument(help=_("File to write."))],
    home: HomeOption = None,
    fmt: Annotated[str, typer.Option("--format", help=_("gexf, graphml or cytoscape."))] = "gexf",
    chats_only: Annotated[
        bool, typer.Option(help=_("Only rooms, linked by what they share (a projection)."))
    ] = False,
    no_accounts: Annotated[bool, typer.Option(help=_("Leave sender accounts out."))] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the map as GEXF, GraphML or Cytoscape JSON (recorded in the custody log)."""
    from haechi.graph.service import BuildOptions, export_graph

    app = open_app(home)
    try:
        info = export_graph(
            app, path, fmt, opts=BuildOptions(accounts=not no_accounts), chats_only=chats_only
        )
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    said = _("wrote {path}: {nodes} nodes, {edges} edges, sha256 {sha256}").format(
        path=info["path"], nodes=f"{info['nodes']:,}", edges=f"{info['edges']:,}",
        sha256=info["sha256"],
    )  # fmt: skip
    out.print(said, highlight=False)


@graph_app.command(
    "spread",
    help=_("How a bot or a media group spread: first seen, every appearance, rooms over time."),
)
def spread(
    subject: Annotated[str, typer.Argument(help=_("@bot_username, or the SHA-256 of a file."))],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """How a bot or a media group spread: first seen, every appearance, rooms over time."""
    from haechi.graph.service import bot_spread, media_spread

    app = open_app(home)
    try:
        is_bot = subject.startswith("@") or not all(c in "0123456789abcdefABCDEF" for c in subject)
        s = bot_spread(app, subject) if is_bot else media_spread(app, subject)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(s.as_dict(), ensure_ascii=False, indent=2))
        return
    tts = s.time_to_spread
    said = _(
        "{subject}: first seen {first}, last seen {last}, {n} appearances in {rooms} rooms; time "
        "to reach the others: median {median}, max {max}"
    ).format(
        subject=s.subject, first=_when(s.first_seen), last=_when(s.last_seen),
        n=len(s.appearances), rooms=tts.get("rooms", 0), median=_hours(tts.get("median_s")),
        max=_hours(tts.get("max_s")),
    )  # fmt: skip
    out.print(said, highlight=False)
    table = Table(
        _("first (UTC)"), _("chat"), _("title"), _("count"), _("how"), _("after first seen")
    )
    for c in s.chats:
        table.add_row(
            _when(c["first"]),
            str(c["chat_id"]),
            c["chat"],
            str(c["count"]),
            ",".join(c["how"]),
            _hours(c["after_first_seen_s"]),
        )
    out.print(table)
    for day in s.timeline:
        said = _("{day}: rooms {rooms} (new {new}), {total} so far").format(
            day=day["day"], rooms=day["rooms"], new=day["new_rooms"], total=day["cumulative_rooms"]
        )
        out.print(said, highlight=False)


@graph_app.command(
    "successors",
    help=_(
        "Successor and backup rooms: links announced as a new room or"
        " posted just before a room went quiet, with the target room "
        "when the evidence resolves it."
    ),
)
def successors(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Successor and backup rooms: links announced as a new room or posted just before
    a room went quiet, with the target room when the evidence resolves it."""
    from haechi.graph.service import successor_rooms

    app = open_app(home)
    try:
        rows = successor_rooms(app)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in rows], ensure_ascii=False, indent=2))
        return
    table = Table(
        _("from chat"), _("to"), _("via"), _("when (UTC)"), _("confidence"), _("target"),
        _("why"),
    )  # fmt: skip
    for s in rows:
        resolved = f"{s.resolution:.2f}" if s.resolution is not None else _("unresolved")
        table.add_row(
            str(s.source_chat),
            s.target,
            s.via,
            _when(s.at),
            f"{s.confidence:.2f}",
            resolved,
            "; ".join(s.reasons),
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
