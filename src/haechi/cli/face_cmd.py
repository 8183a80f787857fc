"""``haechi face``: consent-based face search, the search log, recurring-face clusters.

A thin shell over :mod:`haechi.subjects.search` and :mod:`haechi.subjects.clusters`.
Results name files by SHA-256 and where they appeared; no picture is ever shown here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.auth import audit
from haechi.auth.types import cli_actor
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.cli.subject_cmd import JsonOption, StaffOption
from haechi.domain import HaechiError, UsageError
from haechi.i18n import _, current

if TYPE_CHECKING:
    from haechi.subjects.model import ImageHit

ORDER = 51

face_app = typer.Typer(
    help=_("Face search (with consent, logged) and clusters of recurring unknown faces."),
    no_args_is_help=True,
)
ReasonOption = Annotated[str, typer.Option(help=_("Why (recorded in the log)."))]


def _where(hit: ImageHit, most: int = 3) -> str:
    parts = []
    for s in hit.sightings[:most]:
        when = datetime.fromtimestamp(s.date_unix, UTC).strftime("%Y-%m-%d") if s.date_unix else "?"
        chat = s.chat_title or _("chat {id}").format(id=s.chat_id)
        parts.append(f"{chat} #{s.message_id} ({when})")
    more = len(hit.sightings) - most
    if more > 0:
        parts.append(_("+{n} more").format(n=more))
    return "; ".join(parts) or _("not referenced by any message")


def hits_text(hits: list[ImageHit], limit: int, title: str) -> str:
    """One line per file (rank, distance, full SHA-256, faces matched), then where it
    appeared, indented: hashes are never cut, so they can be copied and grepped whole."""
    lines = [f"{title}:"]
    for rank, hit in enumerate(hits[:limit], 1):
        faces = _("faces {n}").format(n=hit.faces_matched)
        lines.append(f"{rank:>3}  {hit.distance:.3f}  {hit.blob_sha256}  {faces}")
        lines.append(f"          {_where(hit)}")
    if len(hits) > limit:
        lines.append(_("... and {n} more (--limit, or --json for all)").format(n=len(hits) - limit))
    return "\n".join(lines)


def index_mode(mode: dict[str, object]) -> str:
    """How the index answered, in words: whether the search could have missed a face."""
    faces = f"{mode.get('faces', 0):,}"
    if mode.get("kind") != "ivf":
        return _("exact search of {faces} faces").format(faces=faces)
    if mode.get("exhaustive"):
        return _("exhaustive search of {faces} faces (every one of {nlist} cells)").format(
            faces=faces, nlist=mode.get("nlist")
        )
    return _(
        "approximate search of {faces} faces ({nprobe} of {nlist} cells; finds >= 99% of the "
        "faces within the threshold, --exhaustive reads all)"
    ).format(faces=faces, nprobe=mode.get("nprobe"), nlist=mode.get("nlist"))


def cluster_sentence(c: Any) -> str:
    """ "person #17 appears in 42 images across 5 chats", in the chosen language."""
    if current() == "en":
        return str(c.sentence())
    return _("person #{id} appears in {images} image(s) across {chats} chat(s)").format(
        id=c.id, images=c.images, chats=c.chats
    )


@face_app.command(
    "search",
    help=_(
        "Every image showing a subject's face (or a probe photo's), "
        "nearest first, with the chats and messages where each "
        "appeared. Each search is logged with who and why."
    ),
)
def search(
    reason: ReasonOption,
    subject: Annotated[int | None, typer.Option(help=_("Search for this subject."))] = None,
    probe: Annotated[Path | None, typer.Option(help=_("Search with this photo instead."))] = None,
    basis: Annotated[
        str | None, typer.Option(help=_("For --probe: the consent or legal authority."))
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help=_("Distance threshold (default: the calibrated one)."))
    ] = None,
    exhaustive: Annotated[
        bool,
        typer.Option(
            help=_(
                "Read the whole index: exact, slower past 50,000 faces (the default finds "
                ">= 99% of the faces within the threshold, measured)."
            )
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help=_("Rows to print."))] = 50,
    staff: StaffOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every image showing a subject's face (or a probe photo's), nearest first, with the
    chats and messages where each appeared. Each search is logged with who and why."""
    from haechi.subjects.model import SEARCH_THRESHOLD
    from haechi.subjects.search import search_probe, search_subject

    if (subject is None) == (probe is None):
        raise UsageError(_("Give exactly one of --subject ID or --probe PHOTO."))
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
    said = _(
        "search {id} (custody event {seq}): {images} image(s) across {chats} chat(s) within "
        "distance {threshold} of {templates} template(s); {mode}"
    ).format(
        id=result.search_id, seq=result.custody_seq, images=len(result.hits), chats=result.chats,
        threshold=result.threshold, templates=result.templates, mode=index_mode(result.index),
    )  # fmt: skip
    out.print(said, highlight=False)
    if result.hits:
        text = hits_text(result.hits, limit, _("candidates - confirm each one by eye"))
        out.print(text, highlight=False, markup=False)


