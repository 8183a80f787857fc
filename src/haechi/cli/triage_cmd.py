"""``haechi queue``, ``haechi verdict`` and ``haechi preview``: triage from the command line.

Thin shells over :mod:`haechi.triage`; nothing here reads the database itself, and the
only pictures written are safe previews and heat maps (never the evidence).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

ORDER = 60


def queue(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help=_("Files per page."))] = 50,
    offset: Annotated[int, typer.Option(min=0, help=_("Skip this many files."))] = 0,
    min_score: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help=_("Only files scored at least this."))
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    """The review queue: files ordered by nudity score, most exposed first."""
    from haechi.triage.queue import review_queue

    app = open_app(home)
    try:
        items = review_queue(app, limit=limit, offset=offset, min_score=min_score)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([i.__dict__ for i in items], indent=2))
        return
    table = Table(
        "#", "sha256", _("kind"), _("nudity"), _("regions"), _("preview"),
        title=_("review queue"), title_justify="left",
    )  # fmt: skip
    for n, i in enumerate(items, start=offset + 1):
        score = (
            _("not analysed")
            if i.score is None
            else f"{i.score:.2f}" + (_(" exposed") if i.exposed else "")
        )
        table.add_row(
            str(n),
            i.sha256[:16],
            i.kind or "",
            score,
            str(i.regions),
            _("yes") if i.has_preview else _("no"),
        )
    out.print(table)


def verdict(
    ref: Annotated[str, typer.Argument(help=_("A stored file: SHA-256, prefix, or a local copy."))],
    home: HomeOption = None,
    lang: Annotated[str, typer.Option(help=_("en, ko or both."))] = "both",
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    """Is this picture synthetic, and on what evidence (Korean and English)."""
    from haechi.triage.resolve import resolve_file
    from haechi.triage.verdicts import file_verdict

    if lang not in ("en", "ko", "both"):
        raise UsageError(_("--lang must be en, ko or both."))
    app = open_app(home)
    try:
        result = file_verdict(app, resolve_file(app, ref))
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    v = result.verdict
    out.print(f"[bold]{result.sha256}[/]", highlight=False)
    if lang in ("en", "both"):
        out.print(f"[bold]{v.label_en}[/] ({v.strength})", highlight=False)
        out.print(v.explanation_en, highlight=False)
        for c in v.caveats_en:
            out.print(f"[dim]{_('note:')} {c}[/]", highlight=False)
    if lang in ("ko", "both"):
        out.print(f"[bold]{v.label_ko}[/] ({v.strength})", highlight=False)
        out.print(v.explanation_ko, highlight=False)
        for c in v.caveats_ko:
            out.print(f"[dim]참고: {c}[/]", highlight=False)
    missing = [a for a in ("provenance", "synthetic") if a not in result.analyzed_by]
    if missing:
        said = _("not analysed yet by: {analyzers}").format(analyzers=", ".join(missing))
        out.print(f"[yellow]{said}[/]")


def preview(
    ref: Annotated[str, typer.Argument(help=_("A stored file: SHA-256, prefix, or a local copy."))],
    dest: Annotated[Path, typer.Option("--out", "-o", help=_("Where to write the picture."))],
    home: HomeOption = None,
    heat: Annotated[
        bool, typer.Option("--heatmap", help=_("The detector heat map instead of the preview."))
    ] = False,
) -> None:
    """Write a file's safe preview (greyscale, pixelated, downscaled) or its heat map."""
    from haechi.triage.previews import heatmap, safe_preview
    from haechi.triage.resolve import resolve_file

    app = open_app(home)
    try:
        sha = resolve_file(app, ref)
        found = heatmap(app, sha) if heat else safe_preview(app, sha)
    finally:
        app.close()
    if found is None:
        said = (
            _("{sha} has no heat map; run `haechi analyze` first.")
            if heat
            else _("{sha} has no safe preview; run `haechi analyze` first.")
        )
        raise UsageError(said.format(sha=sha))
    dest.write_bytes(found.data)
    out.print(
        _("wrote {path} ({mime}, {size} bytes)").format(
            path=dest, mime=found.mime, size=f"{len(found.data):,}"
        )
    )


def register(app: typer.Typer) -> None:
    app.command(
        "queue", help=_("The review queue: files ordered by nudity score, most exposed first.")
    )(queue)
    app.command(
        "verdict", help=_("Is this picture synthetic, and on what evidence (Korean and English).")
    )(verdict)
    app.command(
        "preview",
        help=_("Write a file's safe preview (greyscale, pixelated, downscaled) or its heat map."),
    )(preview)
