"""``haechi package``, ``report``, ``caseuco`` and ``verify-package``: court-ready exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.cli.common import CaseArg, JsonOption, emit, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.cli.verify_cmd import verdict_markup
from haechi.i18n import _

ORDER = 83

RevealOption = Annotated[
    bool,
    typer.Option(
        help=_("Name victims instead of V1, V2 (needs their evidence_sharing consent; logged).")
    ),
]

VerifyChainOption = Annotated[
    bool,
    typer.Option(
        help=_("Verify the whole custody log now for the report (default: the last verify).")
    ),
]


def package(
    case: CaseArg,
    dest: Annotated[Path, typer.Argument(help=_("Folder to create, or a .zip file."))],
    reveal_victims: RevealOption = False,
    pdf: Annotated[bool, typer.Option(help=_("Include the PDF report."))] = True,
    html: Annotated[bool, typer.Option(help=_("Include the HTML report."))] = True,
    caseuco: Annotated[bool, typer.Option(help=_("Include the CASE/UCO JSON-LD graph."))] = True,
    source_json: Annotated[
        bool,
        typer.Option(help=_("Include each source's whole result.json (holds other chats too).")),
    ] = False,
    verify_chain: VerifyChainOption = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an evidence package anyone can verify with Python and `cryptography` alone."""
    from haechi.report.package import PackageOptions, create_package
    from haechi.report.verify import verify_package

    opts = PackageOptions(
        reveal_victims=reveal_victims,
        html=html,
        pdf=pdf,
        caseuco=caseuco,
        source_json=source_json,
        verify_chain=verify_chain,
    )
    with opened(home) as app:
        result = create_package(app, case, dest, opts)
    check = verify_package(result.path)
    if as_json:
        emit({**result.as_dict(), "verified": check.ok, "problems": check.problems})
    else:
        for w in result.warnings:
            out.print(f"[yellow]![/] {w}", highlight=False)
        sentence = _(
            "wrote {path}: {files} files, {mb} MB, {events} custody events (export event "
            "{seq}) in {seconds} s; self-check: {check}"
        )
        out.print(
            sentence.format(
                path=result.path, files=result.files, mb=f"{result.bytes / 1e6:,.2f}",
                events=result.events, seq=result.export_seq, seconds=f"{result.seconds:.1f}",
                check=_("OK") if check.ok else _("FAILED"),
            ),
            highlight=False,
        )  # fmt: skip
        how = (
            f"python3 {result.path}/verify_package.py"
            if result.path.is_dir()
            else _("unzip it, then python3 verify_package.py in its folder")
        )
        out.print(_("anyone can check it: {how}").format(how=how), highlight=False)
    if not check.ok:
        raise typer.Exit(1)


def report(
    case: CaseArg,
    dest: Annotated[Path, typer.Argument(help=_("report.html or report.pdf"))],
    reveal_victims: RevealOption = False,
    verify_chain: VerifyChainOption = False,
    home: HomeOption = None,
) -> None:
    """Write the case report (hashes, capture times in UTC and KST, chain, safe previews only)."""
    from haechi.report.exports import write_report

    with opened(home) as app:
        digest = write_report(
            app, case, dest, reveal_victims=reveal_victims, verify_chain=verify_chain
        )
    out.print(_("wrote {path} (SHA-256 {digest})").format(path=dest, digest=digest),
              highlight=False)  # fmt: skip


def caseuco(
    case: CaseArg,
    dest: Annotated[Path, typer.Argument(help=_("A .jsonld file to write."))],
    home: HomeOption = None,
) -> None:
    """Write the case as CASE/UCO JSON-LD (validate it with case-utils' `case_validate`)."""
    from haechi.report.exports import write_caseuco

    with opened(home) as app:
        digest = write_caseuco(app, case, dest)
    out.print(_("wrote {path} (SHA-256 {digest})").format(path=dest, digest=digest),
              highlight=False)  # fmt: skip


def verify_package_cmd(
    path: Annotated[Path, typer.Argument(help=_("Package folder or zip."))],
    public_key: Annotated[
        Path | None, typer.Option(help=_("Verify with this key (e.g. one the unit gave you)."))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify an evidence package (the checks of its own verify_package.py); exit 1 on problems."""
    from haechi.report.verify import unreadable, verify_package

    result = verify_package(path, public_key)
    broken = unreadable(result)
    if as_json:
        typer.echo(
            json.dumps(
                {"ok": result.ok and not broken, "problems": result.problems, **result.facts},
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    elif broken:
        label = _("cannot verify:")
        out.print(f"[bold red]{label}[/] {broken}", highlight=False)
    else:
        for line in result.problems:
            out.print(f"[red]✗[/] {line}", highlight=False)
        f = result.facts
        verdict = verdict_markup(result.ok)
        sentence = _(
            "case {case}, {files} files, {events} signed custody events (key {key}), export "
            "event {export}"
        ).format(
            case=f.get("case"), files=f.get("files"), events=f.get("events"),
            key=f.get("key_id"), export=f.get("export_event"),
        )  # fmt: skip
        out.print(f"{verdict}: {sentence}", highlight=False)
    if broken:
        raise typer.Exit(2)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(
        "package",
        help=_("Write an evidence package anyone can verify with Python and `cryptography` alone."),
    )(package)
    app.command(
        "report",
        help=_(
            "Write the case report (hashes, capture times in UTC and KST, chain, safe previews "
            "only)."
        ),
    )(report)
    app.command(
        "caseuco",
        help=_(
            "Write the case as CASE/UCO JSON-LD (validate it with case-utils' `case_validate`)."
        ),
    )(caseuco)
    app.command(
        "verify-package",
        help=_(
            "Verify an evidence package (the checks of its own verify_package.py); exit 1 on "
            "problems."
        ),
    )(verify_package_cmd)
