"""Where the web application reads what other capabilities produce (bank matches, lexicon
hits, faces, triage verdicts, the graph, cases), each behind one function that answers
"nothing" cleanly when that capability is not installed in this tree.

Each function names the module or table it depends on, so a capability that lands later
is wired here in one place.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from functools import cache

from sqlalchemy import Engine, text

from haechi.app import App
from haechi.services.common import chunks, has_module

# Capability -> the service module its web view is built against.
SERVICES = {
    "matches": "haechi.match.lookup",
    "subjects": "haechi.subjects.service",
    "graph": "haechi.graph.service",
    "triage": "haechi.triage.queue",
    "cases": "haechi.cases.service",
    "stats": "haechi.cases.stats",
}


@cache
def available(capability: str) -> bool:
    # Cached: which modules are installed does not change while the process runs, and the
    # import system's look-up costs more than the rest of a small page.
    module = SERVICES.get(capability)
    return module is not None and has_module(module)


MatchList = dict[str, list[tuple[str, str | None, float | None]]]
PER_FILE = 5  # bank matches shown per file
BATCH = 1000  # files per look-up: a page (at most a few hundred) is always one call


# Engines whose database has had a bank match: that stays true (match rows and custody
# events are only ever inserted, and a deleted bank leaves a custody event), so it is asked
# once; "no bank match yet" is asked on every page, since a match may arrive at any time.
_has_bank_matches: weakref.WeakSet[Engine] = weakref.WeakSet()


def _any_bank_match(app: App) -> bool:
    """Whether any stored file matched a bank, on indexes only: an archive without bank
    matches (the usual case) then costs nothing more per page."""
    from haechi.match.events import BANK_DELETED

    if app.db.engine in _has_bank_matches:
        return True
    with app.db.connect() as conn:
        # ix_match_hits_bank_id answers this without reading the table.
        found = conn.execute(
            text("SELECT 1 FROM match_hits WHERE bank_id IS NOT NULL LIMIT 1")
        ).first()
        if found is None:
            # A deleted bank's matches keep their bank name but lose bank_id; they are
            # still shown as matches, so once any bank was deleted every page asks
            # (ix_custody_events_event_type).
            found = conn.execute(
                text("SELECT 1 FROM custody_events WHERE event_type = :t LIMIT 1"),
                {"t": BANK_DELETED},
            ).first()
    if found is not None:
        _has_bank_matches.add(app.db.engine)
    return found is not None


def bank_matches(app: App, shas: Sequence[str]) -> MatchList:
    """``{sha256: [(bank, label, distance)]}`` for files matched to a hash bank, from
    ``haechi.match.lookup.list_matches`` (the matches capability); empty without it."""
    if not shas or not available("matches") or not _any_bank_match(app):
        return {}
    from haechi.match.lookup import list_matches

    wanted = sorted(set(shas))
    out: MatchList = {}
    for part in chunks(wanted, BATCH):
        mine = set(part)
        for m in list_matches(app, blobs=part, banks_only=True, limit=None):
            # ``blobs`` selects both directions; a bank match is the file's own.
            if m.blob_sha256 not in mine or not m.bank_name:
                continue
            found = out.setdefault(m.blob_sha256, [])
            if len(found) >= PER_FILE:
                continue
            labels = (m.details or {}).get("labels") or []
            label = ", ".join(str(x) for x in labels)[:120] if isinstance(labels, list) else None
            found.append((m.bank_name, label or None, m.distance))
    return out


def lexicon_clause(app: App, params: dict[str, object]) -> str | None:
    """An SQL condition on messages ``m`` that is true for a lexicon hit (a finding of the
    current lexicon version in ``text_findings``, the text capability's table), or None
    when the text capability is not installed. Adds its bound parameter to ``params``."""
    if not lexicon_available():
        return None
    from haechi.analyze.text.service import current_version

    params["lexicon_version"] = current_version(app)
    return (
        "EXISTS (SELECT 1 FROM text_findings tf WHERE tf.message_pk = m.id "
        "AND tf.version = :lexicon_version)"
    )


@cache
def lexicon_available() -> bool:
    return has_module("haechi.analyze.text.service")
