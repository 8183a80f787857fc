"""``haechi capture URL`` and ``haechi capture verify FILE.wacz``: public pages as evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from haechi.cli.console import err, out
from haechi.cli.main import HomeOption

ORDER = 22


class _DefaultToUrl(TyperGroup):
    """``haechi capture URL`` means ``haechi capture url URL``: a URL is never a verb name."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["url", *args]
        return super().parse_args(ctx, args)


capture_app = typer.Typer(
    cls=_DefaultToUrl,
    no_args_is_help=True,
    help="Capture a public page (t.me/s/<channel>, t.me/<channel>/<id>, any page) as signed, "
    "timestamped WARC/WACZ evidence, or verify such a capture offline.",
)


@capture_app.command("url")
def capture_url(
    url: Annotated[
        str, typer.Argument(help="The page: t.me/s/<channel>, t.me/<channel>/<id>, ...")
    ],
    home: HomeOption = None,
    case: Annotated[str | None, typer.Option(help="Add the capture to this case.")] = None,
    follow_offhost: Annotated[
        bool, typer.Option("--follow-offhost", help="Follow redirects to other hosts.")
    ] = False,
    tsa: Annotated[
        str | None,
        typer.Option("--tsa", help="RFC 3161 timestamp authority URL ([capture] tsa_url)."),
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option(help="The TSA's root certificate (PEM) to verify its token.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the WACZ, its .tsr and the screenshot here."),
    ] = None,
    screenshot: Annotated[bool, typer.Option(help="Render a screenshot with Chromium.")] = True,
    analyze: Annotated[
        bool, typer.Option(help="Run the analyzers and ingest hooks afterwards.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Capture URL: WARC + WACZ (signed), screenshot, RFC 3161 timestamp, posts ingested."""
    from haechi.app import open_app
    from haechi.collect.web_capture.errors import CaptureError
    from haechi.collect.web_capture.service import CaptureOptions, capture

    app = open_app(home)
    opts = CaptureOptions(
        case=case, follow_offhost=follow_offhost, tsa_url=tsa, tsa_ca=tsa_ca,
        screenshot=None if screenshot else False, out_dir=out_dir,
    )  # fmt: skip
    extra: dict[str, Any] = {}
    try:
        try:
            report = capture(app, url, opts)
        except CaptureError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(3) from None
        if analyze and app.settings.analyze_on_ingest and (report.messages_new or report.files_new):
            from haechi.cli.analyze_cmd import run_analysis
            from haechi.run.hooks import run_ingest_hooks

            extra["analysis"] = run_analysis(app, quiet=True).as_dict()
            extra["hooks"] = run_ingest_hooks(app, report)
    finally:
        app.close()
    if as_json:
        typer.echo(
            json.dumps({**report.as_dict(), **extra}, ensure_ascii=False, indent=2, default=str)
        )
        return
    _print(report)


def _print(r: Any) -> None:
    state = {"captured": "[green]captured[/]", "gone": "[yellow]GONE[/]"}.get(r.outcome, r.outcome)
    out.print(
        f"{state} {r.final_url or r.url} (HTTP {r.status}, {r.kind or 'page'})", highlight=False
    )
    if r.outcome == "gone":
        out.print(f"the page is gone (HTTP {r.status}); recorded as custody event {r.custody_seq}")
    out.print(
        f"posts: {r.posts} ({r.messages_new} new)   "
        f"media: {r.media_fetched} fetched, {r.media_failed} not"
    )
    out.print(f"WACZ SHA-256 {r.wacz_sha256} ({r.wacz_size:,} bytes), signed by key {r.key_id}")
    if r.timestamp:
        state = "verified" if r.timestamp.get("verified") else "NOT verified"
        out.print(
            f"RFC 3161 timestamp {r.timestamp['gen_time']} ({state}; {r.timestamp_check})",
            highlight=False,
        )
    if r.screenshot_sha256:
        out.print(f"screenshot SHA-256 {r.screenshot_sha256}")
    for path in r.files_written:
        out.print(f"wrote {path}")
    out.print(f"custody event {r.custody_seq}, source {r.source_id}")
    for w in r.warnings[:20]:
        out.print(f"[yellow]warning:[/] {w}", highlight=False)


@capture_app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="The .wacz file (its .tsr is looked for beside it).")
    ],
    home: HomeOption = None,
    public_key: Annotated[
        list[Path] | None, typer.Option("--public-key", help="Trust this Ed25519 public key (PEM).")
    ] = None,
    tsr: Annotated[Path | None, typer.Option(help="The RFC 3161 token (default FILE.tsr).")] = None,
    tsa_ca: Annotated[Path | None, typer.Option(help="The TSA's root certificate (PEM).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check a captured WACZ offline: hashes, signature, WARC digests, py-wacz, timestamp."""
    from haechi.collect.web_capture.verify import verify_wacz
    from haechi.store.keys import load_verifier

    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file")
    keys = list(public_key or [])
    ca = tsa_ca
    if not keys or ca is None:  # fall back to the data directory's key and settings
        keys, ca = _home_defaults(home, keys, ca)
    trusted = load_verifier(keys) if keys else None
    result = verify_wacz(file, trusted=trusted, token=tsr, tsa_ca=ca)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for name, state in result.checks.items():
            mark = "[green]✓[/]" if state == "ok" else "[red]✗[/]"
            out.print(f"{mark} {name}: {state}", highlight=False)
        facts = result.facts
        out.print(
            f"WACZ SHA-256 {facts.get('wacz_sha256')}, key {facts.get('key_id')}, "
            f"created {facts.get('created')}"
        )
        if facts.get("timestamp"):
            out.print(
                f"timestamp {facts['timestamp']['gen_time']} by {facts['timestamp']['tsa']}",
                highlight=False,
            )
    if not result.ok:
        raise typer.Exit(1)


def _home_defaults(
    home: Path | None, keys: list[Path], ca: Path | None
) -> tuple[list[Path], Path | None]:
    from haechi.config import default_home, load_settings
    from haechi.domain import HaechiError

    try:
        settings = load_settings(home or default_home())
        if not settings.config_path.exists():
            return keys, ca
        from haechi.collect.web_capture.settings import load

        if not keys and settings.public_key_path.exists():
            keys = [settings.public_key_path]
        return keys, ca or load(settings).tsa_ca_file
    except HaechiError:
        return keys, ca


def register(app: typer.Typer) -> None:
    app.add_typer(capture_app, name="capture")
