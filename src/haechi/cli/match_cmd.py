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

ORDER = 45


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def describe_region(details: dict[str, Any]) -> str:
    """A region match in words: which part of the matched picture, where, at what scale."""
    tb = details.get("target_box") or [0, 0, 1, 1]
    qb = details.get("query_box") or [0, 0, 1, 1]
    part = ", ".join(f"{v:.0%}" for v in tb)
    where = ", ".join(f"{v:.0%}" for v in qb)
    return (f"{details.get('pairs')} regions agree (of {details.get('checked')} checked), "
            f"its part [{part}] seen at [{where}] of this file, scale "
            f"{float(details.get('scale') or 1):.2f}")  # fmt: skip


def _describe_hit(h: Any, app: App) -> str:
    from haechi.match.groups import duplicate_group

    how = f"{h.kind} distance {h.distance}"
    if h.transform and h.transform != "original":
        how += f" ({h.transform})"
    if h.kind == "region":
        how = f"region stage: median {h.distance} bits, {describe_region(h.details)}"
    if h.kind == "vpdq" and h.details:
        how += (f", {h.details.get('query_match_percent')}% / "
                f"{h.details.get('compared_match_percent')}% of frames")  # fmt: skip
    if h.is_bank:
        labels = f" [{', '.join(h.labels)}]" if h.labels else ""
        ext = f" ({h.external_id})" if h.external_id else ""
        return f"bank {h.bank_name!r} item {h.bank_item_id}{ext}{labels}: {how}"
    group = duplicate_group(app, h.target_blob_sha256)
    return f"stored file {h.target_blob_sha256}: {how} — {group.summary()}"


def _match_files(app: App, files: list[Path], threshold: int, as_json: bool) -> None:
    from haechi.match.lookup import match_file

    results = [match_file(app, f, radius=threshold) for f in files]
    if as_json:
        _echo_json([r.as_dict() for r in results])
        return
    for r in results:
        head = f"[bold]{r.path}[/]  sha256 {r.sha256}  md5 {r.md5}"
        if r.pdq:
            head += f"  pdq {r.pdq} (quality {r.quality})"
        elif r.vpdq_frames:
            head += f"  vpdq {r.vpdq_frames} frames"
        out.print(head, highlight=False)
        if r.stored:
            out.print("  = these exact bytes are stored in the vault", highlight=False)
        if r.problem:
            out.print(f"  [yellow]no perceptual hash: {r.problem}[/]", highlight=False)
        if r.quality is not None and r.quality < 50:
            out.print("  [yellow]PDQ quality below 50: too flat to match reliably[/]")
        for h in r.hits:
            out.print(f"  ✓ {_describe_hit(h, app)}", highlight=False)
        if not r.hits and not r.stored:
            out.print("  no match", highlight=False)


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
        out.print(f"indexes: {indexed}; {report.signals_scanned:,} hashes and "
                  f"{report.files_checked_exact:,} files checked; "
                  f"{report.new_matches:,} new matches", highlight=False)  # fmt: skip
    table = Table("#", "stored file", "kind", "distance", "matches", "custody")
    for m in matches:
        target = (f"bank {m.bank_name!r} item {m.bank_item_id}" if m.is_bank
                  else f"stored file {(m.target_blob_sha256 or '')[:16]}…")  # fmt: skip
        distance = "exact" if m.kind in ("md5", "sha256") else str(m.distance)
        if m.transform and m.transform != "original":
            distance += f" ({m.transform})"
        if m.region is not None:
            part = ", ".join(f"{v:.0%}" for v in m.region.get("target_box") or [])
            distance += f" ({m.region.get('pairs')} regions; part [{part}])"
        table.add_row(str(m.id), m.blob_sha256[:16] + "…", m.kind, distance, target,
                      str(m.custody_seq or ""))  # fmt: skip
    if new_ids:
        table.title, table.title_justify = "new matches", "left"
    out.print(table)
    if len(new_ids) > limit:
        out.print(f"(the last {limit:,} of {len(new_ids):,} new matches; use --limit for more)")
    elif not new_ids and len(matches) == limit:
        out.print(f"(first {limit:,} matches; use --limit or --json for more)")


def _print_groups(app: App, sha: str | None, min_chats: int, as_json: bool) -> None:
    from haechi.match.groups import duplicate_group, duplicate_groups

    groups = [duplicate_group(app, sha)] if sha else duplicate_groups(app, min_chats=min_chats)
    if as_json:
        _echo_json([g.as_dict() for g in groups])
        return
    if not groups:
        out.print(f"no file was posted in {min_chats} or more chats")
    for g in groups:
        out.print(f"[bold]{g.key[:16]}…[/] {g.summary()}", highlight=False)
        for s in g.sightings:
            fwd = f" (forwarded from {s.forwarded_from})" if s.forwarded_from else ""
            out.print(f"    {s.when}  {s.chat_title or s.chat_key}  message {s.message_id}"
                      f"  file {s.blob_sha256[:12]}…{fwd}", highlight=False)  # fmt: skip


def match(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Files to check (they are not stored).")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Match every stored file not yet matched; list matches.")
    ] = False,
    rescan: Annotated[
        bool, typer.Option(help="With --all: match every stored file again.")
    ] = False,
    rebuild_index: Annotated[
        bool, typer.Option(help="Rebuild the PDQ indexes from the database first.")
    ] = False,
    groups: Annotated[
        bool, typer.Option("--groups", help="List duplicate groups (files posted in many chats).")
    ] = False,
    group: Annotated[
        str | None, typer.Option(help="Show the duplicate group of one stored file (SHA-256).")
    ] = None,
    min_chats: Annotated[int, typer.Option(min=1, help="With --groups: at least this many.")] = 2,
    threshold: Annotated[
        int, typer.Option(min=0, max=80, help="PDQ distance in bits for FILE checks.")
    ] = 31,
    limit: Annotated[int, typer.Option(min=1, help="Matches listed by --all.")] = 200,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check FILEs against the banks and every stored file (hits with distances), or
    match everything stored (--all), or show duplicate groups (--groups, --group)."""
    if not (files or all_ or groups or group or rebuild_index):
        raise UsageError("Give files to check, --all, --groups or --group <sha256>.")
    app = open_app(home)
    try:
        if rebuild_index:
            from haechi.match.index import IndexSet

            rows = IndexSet(app).rebuild()
            if not as_json:
                out.print("rebuilt: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
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
    app.command("match")(match)
