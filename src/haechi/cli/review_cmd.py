"""``haechi review`` and ``haechi tag``: what the triage and matches pages do, from the shell
(the same services, ``haechi.review``; the operator is who decided)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.cli.common import opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 62

review_app = typer.Typer(
    help=_("Review: triage categories, bank-match decisions, banks from confirmed items."),
    no_args_is_help=True,
)
tag_app = typer.Typer(help=_("Tags on files, messages and chats."), no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))]
NoteOption = Annotated[str | None, typer.Option(help=_("A note kept with the decision."))]


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _decided(d: Any) -> str:
    if not d.created:
        return _("already so: {value} (decided by {who} at {at})").format(
            value=d.value, who=d.decided_by, at=d.decided_at
        )
    event = (
        _(", custody event {seq}").format(seq=d.custody_seq) if d.custody_seq is not None else ""
    )
    return _("recorded: {value} by {who} at {at}{event}").format(
        value=d.value, who=d.decided_by, at=d.decided_at, event=event
    )


@review_app.command("categories", help=_("The triage categories and their keys."))
def categories(home: HomeOption = None, as_json: JsonOption = False) -> None:
    from haechi.review.categories import load_categories

    with opened(home) as app:
        cats = load_categories(app.settings.home)
    if as_json:
        _emit({"source": cats.source, "categories": [asdict(c) for c in cats.categories]})
        return
    table = Table(_("key"), _("id"), "English", "한국어", _("group"), _("custody event"))
    for c in cats.categories:
        table.add_row(c.key, c.id, c.en, c.ko, c.group, _("yes") if c.custody else _("no"))
    out.print(table)
    out.print(_("from {source}").format(source=cats.source), highlight=False)


@review_app.command("decide", help=_("Set a file's triage category."))
def decide(
    sha256: Annotated[str, typer.Argument(help=_("The file's SHA-256."))],
    category: Annotated[str, typer.Argument(help=_("A category id (`haechi review categories`)."))],
    note: NoteOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.decisions import categorise

    with opened(home) as app:
        made = categorise(app, sha256, category, note=note)
    if as_json:
        _emit(asdict(made))
    else:
        out.print(_decided(made), highlight=False)


@review_app.command(
    "match", help=_("Confirm or dismiss a bank match (a number `haechi match` lists).")
)
def match(
    match_id: Annotated[int, typer.Argument(help=_("The match's number."))],
    decision: Annotated[str, typer.Argument(help=_("confirmed or dismissed"))],
    note: NoteOption = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.matches import review_match

    with opened(home) as app:
        made = review_match(app, match_id, decision, note=note)
    if as_json:
        _emit(asdict(made))
    else:
        out.print(_decided(made), highlight=False)


@review_app.command(
    "history", help=_("Every decision about a file (file:SHA) or a match (match:N).")
)
def history(
    target: Annotated[str, typer.Argument(help=_("file:<sha256> or match:<number>"))],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.decisions import history as read

    with opened(home) as app:
        found = read(app, target.strip())
    if as_json:
        _emit([asdict(d) for d in found])
        return
    table = Table(_("when (UTC)"), _("group"), _("decision"), _("by"), _("current"), _("custody"))
    for d in found:
        table.add_row(d.decided_at, d.group, d.value, d.decided_by, "✓" if d.current else "",
                      str(d.custody_seq or ""))  # fmt: skip
    out.print(table)


@review_app.command("list", help=_("Files in a category, or the undecided queue."))
def list_files(
    show: Annotated[str, typer.Argument(help=_("undecided, all or a category id"))] = "undecided",
    limit: Annotated[int, typer.Option(min=1, max=200)] = 30,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.queue import triage_page

    with opened(home) as app:
        page = triage_page(app, show=show, limit=limit)
    if as_json:
        _emit([asdict(i) for i in page.items])
        return
    table = Table(_("file"), _("kind"), _("nudity score"), _("decided"))
    for i in page.items:
        score = f"{i.score:.2f}" if i.score is not None else _("not analysed")
        decided = ", ".join(f"{d.value} ({d.decided_by})" for d in i.decisions.values())
        table.add_row(i.sha256, i.kind or "?", score, decided)
    out.print(table)


@review_app.command("bank", help=_("Build (or add to) a bank from confirmed items."))
def bank(
    name: Annotated[str, typer.Argument(help=_("The bank's name."))],
    category: Annotated[
        list[str] | None, typer.Option(help=_("Files of this category; repeatable."))
    ] = None,
    confirmed_matches: Annotated[bool, typer.Option(help=_("Files of confirmed matches."))] = False,
    description: Annotated[str | None, typer.Option(help=_("What the bank holds."))] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.matches import bank_from_confirmed

    with opened(home) as app:
        built = bank_from_confirmed(
            app, name, categories=category or [], confirmed_matches=confirmed_matches,
            description=description,
        )  # fmt: skip
    if as_json:
        _emit(asdict(built))
        return
    what = _("created") if built.created else _("existing")
    sentence = _(
        "bank {bank} ({what}): {added} items added from {files} files, {dup} already there, "
        "{found} new matches"
    )
    out.print(
        sentence.format(
            bank=built.bank, what=what, added=built.items_added, files=built.files,
            dup=built.duplicates, found=built.matches_found,
        ),
        highlight=False,
    )  # fmt: skip


TargetsArg = Annotated[
    list[str] | None,
    typer.Argument(help=_("file:<sha256>, message:<number> or chat:<number>; - reads stdin")),
]


def _targets(values: list[str] | None) -> list[str]:
    found = list(values or [])
    if found == ["-"]:
        found = [line.strip() for line in sys.stdin if line.strip()]
    return found


@tag_app.command("add", help=_("Tag files, messages or chats."))
def tag_add(
    tag: Annotated[str, typer.Argument(help=_("The tag."))],
    targets: TargetsArg = None,
    home: HomeOption = None,
) -> None:
    from haechi.review.tags import add_tag

    with opened(home) as app:
        report = add_tag(app, _targets(targets), tag)
    out.print(
        _("{tag}: {added} of {n} newly tagged").format(
            tag=report.tag, added=report.added, n=report.targets
        ),
        highlight=False,
    )


@tag_app.command("remove", help=_("Remove a tag."))
def tag_remove(
    tag: Annotated[str, typer.Argument(help=_("The tag."))],
    targets: TargetsArg = None,
    home: HomeOption = None,
) -> None:
    from haechi.review.tags import remove_tag

    with opened(home) as app:
        n = remove_tag(app, _targets(targets), tag)
    out.print(_("{tag}: removed from {n}").format(tag=tag, n=n), highlight=False)


@tag_app.command("list", help=_("Tags in use, or what carries one tag."))
def tag_list(
    tag: Annotated[str | None, typer.Argument(help=_("The tag."))] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    from haechi.review.tags import all_tags, tagged

    with opened(home) as app:
        found: Any = tagged(app, tag) if tag else all_tags(app)
    if as_json:
        _emit(found)
        return
    for row in found:
        out.print(row if isinstance(row, str) else f"{row[0]}  {row[1]}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.add_typer(tag_app, name="tag")
