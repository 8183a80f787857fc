"""``haechi match``: check files against everything known, match everything stored, show
duplicate groups. A thin shell over ``haechi.match.lookup`` / ``matching`` / ``groups``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import App, open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _, current

ORDER = 45


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def describe_region(details: dict[str, Any]) -> str:
    """A region match in words, in the chosen language (``haechi.match.describe``)."""
    from haechi.match.describe import describe_region as words

    return words(details, current())


def group_summary(g: Any) -> str:
    """Where a duplicate group was posted, in the chosen language."""
    if current() == "en":
        return str(g.summary())
    where = _("posted in {n} chat(s)").format(n=g.chats)
    first = g.first
    if first is not None:
        where += _(", first in {chat} on {when}").format(
            chat=first.chat_title or first.chat_key, when=first.when
        )
    if len(g.members) > 1:
        where += _(" ({n} different files)").format(n=len(g.members))
    return where


def _describe_hit(h: Any, app: App) -> str:
    from haechi.match.groups import duplicate_group

    how = _("{kind} distance {distance}").format(kind=h.kind, distance=h.distance)
    if h.transform and h.transform != "original":
        how += f" ({h.transform})"
    if h.kind == "region":
        how = _("region stage: median {distance} bits, {region}").format(
            distance=h.distance, region=describe_region(h.details)
        )
    if h.kind == "vpdq" and h.details:
        how += _(", {query}% / {compared}% of frames").format(
            query=h.details.get("query_match_percent"),
            compared=h.details.get("compared_match_percent"),
        )
    if h.is_bank:
        labels = f" [{', '.join(h.labels)}]" if h.labels else ""
        ext = f" ({h.external_id})" if h.external_id else ""
        bank = _("bank {name} item {item}").format(name=repr(h.bank_name), item=h.bank_item_id)
        return f"{bank}{ext}{labels}: {how}"
    group = duplicate_group(app, h.target_blob_sha256)
    stored = _("stored file {sha256}").format(sha256=h.target_blob_sha256)
    return f"{stored}: {how} — {group_summary(group)}"


def _match_files(app: App, files: list[Path], threshold: int, as_json: bool) -> None:
    from haechi.match.lookup import match_file

    results = [match_file(app, f, radius=threshold) for f in files]
    if as_json:
        _echo_json([r.as_dict() for r in results])
        return
    for r in results:
        head = f"[bold]{r.path}[/]  sha256 {r.sha256}  md5 {r.md5}"
        if r.pdq:
            head += "  pdq " + _("{pdq} (quality {quality})").format(pdq=r.pdq, quality=r.quality)
        elif r.vpdq_frames:
            head += "  vpdq " + _("{n} frames").format(n=r.vpdq_frames)
        out.print(head, highlight=False)
        if r.stored:
            out.print("  " + _("= these exact bytes are stored in the vault"), highlight=False)
        if r.problem:
            said = _("no perceptual hash: {problem}").format(problem=r.problem)
            out.print(f"  [yellow]{said}[/]", highlight=False)
        if r.quality is not None and r.quality < 50:
            out.print(f"  [yellow]{_('PDQ quality below 50: too flat to match reliably')}[/]")
        for h in r.hits:
            out.print(f"  ✓ {_describe_hit(h, app)}", highlight=False)
        if not r.hits and not r.stored:
            out.print("  " + _("no match"), highlight=False)


def _print_all(app: App, report: Any, limit: int, as_json: bool) -> None:
    from haechi.match.lookup import list_matches

    # After a run, the matches it found are the news; with nothing new, the stored ones.
    new_ids = list(report.new_match_ids) if report is not None else []
    matches = list_matches(app, ids=new_ids[-limit:], limit=limit) if new_ids else []
    if not matches:
        matches = list_matches(app, limit=limit)
    if as_json:
        _echo_json({"run": report.as_dict() if report else None,
                    "matches": [m.as_dict() for m in matches]})  # fmt: skip
        return
    if report is not None:
        indexed = ", ".join(f"{k} +{v:,}" for k, v in report.indexed.items())
        said = _(
            "indexes: {indexed}; {hashes} hashes and {files} files checked; {new} new matches"
        ).format(
            indexed=indexed, hashes=f"{report.signals_scanned:,}",
            files=f"{report.files_checked_exact:,}", new=f"{report.new_matches:,}",
        )  # fmt: skip
        out.print(said, highlight=False)
    table = Table("#", _("stored file"), _("kind"), _("distance"), _("matches"), _("custody"))
    for m in matches:
        target = (
            _("bank {name} item {item}").format(name=repr(m.bank_name), item=m.bank_item_id)
            if m.is_bank
            else _("stored file {sha256}").format(sha256=(m.target_blob_sha256 or "")[:16] + "…")
        )
        distance = _("exact") if m.kind in ("md5", "sha256") else str(m.distance)
        if m.transform and m.transform != "original":
            distance += f" ({m.transform})"
        if m.region is not None:
            part = ", ".join(f"{v:.0%}" for v in m.region.get("target_box") or [])
            distance += " " + _("({pairs} regions; part [{part}])").format(
                pairs=m.region.get("pairs"), part=part
            )
        table.add_row(str(m.id), m.blob_sha256[:16] + "…", m.kind, distance, target,
                      str(m.custody_seq or ""))  # fmt: skip
    if new_ids:
        table.title, table.title_justify = _("new matches"), "left"
    out.print(table)
    if len(new_ids) > limit:
        out.print(
            _("(the last {limit} of {total} new matches; use --limit for more)").format(
                limit=f"{limit:,}", total=f"{len(new_ids):,}"
            )
        )
    elif not new_ids and len(matches) == limit:
        out.print(
            _("(first {limit} matches; use --limit or --json for more)").format(limit=f"{limit:,}")
        )


def _print_groups(app: App, sha: str | None, min_chats: int, as_json: bool) -> None:
    from haechi.match.groups import duplicate_group, duplicate_groups

    groups = [duplicate_group(app, sha)] if sha else duplicate_groups(app, min_chats=min_chats)
    if as_json:
        _echo_json([g.as_dict() for g in groups])
        return
    if not groups:
        out.print(_("no file was posted in {n} or more chats").format(n=min_chats))
    for g in groups:
        out.print(f"[bold]{g.key[:16]}…[/] {group_summary(g)}", highlight=False)
        for s in g.sightings:
            fwd = (
                _(" (forwarded from {who})").format(who=s.forwarded_from)
                if s.forwarded_from
                else ""
            )
            where = _("message {message}  file {sha256}").format(
                message=s.message_id, sha256=s.blob_sha256[:12] + "…"
            )
            out.print(f"    {s.when}  {s.chat_title or s.chat_key}  {where}{fwd}", highlight=False)


def match(
    files: Annotated[
        list[Path] | None, typer.Argument(help=_("Files to check (they are not stored)."))
    ] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help=_("Match every stored file not yet matched; list matches.")),
    ] = False,
    rescan: Annotated[
        bool, typer.Option(help=_("With --all: match every stored file again."))
    ] = False,
    rebuild_index: Annotated[
        bool, typer.Option(help=_("Rebuild the PDQ indexes from the database first."))
    ] = False,
    groups: Annotated[
        bool,
        typer.Option("--groups", help=_("List duplicate groups (files posted in many chats).")),
    ] = False,
    group: Annotated[
        str | None, typer.Option(help=_("Show the duplicate group of one stored file (SHA-256)."))
    ] = None,
    min_chats: Annotated[
        int, typer.Option(min=1, help=_("With --groups: at least this many."))
    ] = 2,
    threshold: Annotated[
        int, typer.Option(min=0, max=80, help=_("PDQ distance in bits for FILE checks."))
    ] = 31,
    limit: Annotated[int, typer.Option(min=1, help=_("Matches listed by --all."))] = 200,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    """Check FILEs against the banks and every stored file (hits with distances), or
    match everything stored (--all), or show duplicate groups (--groups, --group)."""
    if not (files or all_ or groups or group or rebuild_index):
        raise UsageError(_("Give files to check, --all, --groups or --group <sha256>."))
    app = open_app(home)
    try:
        if rebuild_index:
            from haechi.match.index import IndexSet

            rows = IndexSet(app).rebuild()
            if not as_json:
                out.print(_("rebuilt: ") + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
        if files:
            _match_files(app, files, threshold, as_json)
        if all_:
            from haechi.match.matching import run_matching

            _print_all(app, run_matching(app, rescan=rescan), limit, as_json)
        if groups or group:
            _print_groups(app, group, min_chats, as_json)
    finally:
        app.close()


def register(app: typer.Typer) -> None:
    app.command(
        "match",
        help=_(
            "Check FILEs against the banks and every stored file (hits "
            "with distances), or match everything stored (--all), or show"
            " duplicate groups (--groups, --group)."
        ),
    )(match)
