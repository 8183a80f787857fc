"""The triage queue with decisions: pictures, animations and videos, most exposed first,
each with its current category, for the keyboard-driven triage page.

Order: the newest nudity score of each file, highest first, then files with no score (not
analysed, or the analysis failed) by SHA-256, so nothing is silently left out. Pages are
keyset pages on (score, file), read through ``ix_signals_kind_score``: page 1,000 costs
what page 1 costs, and "next after this file" is one query. ``show`` filters:
``undecided`` (no current decision in the category group), ``all``, or a category id
(the files currently in it, most recently decided first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, exists, func, literal, select, tuple_

from haechi.app import App
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.review.categories import load_categories
from haechi.review.decisions import Decision, current
from haechi.store.models import Analysis, ArtifactRow, Blob, SignalRow
from haechi.store.tables.review import ReviewDecision
from haechi.store.vault import is_sha256

KINDS = ("image", "animation", "video")
PAGE = 30
MAX_PAGE = 200


@dataclass(frozen=True)
class TriageItem:
    sha256: str
    kind: str | None
    score: float | None  # None: no nudity result
    exposed: bool
    regions: int
    has_preview: bool
    decisions: dict[str, Decision] = field(default_factory=dict)  # group -> current


@dataclass(frozen=True)
class TriagePage:
    items: list[TriageItem]
    next_cursor: str | None


def _newest_ok(sha: Any) -> Any:
    """The id of a file's newest successful nudity analysis (a correlated subquery)."""
    return (
        select(func.max(Analysis.id))
        .where(Analysis.blob_sha256 == sha, Analysis.analyzer == "nudity", Analysis.status == "ok")
        .scalar_subquery()
    )


def _nudity_of_file() -> Any:
    """``kind = 'nudity'`` written so that a look-up by file uses the file's index, not
    ``ix_signals_kind_score`` (SQLite without statistics would read every score)."""
    return func.coalesce(SignalRow.kind, "") == "nudity"


def _decided(sha: Any, group: str) -> Any:
    return exists().where(
        ReviewDecision.target == literal("file:") + sha,
        ReviewDecision.grp == group,
        ReviewDecision.current.is_(True),
    )


def _cursor(section: int, score: float | None, sha: str) -> str:
    return f"{section}:{'' if score is None else repr(float(score))}:{sha}"


def _parse_cursor(text: str) -> tuple[int, float | None, str]:
    try:
        section, score, sha = text.split(":")
        if section not in ("0", "1") or not is_sha256(sha):
            raise ValueError
        return int(section), (float(score) if score else None), sha
    except ValueError:
        raise UsageError(t_("That page of the triage queue does not exist.")) from None


def _scored(conn: Connection, group: str, show: str, after: Any, limit: int) -> list[Any]:
    s = SignalRow
    q = (
        select(s.blob_sha256, Blob.kind, s.score, s.value, s.data_json, s.analysis_id)
        .join(Blob, Blob.sha256 == s.blob_sha256)
        .where(s.kind == "nudity", s.analysis_id == _newest_ok(s.blob_sha256))
        .where(Blob.kind.in_(KINDS))
        .order_by(s.score.desc(), s.blob_sha256.desc())
        .limit(limit)
    )
    if show == "undecided":
        q = q.where(~_decided(s.blob_sha256, group))
    if after is not None:
        score, sha = after
        # A row-value comparison: the scan of ``ix_signals_kind_score`` starts at the
        # cursor on both back ends (the equivalent OR is a filter, read from the top).
        if score is None:
            q = q.where(s.score.is_(None), s.blob_sha256 < sha)
        else:
            q = q.where(tuple_(s.score, s.blob_sha256) < tuple_(score, sha))
    return list(conn.execute(q).all())


def _unscored(conn: Connection, group: str, show: str, after: str | None, limit: int) -> list[Any]:
    scored = exists().where(
        SignalRow.blob_sha256 == Blob.sha256,
        _nudity_of_file(),
        SignalRow.analysis_id == _newest_ok(SignalRow.blob_sha256),
    )
    # coalesce(): walk the files in SHA-256 order (the primary key) and test the kind on
    # the way, rather than read every picture through the kind index and sort them.
    q = (
        select(Blob.sha256, Blob.kind)
        .where(func.coalesce(Blob.kind, "").in_(KINDS), ~scored)
        .order_by(Blob.sha256)
        .limit(limit)
    )
    if show == "undecided":
        q = q.where(~_decided(Blob.sha256, group))
    if after is not None:
        q = q.where(Blob.sha256 > after)
    return list(conn.execute(q).all())


def _decided_in(
    conn: Connection, group: str, value: str, before: int | None, limit: int
) -> list[Any]:
    q = (
        select(ReviewDecision.id, ReviewDecision.blob_sha256, Blob.kind)
        .join(Blob, Blob.sha256 == ReviewDecision.blob_sha256)
        .where(ReviewDecision.grp == group, ReviewDecision.value == value)
        .where(ReviewDecision.current.is_(True))
        .order_by(ReviewDecision.id.desc())
        .limit(limit)
    )
    if before is not None:
        q = q.where(ReviewDecision.id < before)
    return list(conn.execute(q).all())


