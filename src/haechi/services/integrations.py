"""Where the web application reads what other capabilities produce (bank matches, lexicon
hits, faces, triage verdicts, the graph, cases), each behind one function that answers
"nothing" cleanly when that capability is not installed in this tree.

Each function names the module or table it depends on, so a capability that lands later
is wired here in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from haechi.services.common import has_module

# Capability -> the service module its web view is built against.
SERVICES = {
    "matches": "haechi.match.service",
    "subjects": "haechi.subjects.service",
    "graph": "haechi.graph.service",
    "triage": "haechi.triage.service",
    "cases": "haechi.cases.service",
}


def available(capability: str) -> bool:
    module = SERVICES.get(capability)
    return module is not None and has_module(module)


def bank_matches(
    conn: Connection, shas: Sequence[str]
) -> dict[str, list[tuple[str, str | None, float | None]]]:
    """``{sha256: [(bank, label, distance)]}`` for files matched to a hash bank.

    Empty until the matches capability (haechi.match) provides its service.
    """
    if not shas or not available("matches"):
        return {}
    return {}


def lexicon_clause(conn: Connection) -> str | None:
    """An SQL condition on messages ``m`` that is true for a lexicon hit, or None when the
    text capability is not installed."""
    return None


def lexicon_available() -> bool:
    return False
