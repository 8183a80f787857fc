"""``haechi text``: lexicon findings, identifiers and room risk scores."""

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

ORDER = 65

text_app = typer.Typer(help=_("Text intelligence: lexicon findings, identifiers, room risk."))
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def _day(unix: int | None) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M") if unix else "-"


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@text_app.command(
    "analyze",
    help=_("Scan every message not yet scanned at the current lexicon version; rescore rooms."),
)
def analyze(
    home: HomeOption = None,
    rescore_all: Annotated[
        bool, typer.Option(help=_("Rescore every room, not only touched ones."))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Scan every message not yet scanned at the current lexicon version; rescore rooms."""
    from haechi.analyze.text.runner import run_text_analysis

    app = open_app(home)
    try:
        report = run_text_analysis(app, rescore_all=rescore_all)
    finally:
        app.close()
    if as_json:
        _echo_json(report.as_dict())
        return
    said = _(
        "text {version}: {messages} messages scanned, {flagged} flagged, {findings} findings, "
        "{entities} identifiers, {rooms} rooms scored in {seconds} s"
    ).format(
        version=report.version, messages=f"{report.messages:,}", flagged=f"{report.flagged:,}",
        findings=f"{report.findings:,}", entities=f"{report.entities:,}",
        rooms=f"{report.rooms_scored:,}", seconds=f"{report.seconds:.1f}",
    )  # fmt: skip
    out.print(said, highlight=False)


@text_app.command("rooms", help=_("Rooms ranked by risk score, with the reasons."))
def rooms(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(min=1, help=_("How many rooms."))] = 20,
    chat: Annotated[int | None, typer.Option(help=_("Only this chat (database id)."))] = None,
    explain: Annotated[bool, typer.Option(help=_("Print every line of the explanation."))] = False,
    as_json: JsonOption = False,
) -> None:
    """Rooms ranked by risk score, with the reasons."""
    from haechi.analyze.text.service import room_ranking

    app = open_app(home)
    try:
        rows = room_ranking(app, limit=limit, chat_id=chat)
    finally:
        app.close()
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    table = Table(
        _("chat"), _("title"), _("score"), _("level"), _("msgs"), _("flagged"), _("news"),
        _("why"),
    )  # fmt: skip
    for r in rows:
        table.add_row(
            str(r.chat_id),
            r.title or "-",
            f"{r.score:.1f}",
            r.level,
            f"{r.messages:,}",
            f"{r.flagged:,}",
            f"{r.news_like:,}",
            r.reasons(),
        )
    out.print(table)
    if explain:
        for r in rows:
            out.print(f"[bold]{r.chat_id} {r.title or ''}[/]", highlight=False)
            for line in r.explanation:
                out.print(f"  {json.dumps(line, ensure_ascii=False)}", highlight=False)


@text_app.command(
    "findings",
    help=_("Per-message findings: term, span, strength (victim details redacted by default)."),
)
def findings_cmd(
    home: HomeOption = None,
    chat: Annotated[int | None, typer.Option(help=_("Only this chat (database id)."))] = None,
    term: Annotated[str | None, typer.Option(help=_("Only this term, pattern or rule id."))] = None,
    category: Annotated[str | None, typer.Option(help=_("Only this category."))] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    reveal: Annotated[
        bool, typer.Option(help=_("Show victim-identifying details unredacted (logged)."))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Per-message findings: term, span, strength (victim details redacted by default)."""
    from haechi.analyze.text.service import findings

    app = open_app(home)
    try:
        rows = findings(app, chat_id=chat, term=term, category=category, limit=limit, reveal=reveal)
    finally:
        app.close()
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    table = Table(
        _("chat"), _("msg"), _("date (UTC)"), _("kind"), _("id"), _("strength"), _("span"),
        _("text"),
    )  # fmt: skip
    for r in rows:
        table.add_row(
            str(r.chat_id),
            str(r.message_id),
            _day(r.date_unix),
            r.kind,
            r.term_id,
            r.strength or "-",
            f"{r.span[0]}-{r.span[1]}",
            r.matched + (" \\[" + _("news") + "]" if r.news_like else ""),
        )
    out.print(table)


@text_app.command("entities", help=_("Identifiers found in messages, most widespread first."))
def entities_cmd(
    home: HomeOption = None,
    kind: Annotated[str | None, typer.Option(help=_("tg_invite, tg_bot, btc, phone, ..."))] = None,
    chat: Annotated[int | None, typer.Option(help=_("Only this chat (database id)."))] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: JsonOption = False,
) -> None:
    """Identifiers found in messages, most widespread first."""
    from haechi.analyze.text.service import entities

    app = open_app(home)
    try:
        rows = entities(app, kind=kind, chat_id=chat, limit=limit)
    finally:
        app.close()
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    table = Table(_("kind"), _("value"), _("messages"), _("chats"), _("first seen"), _("last seen"))
    for r in rows:
        table.add_row(
            r.kind, r.value, str(r.messages), str(r.chats), _day(r.first_seen), _day(r.last_seen)
        )
    out.print(table)


@text_app.command(
    "lexicon",
    help=_("Show the lexicon in force (version, files, counts), or import an analyst's file."),
)
def lexicon_cmd(
    home: HomeOption = None,
    import_file: Annotated[
        Path | None, typer.Option("--import", help=_("Validate and add an analyst lexicon file."))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the lexicon in force (version, files, counts), or import an analyst's file."""
    from haechi.analyze.text.service import import_lexicon, lexicon_info

    app = open_app(home)
    try:
        info = import_lexicon(app, import_file) if import_file else lexicon_info(app)
    finally:
        app.close()
    if as_json:
        _echo_json(info)
        return
    for key, value in info.items():
        out.print(f"{key}: {value}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(text_app, name="text")
