"""``haechi face``: consent-based face search, the search log, recurring-face clusters.

A thin shell over :mod:`haechi.subjects.search` and :mod:`haechi.subjects.clusters`.
Results name files by SHA-256 and where they appeared; no picture is ever shown here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.auth import audit
from haechi.auth.types import cli_actor
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.cli.subject_cmd import JsonOption, StaffOption
from haechi.domain import HaechiError, UsageError

if TYPE_CHECKING:
    from haechi.subjects.model import ImageHit

ORDER = 51

face_app = typer.Typer(
    help="Face search (with consent, logged) and clusters of recurring unknown faces.",
    no_args_is_help=True,
)
ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the log).")]


def _where(hit: ImageHit, most: int = 3) -> str:
    parts = []
    for s in hit.sightings[:most]:
        when = datetime.fromtimestamp(s.date_unix, UTC).strftime("%Y-%m-%d") if s.date_unix else "?"
        parts.append(f"{s.chat_title or f'chat {s.chat_id}'} #{s.message_id} ({when})")
    more = len(hit.sightings) - most
    if more > 0:
        parts.append(f"+{more} more")
    return "; ".join(parts) or "not referenced by any message"


def hits_text(hits: list[ImageHit], limit: int, title: str) -> str:
    """One line per file (rank, distance, full SHA-256, faces matched), then where it
    appeared, indented: hashes are never cut, so they can be copied and grepped whole."""
    lines = [f"{title}:"]
    for rank, hit in enumerate(hits[:limit], 1):
        lines.append(f"{rank:>3}  {hit.distance:.3f}  {hit.blob_sha256}  faces {hit.faces_matched}")
        lines.append(f"          {_where(hit)}")
    if len(hits) > limit:
        lines.append(f"... and {len(hits) - limit} more (--limit, or --json for all)")
    return "\n".join(lines)


def index_mode(mode: dict[str, object]) -> str:
    """How the index answered, in words: whether the search could have missed a face."""
    faces = f"{mode.get('faces', 0):,} faces"
    if mode.get("kind") != "ivf":
        return f"exact search of {faces}"
    if mode.get("exhaustive"):
        return f"exhaustive search of {faces} (every one of {mode.get('nlist')} cells)"
    return (
        f"approximate search of {faces} ({mode.get('nprobe')} of {mode.get('nlist')} cells; "
        "finds >= 99% of the faces within the threshold, --exhaustive reads all)"
    )


@face_app.command("search")
def search(
    reason: ReasonOption,
    subject: Annotated[int | None, typer.Option(help="Search for this subject.")] = None,
    probe: Annotated[Path | None, typer.Option(help="Search with this photo instead.")] = None,
    basis: Annotated[
        str | None, typer.Option(help="For --probe: the consent or legal authority.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Distance threshold (default: the calibrated one).")
    ] = None,
    exhaustive: Annotated[
        bool,
        typer.Option(
            help="Read the whole index: exact, slower past 50,000 faces (the default finds "
            ">= 99% of the faces within the threshold, measured)."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print.")] = 50,
    staff: StaffOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every image showing a subject's face (or a probe photo's), nearest first, with the
    chats and messages where each appeared. Each search is logged with who and why."""
    from haechi.subjects.model import SEARCH_THRESHOLD
    from haechi.subjects.search import search_probe, search_subject

    if (subject is None) == (probe is None):
        raise UsageError("Give exactly one of --subject ID or --probe PHOTO.")
    app = open_app(home)
    try:
        who = staff or app.settings.operator
        thr = SEARCH_THRESHOLD if threshold is None else threshold
        target = f"subject:{subject}" if subject is not None else "probe"
        try:
            if subject is not None:
                result = search_subject(
                    app, subject, staff=who, reason=reason, threshold=thr, exhaustive=exhaustive
                )
            else:
                assert probe is not None
                result = search_probe(
                    app,
                    probe,
                    staff=who,
                    reason=reason,
                    basis=basis or "",
                    threshold=thr,
                    exhaustive=exhaustive,
                )
        except HaechiError as exc:  # refused searches are part of the trail too, as on the web
            audit.record_face_search(
                app, cli_actor(who), target, reason=reason, exhaustive=exhaustive, result=None,
                refused=str(exc),
            )  # fmt: skip
            raise
        # Also on the audit trail auditors read, beside the searches made on the web.
        audit.record_face_search(
            app, cli_actor(who), target, reason=reason, exhaustive=exhaustive, result=result
        )
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    out.print(
        f"search {result.search_id} (custody event {result.custody_seq}): "
        f"{len(result.hits)} image(s) across {result.chats} chat(s) within distance "
        f"{result.threshold} of {result.templates} template(s); {index_mode(result.index)}",
        highlight=False,
    )
    if result.hits:
        text = hits_text(result.hits, limit, "candidates - confirm each one by eye")
        out.print(text, highlight=False, markup=False)


