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

ORDER = 70

graph_app = typer.Typer(help="The network map: who makes, who spreads, where they went.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _when(unix: int | None) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M") if unix else "-"


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


@graph_app.command("build")
def build(
    home: HomeOption = None,
    no_accounts: Annotated[bool, typer.Option(help="Leave sender accounts out.")] = False,
    top: Annotated[int, typer.Option(min=1, help="How many top nodes to list.")] = 10,
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
    out.print(
        f"graph: {s.nodes:,} nodes, {s.edges:,} edges (text {s.text_version or 'not analysed'},"
        f" media grouped by {s.media_groups})",
        highlight=False,
    )
    out.print("nodes: " + ", ".join(f"{k} {v}" for k, v in s.node_types.items()), highlight=False)
    out.print("edges: " + ", ".join(f"{k} {v}" for k, v in s.edge_kinds.items()), highlight=False)
    table = Table("node", "type", "label", "pagerank", "community", title="most central")
    for r in s.top_pagerank:
        table.add_row(
            r["node"], r["type"], str(r["label"]), f"{r['pagerank']:.4f}", str(r["community"])
        )
    out.print(table)
    for c in s.communities:
        out.print(
            f"community {c['community']}: {c['size']} nodes, {c['rooms']} rooms {c['labels']}",
            highlight=False,
        )
    for e in s.successors:
        out.print(
            f"successor: {e['from_label']} -> {e['to_label']} (link {e['confidence']}, "
            f"target {e['resolution']}: {e['reasons']})",
            highlight=False,
        )


@graph_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="File to write.")],
    home: HomeOption = None,
    fmt: Annotated[str, typer.Option("--format", help="gexf, graphml or cytoscape.")] = "gexf",
    chats_only: Annotated[
        bool, typer.Option(help="Only rooms, linked by what they share (a projection).")
    ] = False,
    no_accounts: Annotated[bool, typer.Option(help="Leave sender accounts out.")] = False,
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
    out.print(
        f"wrote {info['path']}: {info['nodes']:,} nodes, {info['edges']:,} edges, "
        f"sha256 {info['sha256']}",
        highlight=False,
    )


@graph_app.command("spread")
def spread(
    subject: Annotated[str, typer.Argument(help="@bot_username, or the SHA-256 of a file.")],
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
    out.print(
        f"{s.subject}: first seen {_when(s.first_seen)}, last seen {_when(s.last_seen)}, "
        f"{len(s.appearances)} appearances in {tts.get('rooms', 0)} rooms; time to reach "
        f"the others: median {_hours(tts.get('median_s'))}, max {_hours(tts.get('max_s'))}",
        highlight=False,
    )
    table = Table("first (UTC)", "chat", "title", "count", "how", "after first seen")
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
        out.print(
            f"{day['day']}: rooms {day['rooms']} (new {day['new_rooms']}), "
            f"{day['cumulative_rooms']} so far",
            highlight=False,
        )


@graph_app.command("successors")
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
    table = Table("from chat", "to", "via", "when (UTC)", "confidence", "target", "why")
    for s in rows:
        resolved = f"{s.resolution:.2f}" if s.resolution is not None else "unresolved"
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