@face_app.command(
    "searches",
    help=_("The search log: who searched, when, why, on what basis, and how much they saw."),
)
def searches(
    subject: Annotated[int | None, typer.Option(help=_("Only searches for this subject."))] = None,
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
    table = Table(
        _("id"), _("at"), _("staff"), _("kind"), _("subject"), _("basis"), _("reason"),
        _("images"),
    )  # fmt: skip
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


@face_app.command(
    "clusters",
    help=_('Recurring unknown faces: "person #17 appears in 42 images across 5 chats".'),
)
def clusters(
    min_images: Annotated[int, typer.Option(min=2, help=_("Smallest cluster shown."))] = 2,
    update: Annotated[
        bool, typer.Option(help=_("Re-cluster first (new faces join or form clusters)."))
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
            _("clustered {done} of {faces} faces into {clusters} cluster(s) ({new} new)").format(
                done=run.clustered_faces,
                faces=run.faces,
                clusters=run.clusters,
                new=run.new_clusters,
            )
        )
        for cid, subjects in run.link_conflicts.items():
            said = _("person #{id} joins clusters linked to subjects {subjects}").format(
                id=cid, subjects=subjects
            )
            out.print(f"[yellow]{said}[/]")
    for c in found:
        notes = []
        if c.subject_label:
            notes.append(
                _("linked to subject {id} ({label})").format(id=c.subject_id, label=c.subject_label)
            )
        if c.apparent_minor:
            notes.append(f"[bold red]{_('apparent minor')}[/]")
        out.print(
            cluster_sentence(c) + (" - " + ", ".join(notes) if notes else ""), highlight=False
        )


@face_app.command("cluster", help=_("The images of one cluster and where each appeared."))
def cluster(
    cluster_id: Annotated[int, typer.Argument(help=_("The person # of the cluster."))],
    limit: Annotated[int, typer.Option(min=1)] = 100,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The images of one cluster and where each appeared."""
    from haechi.subjects.clusters import cluster_image_page, get_cluster

    app = open_app(home)
    try:
        info = get_cluster(app, cluster_id)
        # Where each file appeared is read for the files printed only (--json: all of them).
        page = cluster_image_page(app, cluster_id, limit=None if as_json else limit)
    finally:
        app.close()
    if as_json:
        typer.echo(
            json.dumps({"cluster": asdict(info), "images": [asdict(i) for i in page.images]})
        )
        return
    out.print(cluster_sentence(info))
    title = _("person #{id}").format(id=cluster_id)
    out.print(hits_text(page.images, limit, title), highlight=False, markup=False)
    if page.total > len(page.images):
        more = _("... and {n} more (--limit, or --json for all)")
        out.print(more.format(n=page.total - len(page.images)), highlight=False, markup=False)


@face_app.command(
    "link", help=_("Link a cluster to a subject (her consent must cover 'link'), or unlink it.")
)
def link(
    cluster_id: Annotated[int, typer.Argument(help=_("The person # of the cluster."))],
    reason: ReasonOption,
    subject: Annotated[int | None, typer.Option(help=_("Subject id (omit to unlink)."))] = None,
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
    said = (
        _("person #{id} is now linked to subject {subject}")
        if info.subject_id
        else _("person #{id} is now not linked")
    )
    out.print(said.format(id=cluster_id, subject=info.subject_id))


@face_app.command(
    "minor",
    help=_("Mark a cluster as showing an apparent minor (a staff judgement; routes notices)."),
)
def minor(
    cluster_id: Annotated[int, typer.Argument(help=_("The person # of the cluster."))],
    reason: ReasonOption,
    unset: Annotated[bool, typer.Option("--unset", help=_("Clear the flag instead."))] = False,
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
    said = (
        _("person #{id}: apparent minor cleared")
        if unset
        else _("person #{id}: apparent minor set")
    )
    out.print(said.format(id=cluster_id))


@face_app.command(
    "index",
    help=_("Bring the face table and the vector index up to date (also done before each search)."),
)
def index(
    rebuild: Annotated[bool, typer.Option(help=_("Rebuild from the database."))] = False,
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
    change = (
        _("rebuilt")
        if report.rebuilt
        else _("{added} added, {removed} removed").format(
            added=report.added, removed=report.removed
        )
    )
    out.print(
        _("faces: {new} new, {retired} retired; index: {total} faces ({kind}), {change}").format(
            new=added, retired=retired, total=report.total, kind=report.kind, change=change
        )
    )


def register(app: typer.Typer) -> None:
    app.add_typer(face_app, name="face")
