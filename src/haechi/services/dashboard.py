"""The dashboard: what arrived, how much there is, what the analyzers flagged, what matched
a bank, and the rooms with the most flagged material."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import text

from haechi.app import App
from haechi.services.integrations import available
from haechi.services.matches import Totals
from haechi.services.matches import totals as match_totals

# Signals that make a file "flagged" for the dashboard, as (kind, value).
FLAG_SIGNALS = (("nudity", "exposed"),)


@dataclass(frozen=True)
class Arrival:
    source_id: int
    label: str
    status: str
    started_at: str
    finished_at: str | None
    messages: int | None
    files: int | None


@dataclass(frozen=True)
class RiskyRoom:
    chat_id: int
    title: str | None
    flagged: int
    media: int


@dataclass(frozen=True)
class Dashboard:
    chats: int
    messages: int
    media: int
    files: int
    analyses: int
    analysis_errors: int
    flagged: int
    arrivals: list[Arrival] = field(default_factory=list)
    risky: list[RiskyRoom] = field(default_factory=list)
    matches: Totals | None = None  # None: the matches capability is not installed


def _num(stats: dict[str, object], *keys: str) -> int | None:
    for key in keys:
        value = stats.get(key)
        if isinstance(value, int):
            return value
    return None


def dashboard(app: App) -> Dashboard:
    flag_sql = " OR ".join(
        f"(g.kind = :k{i} AND g.value = :v{i})" for i in range(len(FLAG_SIGNALS))
    )
    params = {}
    for i, (k, v) in enumerate(FLAG_SIGNALS):
        params[f"k{i}"], params[f"v{i}"] = k, v
    with app.db.connect() as conn:
        totals = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(messages), 0), coalesce(sum(media), 0) "
                "FROM web_chat_stats"
            )
        ).one()
        files = conn.execute(text("SELECT count(*) FROM blobs")).scalar() or 0
        analyses = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END), 0) "
                "FROM analyses"
            )
        ).one()
        flagged = (
            conn.execute(
                text(f"SELECT count(DISTINCT g.blob_sha256) FROM signals g WHERE {flag_sql}"),  # noqa: S608 - placeholders and our own names only
                params,
            ).scalar()
            or 0
        )
        sources = conn.execute(
            text(
                "SELECT id, label, status, started_at, finished_at, stats_json FROM sources "
                "ORDER BY id DESC LIMIT 10"
            )
        ).all()
        # Flagged files, and files matched to a bank where the matches capability is here.
        flagged_files = f"SELECT g.blob_sha256 AS sha FROM signals g WHERE {flag_sql}"  # noqa: S608 - placeholders and our own names only
        if available("matches"):
            flagged_files += (
                " UNION SELECT blob_sha256 FROM match_hits WHERE target_blob_sha256 IS NULL"
            )
        risky = conn.execute(
            text(
                "SELECT m.chat_id, c.title, count(DISTINCT d.blob_sha256) AS flagged, "  # noqa: S608 - placeholders and our own names only
                f"coalesce(max(s.media), 0) AS media FROM ({flagged_files}) f "
                "JOIN media d ON d.blob_sha256 = f.sha "
                "JOIN messages m ON m.id = d.message_pk JOIN chats c ON c.id = m.chat_id "
                "LEFT JOIN web_chat_stats s ON s.chat_id = m.chat_id "
                "GROUP BY m.chat_id, c.title ORDER BY flagged DESC LIMIT 10"
            ),
            params,
        ).all()
    arrivals = []
    for r in sources:
        stats = json.loads(r.stats_json) if r.stats_json else {}
        arrivals.append(
            Arrival(
                r.id,
                r.label,
                r.status,
                r.started_at,
                r.finished_at,
                _num(stats, "messages", "messages_new"),
                _num(stats, "files_referenced", "files_captured_new"),
            )
        )
    return Dashboard(
        chats=int(totals[0]),
        messages=int(totals[1]),
        media=int(totals[2]),
        files=int(files),
        analyses=int(analyses[0]),
        analysis_errors=int(analyses[1]),
        flagged=int(flagged),
        arrivals=arrivals,
        risky=[RiskyRoom(r.chat_id, r.title, int(r.flagged), int(r.media)) for r in risky],
        matches=match_totals(app),
    )