def triage_page(
    app: App, *, show: str = "undecided", cursor: str | None = None, limit: int = PAGE
) -> TriagePage:
    """One page of the queue (see the module docstring for ``show``)."""
    cats = load_categories(app.settings.home)
    group = "content"
    if show not in ("undecided", "all"):
        group = cats.get(show).group
    elif cats.categories:
        group = cats.categories[0].group
    limit = max(1, min(limit, MAX_PAGE))
    with app.db.connect() as conn:
        if show not in ("undecided", "all"):
            before = int(cursor) if cursor and cursor.isdigit() else None
            rows = _decided_in(conn, group, show, before, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            items = _items(app, conn, [(r.blob_sha256, r.kind) for r in rows])
            return TriagePage(items, str(rows[-1].id) if more and rows else None)
        section, after_score, after_sha = _parse_cursor(cursor) if cursor else (0, None, None)
        found: list[tuple[int, Any]] = []
        if section == 0:
            after = (after_score, after_sha) if after_sha is not None else None
            found += [(0, r) for r in _scored(conn, group, show, after, limit + 1)]
        if len(found) <= limit:
            start = after_sha if section == 1 else None
            rest = limit + 1 - len(found)
            found += [(1, r) for r in _unscored(conn, group, show, start, rest)]
        more = len(found) > limit
        found = found[:limit]
        items = _items(app, conn, [(r[0], r[1]) for _, r in found], {
            r[0]: r for sec, r in found if sec == 0
        })  # fmt: skip
    nxt = None
    if more and found:
        sec, last = found[-1]
        nxt = _cursor(sec, last.score if sec == 0 else None, last[0])
    return TriagePage(items, nxt)


def _items(
    app: App,
    conn: Connection,
    files: list[tuple[str, str | None]],
    scored: dict[str, Any] | None = None,
) -> list[TriageItem]:
    shas = [sha for sha, _ in files]
    scored = scored or {}
    if not scored and shas:  # category views: read the scores of the page's files
        for row in conn.execute(
            select(SignalRow.blob_sha256, Blob.kind, SignalRow.score, SignalRow.value,
                   SignalRow.data_json, SignalRow.analysis_id)
            .join(Blob, Blob.sha256 == SignalRow.blob_sha256)
            .where(SignalRow.blob_sha256.in_(shas), _nudity_of_file())
            .where(SignalRow.analysis_id == _newest_ok(SignalRow.blob_sha256))
        ):  # fmt: skip
            scored[row.blob_sha256] = row
    previews = set(
        conn.execute(
            select(ArtifactRow.blob_sha256).where(
                ArtifactRow.blob_sha256.in_(shas), ArtifactRow.name == "safe_preview"
            )
        ).scalars()
    ) if shas else set()  # fmt: skip
    decisions = current(app, [f"file:{s}" for s in shas])
    out = []
    for sha, kind in files:
        r = scored.get(sha)
        data = orjson.loads(r.data_json) if r is not None and r.data_json else {}
        score = r.score if r is not None else None
        exposed = r is not None and r.value == "exposed"
        regions = len(data.get("regions", []))
        found = decisions.get(f"file:{sha}", {})
        out.append(TriageItem(sha, kind, score, exposed, regions, sha in previews, found))
    return out


def position(app: App, sha256: str) -> str | None:
    """The cursor just before ``sha256`` in queue order (the page that starts with it)."""
    sha = sha256.strip().lower()
    if not is_sha256(sha):
        raise UsageError(t_("{sha256!r} is not a SHA-256.", sha256=sha256[:80]))
    with app.db.connect() as conn:
        score = conn.execute(
            select(SignalRow.score).where(
                SignalRow.blob_sha256 == sha,
                _nudity_of_file(),
                SignalRow.analysis_id == _newest_ok(SignalRow.blob_sha256),
            )
        ).scalar()
    # A cursor is exclusive: just past the file, by a hair, in its own section.
    if score is None:
        return _cursor(1, None, _before(sha))
    return _cursor(0, float(score), _after(sha))


def _before(sha: str) -> str:
    """The largest SHA-256 below ``sha`` that ends the keyset just before it."""
    n = int(sha, 16) - 1
    return f"{max(n, 0):064x}"


def _after(sha: str) -> str:
    n = int(sha, 16) + 1
    return f"{min(n, 16**64 - 1):064x}"


def next_item(app: App, sha256: str, *, show: str = "undecided") -> str | None:
    """The file after ``sha256`` in queue order (the triage page's "next"); ``show`` is
    ``undecided`` or ``all``."""
    if show not in ("undecided", "all"):
        show = "all"
    start = position(app, sha256)
    page = triage_page(app, show=show, cursor=start, limit=2)
    for item in page.items:
        if item.sha256 != sha256.strip().lower():
            return item.sha256
    return None


def item(app: App, sha256: str) -> TriageItem | None:
    """One file as the queue shows it (None when it is not a picture, animation or video)."""
    sha = sha256.strip().lower()
    if not is_sha256(sha):
        return None
    with app.db.connect() as conn:
        kind = conn.execute(select(Blob.kind).where(Blob.sha256 == sha)).first()
        if kind is None or kind[0] not in KINDS:
            return None
        return _items(app, conn, [(sha, kind[0])])[0]


def counts(app: App) -> dict[str, int]:
    """How many files each category currently holds."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(ReviewDecision.value, func.count())
            .where(ReviewDecision.current.is_(True), ReviewDecision.grp != "match")
            .group_by(ReviewDecision.value)
        ).all()
    return {str(v): int(n) for v, n in rows}
