"""Where the web application reads what other capabilities produce (bank matches, lexicon
hits, faces, triage verdicts, the graph, cases), each behind one function that answers
"nothing" cleanly when that capability is not installed in this tree.

Each function names the module or table it depends on, so a capability that lands later
is wired here in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from haechi.app import App
from haechi.services.common import has_module

# Capability -> the service module its web view is built against.
SERVICES = {
    "matches": "haechi.match.lookup",
    "subjects": "haechi.subjects.service",
    "graph": "haechi.graph.service",
    "triage": "haechi.triage.queue",
    "cases": "haechi.cases.service",
}


def available(capability: str) -> bool:
    module = SERVICES.get(capability)
    return module is not None and has_module(module)


def bank_matches(
    app: App, shas: Sequence[str]
) -> dict[str, list[tuple[str, str | None, float | None]]]:
    """``{sha256: [(bank, label, distance)]}`` for files matched to a hash bank, from
    ``haechi.match.lookup.list_matches`` (the matches capability); empty without it."""
    if not shas or not available("matches"):
        return {}
    from haechi.match.lookup import list_matches

    # One query first: an archive without any bank match (the usual case) costs nothing
    # more. The service has no batch call yet, so each file is then asked for in turn.
    if not list_matches(app, banks_only=True, limit=1):
        return {}
    out: dict[str, list[tuple[str, str | None, float | None]]] = {}
    for sha in shas:
        for m in list_matches(app, blob_sha256=sha, banks_only=True, limit=5):
            if m.blob_sha256 != sha or not m.bank_name:
                continue
            labels = (m.details or {}).get("labels") or []
            label = ", ".join(str(x) for x in labels)[:120] if isinstance(labels, list) else None
            out.setdefault(sha, []).append((m.bank_name, label or None, m.distance))
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


def lexicon_available() -> bool:
    return has_module("haechi.analyze.text.service")