@face_app.command("searches")
def searches(
    subject: Annotated[int | None, typer.Option(help="Only searches for this subject.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The search log: who searched, when, why, on what basis, and how much they saw."""
    from haechi.subjects.search import search_log

    app = open_app(home)
    try:
        entries = search_log(app, subject_id=subject, limit=limit)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=2))
        return
    table = Table("id", "at", "staff", "kind", "subject", "basis", "reason", "images")
    for e in entries:
        table.add_row(
            str(e.id),
            e.at[:19],
            e.staff,
            e.kind,
            str(e.subject_id or "-"),
            e.basis or "-",
            e.reason,
            str(e.images),
        )
    out.print(table)


@face_app.command("clusters")
def clusters(
    min_images: Annotated[int, typer.Option(min=2, help="Smallest cluster shown.")] = 2,
    update: Annotated[
        bool, typer.Option(help="Re-cluster first (new faces join or form clusters).")
    ] = True,
    staff: StaffOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recurring unknown faces: "person #17 appears in 42 images across 5 chats"."""
    from haechi.subjects.clusters import list_clusters, update_clusters

    app = open_app(home)
    try:
        run = update_clusters(app, staff=staff or app.settings.operator) if update else None
        found = list_clusters(app, min_images=min_images)
    finally:
        app.close()
    if as_json:
        typer.echo(
            json.dumps(
                {"run": asdict(run) if run else None, "clusters": [asdict(c) for c in found]},
                indent=2,
            )
        )
        return
    if run:
        out.print(
            f"clustered {run.clustered_faces} of {run.faces} faces into {run.clusters} "
            f"cluster(s) ({run.new_clusters} new)"
        )
        for cid, subjects in run.link_conflicts.items():
            out.print(f"[yellow]person #{cid} joins clusters linked to subjects {subjects}[/]")
    for c in found:
        notes = []
        if c.subject_label:
            notes.append(f"linked to subject {c.subject_id} ({c.subject_label})")
        if c.apparent_minor:
            notes.append("[bold red]apparent minor[/]")
        out.print(c.sentence() + (" - " + ", ".join(notes) if notes else ""), highlight=False)


@face_app.command("cluster")
def cluster(
    cluster_id: Annotated[int, typer.Argument(help="The person # of the cluster.")],
    limit: Annotated[int, typer.Option(min=1)] = 100,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The images of one cluster and where each appeared."""
    from haechi.subjects.clusters import cluster_images, get_cluster

    app = open_app(home)
    try:
        info = get_cluster(app, cluster_id)
        images = cluster_images(app, cluster_id)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps({"cluster": asdict(info), "images": [asdict(i) for i in images]}))
        return
    out.print(info.sentence())
    out.print(hits_text(images, limit, f"person #{cluster_id}"), highlight=False, markup=False)


@face_app.command("link")
def link(
    cluster_id: Annotated[int, typer.Argument(help="The person # of the cluster.")],
    reason: ReasonOption,
    subject: Annotated[int | None, typer.Option(help="Subject id (omit to unlink).")] = None,
    staff: StaffOption = None,
    home: HomeOption = None,
) -> None:
    """Link a cluster to a subject (her consent must cover 'link'), or unlink it."""
    from haechi.subjects.clusters import link_cluster

    app = open_app(home)
    try:
        info = link_cluster(
            app, cluster_id, subject, staff=staff or app.settings.operator, reason=reason
        )
    finally:
        app.close()
    where = f"linked to subject {info.subject_id}" if info.subject_id else "not linked"
    out.print(f"person #{cluster_id} is now {where}")


@face_app.command("minor")
def minor(
    cluster_id: Annotated[int, typer.Argument(help="The person # of the cluster.")],
    reason: ReasonOption,
    unset: Annotated[bool, typer.Option("--unset", help="Clear the flag instead.")] = False,
    staff: StaffOption = None,
    home: HomeOption = None,
) -> None:
    """Mark a cluster as showing an apparent minor (a staff judgement; routes notices)."""
    from haechi.subjects.clusters import set_apparent_minor

    app = open_app(home)
    try:
        set_apparent_minor(
            app, cluster_id, not unset, staff=staff or app.settings.operator, reason=reason
        )
    finally:
        app.close()
    out.print(f"person #{cluster_id}: apparent minor {'cleared' if unset else 'set'}")


@face_app.command("index")
def index(
    rebuild: Annotated[bool, typer.Option(help="Rebuild from the database.")] = False,
    home: HomeOption = None,
) -> None:
    """Bring the face table and the vector index up to date (also done before each search)."""
    from haechi.match.face_index import FaceIndex
    from haechi.subjects.projection import project_faces

    app = open_app(home)
    try:
        added, retired = project_faces(app, None)
        report = FaceIndex.for_app(app).sync(app, rebuild=rebuild)
    finally:
        app.close()
    out.print(
        f"faces: {added} new, {retired} retired; index: {report.total} faces ({report.kind}), "
        f"{'rebuilt' if report.rebuilt else f'{report.added} added, {report.removed} removed'}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(face_app, name="face")
