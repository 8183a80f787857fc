"""The REST API of the acting pages (issue 13): add to a case, tags, triage decisions, bank-
match review, banks from confirmed items, a node of the network map. JSON in and out, with
a bearer token or a browser session (then with its CSRF header), over the same services as
the pages; every change acts for the token's or session's person and is on the audit trail.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.web.auth import current, haechi, needs
from haechi.web.views import collect, matches, triage
from haechi.web.views.collect import acting

router = APIRouter(prefix="/api", tags=["review"])


class Targets(BaseModel):
    targets: list[str] = Field(max_length=10_000)


class TagBody(Targets):
    tag: str = Field(max_length=64)


class Decision(BaseModel):
    category: str = Field(max_length=48)
    note: str | None = Field(default=None, max_length=2000)


class MatchDecision(BaseModel):
    decision: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=2000)


class BankBody(BaseModel):
    bank: str = Field(max_length=128)


class BankFromConfirmed(BaseModel):
    name: str = Field(max_length=128)
    categories: list[str] = Field(default_factory=list, max_length=20)
    confirmed_matches: bool = False
    description: str | None = Field(default=None, max_length=500)


def _record(request: Request, action: str, subject: str, detail: dict[str, Any]) -> None:
    audit.record(haechi(request), current(request).actor, action, subject, detail)


@router.post("/cases/{case}/items", dependencies=[needs(Perm.CASES_ADD)])
def api_add_to_case(request: Request, case: str, body: Targets) -> dict[str, Any]:
    """Add messages, files, chats or matches (``message:12``, ``media:4``, ``file:<sha>``,
    ``chat:3``, ``match:7``) in one transaction; what the case holds is not added twice."""
    from haechi.cases.bulk import add_targets

    result = add_targets(acting(request), case[:64], body.targets)
    _record(request, collect.CASE_ADD, f"case:{result.case_ref}", {
        "targets": len(body.targets), "added": result.added, "existing": result.existing,
        "via": "api",
    })  # fmt: skip
    return {"case": result.case_ref, "added": result.added, "existing": result.existing,
            "items": [asdict(i) for i in result.items]}  # fmt: skip


@router.post("/tags", dependencies=[needs(Perm.REVIEW)])
def api_tag(request: Request, body: TagBody) -> dict[str, Any]:
    from haechi.review.tags import add_tag

    report = add_tag(acting(request), body.targets, body.tag)
    _record(request, collect.TAG, f"tag:{report.tag}",
            {"targets": report.targets, "added": report.added})  # fmt: skip
    return asdict(report)


@router.post("/tags/remove", dependencies=[needs(Perm.REVIEW)])
def api_untag(request: Request, body: TagBody) -> dict[str, Any]:
    from haechi.review.tags import remove_tag

    removed = remove_tag(acting(request), body.targets, body.tag)
    if removed:
        _record(request, collect.UNTAG, f"tag:{body.tag}", {"targets": len(body.targets)})
    return {"tag": body.tag, "removed": removed}


@router.get("/triage", dependencies=[needs(Perm.TRIAGE)])
def api_triage(
    request: Request, show: str = "undecided", cursor: str | None = None, limit: int = 30
) -> dict[str, Any]:
    """The triage queue with each file's current decisions (``show``: undecided, all or a
    category id); ``next_cursor`` pages on."""
    from haechi.review.queue import triage_page

    page = triage_page(haechi(request), show=show[:48], cursor=cursor, limit=limit)
    return asdict(page)


@router.post("/triage/{sha256}/decision", dependencies=[needs(Perm.REVIEW)])
def api_decide(request: Request, sha256: str, body: Decision) -> dict[str, Any]:
    from haechi.review.decisions import categorise

    made = categorise(acting(request), sha256, body.category, note=body.note)
    if made.created:
        _record(request, triage.REVIEW, sha256.lower(), {
            "category": made.value, "group": made.group, "custody_seq": made.custody_seq,
        })  # fmt: skip
    return asdict(made)


@router.post("/matches/{match_id}/review", dependencies=[needs(Perm.REVIEW)])
def api_review_match(request: Request, match_id: int, body: MatchDecision) -> dict[str, Any]:
    from haechi.review.matches import review_match

    made = review_match(acting(request), match_id, body.decision, note=body.note)
    if made.created:
        _record(request, matches.REVIEW, f"match:{match_id}", {
            "decision": made.value, "sha256": made.blob_sha256, "custody_seq": made.custody_seq,
        })  # fmt: skip
    return asdict(made)


@router.post("/matches/{match_id}/bank", dependencies=[needs(Perm.REVIEW)])
def api_match_to_bank(request: Request, match_id: int, body: BankBody) -> dict[str, Any]:
    from haechi.review.matches import add_files_to_bank, match_file

    sha = match_file(haechi(request), match_id)
    built = add_files_to_bank(acting(request), body.bank, [sha], notes=f"from match {match_id}")
    _record(request, matches.BANK_CHANGE, f"bank:{built.bank}", {
        "added": built.items_added, "duplicates": built.duplicates, "match_id": match_id,
    })  # fmt: skip
    return asdict(built)


@router.post("/banks/from-confirmed", dependencies=[needs(Perm.REVIEW)])
def api_bank_from_confirmed(request: Request, body: BankFromConfirmed) -> dict[str, Any]:
    from haechi.review.matches import bank_from_confirmed

    built = bank_from_confirmed(
        acting(request), body.name, categories=body.categories,
        confirmed_matches=body.confirmed_matches, description=body.description,
    )  # fmt: skip
    _record(request, matches.BANK_CHANGE, f"bank:{built.bank}", {
        "created": built.created, "files": built.files, "added": built.items_added,
        "sources": built.sources,
    })  # fmt: skip
    return asdict(built)


@router.get("/graph/node", dependencies=[needs(Perm.GRAPH)])
def api_graph_node(request: Request, id: str = "") -> dict[str, Any]:
    """One node of the network map: where it appears, what it links to, where it moved."""
    from haechi.services.network import forward_sources, node_view

    view = node_view(haechi(request), id)
    body = asdict(view)
    if view.chat_id is not None:
        body["forwards"] = [asdict(n) for n in forward_sources(haechi(request), view.chat_id)]
    return body
