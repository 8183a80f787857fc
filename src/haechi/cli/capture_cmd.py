"""``haechi capture URL`` and ``haechi capture verify FILE.wacz``: public pages as evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.i18n import _

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
    help=_(
        "Capture a public page (t.me/s/<channel>, t.me/<channel>/<id>, any page) as signed, "
        "timestamped WARC/WACZ evidence, or verify such a capture offline."
    ),
)


@capture_app.command(
    "url",
    help=_("Capture URL: WARC + WACZ (signed), screenshot, RFC 3161 timestamp, posts ingested."),
)
def capture_url(
    url: Annotated[
        str, typer.Argument(help=_("The page: t.me/s/<channel>, t.me/<channel>/<id>, ..."))
    ],
    home: HomeOption = None,
    case: Annotated[str | None, typer.Option(help=_("Add the capture to this case."))] = None,
    follow_offhost: Annotated[
        bool, typer.Option("--follow-offhost", help=_("Follow redirects to other hosts."))
    ] = False,
    tsa: Annotated[
        str | None,
        typer.Option("--tsa", help=_("RFC 3161 timestamp authority URL (\\[capture] tsa_url).")),
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option(help=_("The TSA's root certificate (PEM) to verify its token."))
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help=_("Also write the WACZ, its .tsr and the screenshot here.")),
    ] = None,
    screenshot: Annotated[bool, typer.Option(help=_("Render a screenshot with Chromium."))] = True,
    pages: Annotated[
        int | None,
        typer.Option(
            "--pages",
            help=_(
                "Follow a channel's older pages: this many pages in all, at most 200 "
                "(default \\[capture] pages, 1)."
            ),
        ),
    ] = None,
    back_to: Annotated[
        int | None,
        typer.Option(
            "--back-to",
            help=_("Follow older pages until this message id is reached (at most 200 pages)."),
        ),
    ] = None,
    analyze: Annotated[
        bool, typer.Option(help=_("Run the analyzers and ingest hooks afterwards."))
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the report as JSON."))] = False,
) -> None:
    """Capture URL: WARC + WACZ (signed), screenshot, RFC 3161 timestamp, posts ingested."""
    from haechi.app import open_app
    from haechi.collect.web_capture.errors import CaptureError
    from haechi.collect.web_capture.service import CaptureOptions, capture

    app = open_app(home)
    opts = CaptureOptions(
        case=case, follow_offhost=follow_offhost, tsa_url=tsa, tsa_ca=tsa_ca,
        screenshot=None if screenshot else False, out_dir=out_dir, pages=pages, back_to=back_to,
    )  # fmt: skip
    extra: dict[str, Any] = {}
    try:
        try:
            report = capture(app, url, opts)
        except CaptureError as exc:
            err.print(f"[bold red]{_('error:')}[/] {exc}", highlight=False)
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
    state = {"captured": f"[green]{_('captured')}[/]", "gone": f"[yellow]{_('GONE')}[/]"}.get(
        r.outcome, r.outcome
    )
    kind = r.kind or _("page")
    out.print(f"{state} {r.final_url or r.url} (HTTP {r.status}, {kind})", highlight=False)
    if r.outcome == "gone":
        out.print(
            _("the page is gone (HTTP {status}); recorded as custody event {seq}").format(
                status=r.status, seq=r.custody_seq
            )
        )
    out.print(
        _("posts: {posts} ({new} new)   media: {fetched} fetched, {failed} not").format(
            posts=r.posts, new=r.messages_new, fetched=r.media_fetched, failed=r.media_failed
        )
    )
    if r.pages > 1 or r.pages_stopped:
        out.print(
            _("pages: {pages} (stopped: {why}), message ids {oldest} to {newest}").format(
                pages=r.pages, why=r.pages_stopped, oldest=r.oldest_id, newest=r.newest_id
            )
        )
    out.print(
        _("WACZ SHA-256 {sha256} ({size} bytes), signed by key {key}").format(
            sha256=r.wacz_sha256, size=f"{r.wacz_size:,}", key=r.key_id
        )
    )
    if r.timestamp:
        state = _("verified") if r.timestamp.get("verified") else _("NOT verified")
        said = _("RFC 3161 timestamp {time} ({state}; {check})").format(
            time=r.timestamp["gen_time"], state=state, check=r.timestamp_check
        )
        out.print(said, highlight=False)
    if r.screenshot_sha256:
        out.print(_("screenshot SHA-256 {sha256}").format(sha256=r.screenshot_sha256))
    for path in r.files_written:
        out.print(_("wrote {path}").format(path=path))
    out.print(
        _("custody event {seq}, source {source}").format(seq=r.custody_seq, source=r.source_id)
    )
    for w in r.warnings[:20]:
        out.print(f"[yellow]{_('warning:')}[/] {w}", highlight=False)


@capture_app.command(
    "verify",
    help=_("Check a captured WACZ offline: hashes, signature, WARC digests, py-wacz, timestamp."),
)
def verify(
    file: Annotated[
        Path, typer.Argument(help=_("The .wacz file (its .tsr is looked for beside it)."))
    ],
    home: HomeOption = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option("--public-key", help=_("Trust this Ed25519 public key (PEM).")),
    ] = None,
    tsr: Annotated[
        Path | None, typer.Option(help=_("The RFC 3161 token (default FILE.tsr)."))
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option(help=_("The TSA's root certificate (PEM)."))
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))] = False,
) -> None:
    """Check a captured WACZ offline: hashes, signature, WARC digests, py-wacz, timestamp."""
    from haechi.collect.web_capture.verify import verify_wacz
    from haechi.store.keys import load_verifier

    if not file.is_file():
        raise typer.BadParameter(_("{path} is not a file").format(path=file))
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
            out.print(f"{mark} {name}: {_(state) if state == 'ok' else state}", highlight=False)
        facts = result.facts
        out.print(
            _("WACZ SHA-256 {sha256}, key {key}, created {created}").format(
                sha256=facts.get("wacz_sha256"),
                key=facts.get("key_id"),
                created=facts.get("created"),
            )
        )
        if facts.get("timestamp"):
            said = _("timestamp {time} by {tsa}").format(
                time=facts["timestamp"]["gen_time"], tsa=facts["timestamp"]["tsa"]
            )
            out.print(said, highlight=False)
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
