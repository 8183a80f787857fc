"""The ``match`` analysis hook: every batch of analyses is matched as soon as it is
committed (index the new PDQ/vPDQ signals, match them against banks and earlier
captures, check md5/SHA-256 of new files against the banks, hunt new bank hashes).

Idempotent and incremental by construction (``haechi.match.matching``): a crash between
the analysis commit and this hook is caught up by the next batch or ``haechi match --all``.
"""

from __future__ import annotations

from typing import Any

from haechi.app import App


def after_analysis(app: App, analysis_ids: list[int]) -> dict[str, Any]:
    from haechi.match.matching import run_matching

    return run_matching(app).as_dict()


def after_ingest(app: App, report: Any) -> str:
    """For an ``haechi.ingest_hooks`` entry point: catches files no analyzer takes
    (documents, archives) whose md5/SHA-256 may still be in a bank."""
    from haechi.match.matching import run_matching

    result = run_matching(app)
    return f"{result.new_matches} new matches"
