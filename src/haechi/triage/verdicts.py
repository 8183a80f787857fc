"""The verdict on one stored file, from its newest provenance and detector results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haechi.analyze.synthetic.verdict import Verdict, decide
from haechi.app import App
from haechi.triage.records import newest_analysis_ids, signals_of, statuses

VERDICT_ANALYZERS = ("provenance", "synthetic")


@dataclass
class FileVerdict:
    sha256: str
    verdict: Verdict
    analyzed_by: dict[str, str] = field(default_factory=dict)  # analyzer -> status

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "analyzed_by": self.analyzed_by, **self.verdict.as_dict()}


def file_verdict(app: App, sha256: str) -> FileVerdict:
    """Provenance first, detector scores second (see :mod:`haechi.analyze.synthetic.verdict`).

    ``analyzed_by`` says which analyzers have results: a file not yet analysed gets
    ``no_evidence`` with that visible, never a silent "nothing found".
    """
    with app.db.connect() as conn:
        ids = newest_analysis_ids(conn, sha256, VERDICT_ANALYZERS)
        signals = signals_of(conn, ids.values())
        seen = statuses(conn, sha256, VERDICT_ANALYZERS)
    return FileVerdict(sha256, decide(signals), seen)
