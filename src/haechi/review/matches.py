"""Bank-match review, the actioner's step on what matching raised: confirm a match (it is
the banked material), dismiss it (it is not), add a matched file to a bank, and build a
bank from what people confirmed (confirmed matches, files of a triage category).

Built on the matching capability (``haechi.match``): its ``match_hits`` rows are read
here, banks are changed only through ``haechi.match.banks`` / ``bank_sources`` (each
change their own custody event, naming the acting person through ``app``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.review.categories import load_categories
from haechi.review.decisions import (
    CHUNK,
    MATCH,
    MATCH_VALUES,
    Decision,
    check_note,
    files_with,
    record,
)
from haechi.store.tables.match import MatchRow
from haechi.store.tables.review import ReviewDecision

ORIGIN = "review"  # the origin of banks built from review decisions
MAX_FILES = 10_000  # files one bank-building request may add


def _match_row(conn: Connection, match_id: int) -> Any:
    row = conn.execute(select(MatchRow).where(MatchRow.id == match_id)).first()
    if row is None:
        raise UsageError(
            t_("There is no match {match_id}: `haechi match --all` lists them.", match_id=match_id)
        )
    return row


def review_match(app: App, match_id: int, decision: str, *, note: str | None = None) -> Decision:
    """Confirm or dismiss one match (a signed custody event about the matched file)."""
    if decision not in MATCH_VALUES:
        raise UsageError(
            t_(
                "A match is {match_values}, not {decision!r}.",
                match_values=" or ".join(MATCH_VALUES),
                decision=decision,
            )
        )
    text = check_note(note)
    with app.db.begin() as conn:
        row = _match_row(conn, int(match_id))
        detail: dict[str, object] = {
            "match_id": row.id,
            "kind": row.kind,
            "distance": row.distance,
            "bank": row.bank_name,
            "target_sha256": row.target_blob_sha256,
        }
        return record(
            app, conn, target=f"match:{row.id}", group=MATCH, value=decision,
            blob_sha256=row.blob_sha256, note=text, custody=True, detail=detail,
        )  # fmt: skip


def match_file(app: App, match_id: int) -> str:
    """The stored file a match is about."""
    with app.db.connect() as conn:
        return str(_match_row(conn, int(match_id)).blob_sha256)


def confirmed_match_files(app: App) -> list[str]:
    """Files of the matches whose current decision is ``confirmed``."""
    with app.db.connect() as conn:
        targets = conn.execute(
            select(ReviewDecision.target).where(
                ReviewDecision.grp == MATCH,
                ReviewDecision.value == "confirmed",
                ReviewDecision.current.is_(True),
            )
        ).scalars()
        ids = sorted({int(t.split(":", 1)[1]) for t in targets})
        out: list[str] = []
        for start in range(0, len(ids), CHUNK):
            out += conn.execute(
                select(MatchRow.blob_sha256)
                .where(MatchRow.id.in_(ids[start : start + CHUNK]))
                .order_by(MatchRow.id)
            ).scalars()
    return list(dict.fromkeys(out))


@dataclass
class BankBuild:
    bank: str
    created: bool
    files: int  # files asked for
    items_added: int = 0
    duplicates: int = 0
    matches_found: int = 0
    sources: list[str] = field(default_factory=list)


def add_files_to_bank(
    app: App, bank: str, shas: Sequence[str], *, labels: Sequence[str] = (),
    notes: str | None = None,
) -> BankBuild:  # fmt: skip
    """Add stored files to an existing bank (their hashes only; the bank retro-hunts)."""
    from haechi.match.bank_sources import add_blobs

    wanted = list(dict.fromkeys(s.strip().lower() for s in shas))
    if not wanted:
        raise UsageError(t_("Choose at least one file to add to the bank."))
    if len(wanted) > MAX_FILES:
        raise UsageError(
            t_("At most {max_files:,} files go into a bank at once.", max_files=MAX_FILES)
        )
    report = add_blobs(app, bank, wanted, labels=labels, notes=notes)
    return BankBuild(
        report.bank, False, len(wanted), report.items_added, report.duplicates,
        report.matches_found,
    )  # fmt: skip


def bank_from_confirmed(
    app: App,
    name: str,
    *,
    categories: Sequence[str] = (),
    confirmed_matches: bool = False,
    description: str | None = None,
    labels: Sequence[str] = (),
) -> BankBuild:
    """A bank (created unless it exists) holding the files people confirmed: the files of
    the given triage categories and/or of confirmed matches. Sending it twice adds nothing
    the first did not (the bank keeps each hash once)."""
    from haechi.match.banks import ensure_bank

    cats = load_categories(app.settings.home)
    chosen = [cats.get(c) for c in categories]
    if not chosen and not confirmed_matches:
        raise UsageError(t_("Say which confirmed items make the bank: categories or matches."))
    shas: list[str] = []
    sources = []
    for cat in chosen:
        shas += files_with(app, cat.group, cat.id)
        sources.append(f"category:{cat.id}")
    if confirmed_matches:
        shas += confirmed_match_files(app)
        sources.append("confirmed matches")
    shas = list(dict.fromkeys(shas))
    if not shas:
        raise UsageError(t_("Nothing is confirmed there yet: no file to put in the bank."))
    if len(shas) > MAX_FILES:
        raise UsageError(
            t_(
                "{n_shas:,} files: at most {max_files:,} go into a bank at once.",
                n_shas=len(shas),
                max_files=MAX_FILES,
            )
        )
    desc = description or "built from review decisions: " + ", ".join(sources)
    info, created = ensure_bank(app, name, description=desc, origin=ORIGIN, labels=labels)
    build = add_files_to_bank(app, info.name, shas, notes="confirmed in review")
    build.created, build.sources = created, sources
    return build
