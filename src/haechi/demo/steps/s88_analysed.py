"""Every file the demo stored is analysed: a catch-up over what the earlier steps added
(the faces, provenance and capture steps each bring files of their own), then a check that
every picture, animation and video has its safe preview, or an analysis error that says why
not. Without it, files a step stored after the main analysis showed as grey boxes."""

from __future__ import annotations

from sqlalchemy import text

from haechi.demo.steps import DemoContext

ORDER = 88
TITLE = "analysis check"
SHOWN = ("image", "animation", "video")


def unanalysed(ctx: DemoContext) -> list[str]:
    """Pictures, animations and videos with neither a safe preview nor a failed analysis."""
    with ctx.app.db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT b.sha256 FROM blobs b WHERE b.kind IN ('image', 'animation', 'video') "
                    "AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.blob_sha256 = b.sha256 "
                    "AND a.name = 'safe_preview') AND NOT EXISTS (SELECT 1 FROM analyses n "
                    "WHERE n.blob_sha256 = b.sha256 AND n.analyzer = 'nudity' "
                    "AND n.status <> 'ok') ORDER BY b.sha256"
                )
            ).scalars()
        )


def run(ctx: DemoContext) -> None:
    from haechi.analyze.registry import build
    from haechi.cli.analyze_cmd import run_analysis

    report = run_analysis(ctx.app, quiet=True)
    ctx.out.print(
        f"caught up: {report.files} files analysed now ({report.ok} results, "
        f"{sum(report.errors.values())} errors)"
    )
    chosen, _ = build(ctx.app.settings.analyzers)
    if "nudity" not in {a.name for a in chosen}:
        ctx.out.print("[yellow]the nudity analyzer is not installed: no safe previews[/]")
        return
    missing = unanalysed(ctx)
    with ctx.app.db.connect() as conn:
        shown = conn.execute(
            text("SELECT count(*) FROM blobs WHERE kind IN ('image', 'animation', 'video')")
        ).scalar()
    if missing:
        ctx.ok = False
        ctx.out.print(
            f"[red]{len(missing)} of {shown} pictures and videos have no safe preview:[/]"
        )
        for sha in missing[:10]:
            ctx.out.print(f"  {sha}", highlight=False)
    else:
        ctx.out.print(f"all {shown} pictures, animations and videos have a safe preview")
