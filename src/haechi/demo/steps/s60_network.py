"""Text intelligence and the network map on the sample: rooms ranked by risk, the bot they
advertise and how it spread, and the backup room linked to its predecessor."""

from __future__ import annotations

from datetime import UTC, datetime

from haechi.demo.steps import DemoContext

ORDER = 60
TITLE = "network"


def _when(unix: int | None) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M UTC") if unix else "-"


def run(ctx: DemoContext) -> None:
    from haechi.analyze.text.runner import run_text_analysis
    from haechi.analyze.text.service import entities, room_ranking
    from haechi.graph.service import bot_spread, build_graph, successor_rooms, summary

    report = run_text_analysis(ctx.app)  # the ingest hook did it already: catches up only
    ctx.out.print(
        f"text analysis {report.version}: {report.messages} new messages scanned",
        highlight=False,
    )
    rooms = room_ranking(ctx.app, limit=10)
    ctx.out.print("[bold]rooms by risk[/] (a ranking for review, never a verdict):")
    for r in rooms:
        ctx.out.print(f"  {r.score:5.1f} {r.level:<8} {r.title}  — {r.reasons()}", highlight=False)
    bots = entities(ctx.app, kind="tg_bot", limit=5)
    for b in bots:
        s = bot_spread(ctx.app, b.value)
        path = " → ".join(f"{c['chat']} ({_when(c['first'])})" for c in s.chats)
        ctx.out.print(
            f"[bold]advertised bot[/] @{b.value}: {len(s.appearances)} appearances in "
            f"{len(s.chats)} rooms: {path}",
            highlight=False,
        )
    titles = {r.chat_id: r.title for r in rooms}
    for link in successor_rooms(ctx.app):
        target = titles.get(link.target_chat or -1, link.target)
        ctx.out.print(
            f"[bold]successor room[/] {titles.get(link.source_chat)} → {target} via "
            f"t.me/{link.via} (link {link.confidence:.2f}, target {link.resolution or 0:.2f}: "
            f"{'; '.join(link.reasons)})",
            highlight=False,
        )
    g = build_graph(ctx.app)
    sm = summary(g, n=3)
    ctx.out.print(
        f"network map: {sm.nodes} nodes, {sm.edges} edges "
        f"({', '.join(f'{k} {v}' for k, v in sm.edge_kinds.items())})",
        highlight=False,
    )
    ctx.facts["top_room"] = rooms[0].title if rooms else None
    ctx.out.print(
        f"Try: haechi text rooms --explain --home {ctx.home}   ·   "
        f"haechi graph export map.gexf --home {ctx.home}"
    )
