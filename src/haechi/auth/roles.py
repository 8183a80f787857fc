"""Roles and the permission matrix (documented in docs/web.md; a test keeps both equal).

Least exposure: a role is given only what its daily work needs. Nobody but investigators
and reviewers can reveal an original; auditors read the trails (the audit trail and the
custody log, on their own pages), never the material.
"""

from __future__ import annotations

import enum

from haechi.domain import UsageError
from haechi.i18n import t_


class Role(enum.StrEnum):
    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    SUPPORT_WORKER = "support_worker"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"


class Perm(enum.StrEnum):
    ARCHIVE_READ = "archive.read"  # dashboard, chats, timeline, message detail, media grid
    SEARCH = "search"  # full-text search and filters
    MEDIA_REVEAL = "media.reveal"  # show an original file (logged per item)
    FACE_SEARCH = "faces.search"  # search subjects' faces (logged)
    SUBJECTS = "subjects.read"  # subjects and their consent records
    MATCHES = "matches.read"  # banks and matches
    TRIAGE = "triage.read"  # triage and synthetic-media verdicts
    GRAPH = "graph.read"  # the network graph
    CASES = "cases.read"  # cases, notices and reports
    CASES_ADD = "cases.add"  # add messages, files, chats and matches to a case (any view)
    REVIEW = "review.write"  # triage categories, tags, bank-match review, banks from them
    SUBJECTS_WRITE = "subjects.write"  # enrol subjects, record/withdraw consent, delete
    CASES_WRITE = "cases.write"  # open cases, victims and their consents, status
    NOTICES_WRITE = "notices.write"  # draft takedown notices, download them, mark status
    STATS = "stats.read"  # statistics of cases, suspects, victims and removals (counts only)
    EXPORT = "export"  # evidence packages and bulk exports through the API (logged)
    CUSTODY_READ = "custody.read"  # a message's or file's custody trail
    AUDIT_READ = "audit.read"  # the audit trail
    USERS_MANAGE = "users.manage"  # accounts, roles, lock-outs
    TOKENS_OWN = "tokens.own"  # one's own API tokens
    SELF = "self"  # one's own account page, language, exposure counter, logout
    EXCHANGE_MANAGE = "exchange.manage"  # partners we publish to, subscriptions we fetch
    EXCHANGE_PARTNER = "exchange.partner"  # the partner feed: partners' own tokens, no role
    LIVE = "live.watch"  # live capture: targets, their status, bot conversations (haechi watch)
    ANALYSIS = "analysis.run"  # analyse new files and run the matching catch-up (jobs)


_ALL_STAFF = {Role.ADMIN, Role.INVESTIGATOR, Role.SUPPORT_WORKER, Role.REVIEWER}
_EVERYONE = set(Role)

MATRIX: dict[Perm, frozenset[Role]] = {
    Perm.ARCHIVE_READ: frozenset(_ALL_STAFF),
    Perm.SEARCH: frozenset(_ALL_STAFF),
    Perm.MEDIA_REVEAL: frozenset({Role.INVESTIGATOR, Role.REVIEWER}),
    Perm.FACE_SEARCH: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.SUBJECTS: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.MATCHES: frozenset(_ALL_STAFF),
    Perm.TRIAGE: frozenset({Role.INVESTIGATOR, Role.REVIEWER}),
    Perm.GRAPH: frozenset({Role.ADMIN, Role.INVESTIGATOR, Role.REVIEWER}),
    Perm.CASES: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.CASES_ADD: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    # The actioner's step on what triage and matching raised: those who review the material.
    Perm.REVIEW: frozenset({Role.INVESTIGATOR, Role.REVIEWER}),
    # The counsellor's work (enrol, consent, case, takedown) and the investigator's.
    Perm.SUBJECTS_WRITE: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.CASES_WRITE: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.NOTICES_WRITE: frozenset({Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    # Counts only, no material and no person: the people who publish them and run the unit.
    Perm.STATS: frozenset({Role.ADMIN, Role.INVESTIGATOR, Role.SUPPORT_WORKER}),
    Perm.EXPORT: frozenset({Role.INVESTIGATOR}),
    Perm.CUSTODY_READ: frozenset({Role.ADMIN, Role.INVESTIGATOR, Role.REVIEWER, Role.AUDITOR}),
    Perm.AUDIT_READ: frozenset({Role.ADMIN, Role.AUDITOR}),
    Perm.USERS_MANAGE: frozenset({Role.ADMIN}),
    Perm.TOKENS_OWN: frozenset(_EVERYONE),
    Perm.SELF: frozenset(_EVERYONE),
    # Hashes and leads shared with other agencies: those who run the unit and investigate.
    Perm.EXCHANGE_MANAGE: frozenset({Role.ADMIN, Role.INVESTIGATOR}),
    # Partners are not web users: their own tokens only (haechi.exchange.partners).
    Perm.EXCHANGE_PARTNER: frozenset(),
    # Live capture acts on Telegram with an investigator's account: investigators own it.
    Perm.LIVE: frozenset({Role.INVESTIGATOR}),
    # Analysis of new files and re-matching load the server for hours: investigators, who
    # ingest the material and read what the analyzers and matching find, start them.
    Perm.ANALYSIS: frozenset({Role.INVESTIGATOR}),
}


def can(role: str | Role, perm: Perm) -> bool:
    try:
        return Role(role) in MATRIX[perm]
    except ValueError:  # an unknown role stored by hand can do nothing
        return False


def parse_role(value: str) -> Role:
    low = value.strip().lower().replace("-", "_").replace(" ", "_")
    if low == "support":
        low = Role.SUPPORT_WORKER.value
    try:
        return Role(low)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise UsageError(
            t_("Unknown role {value!r}; choose one of: {known}.", value=value, known=known)
        ) from None


def permissions_of(role: str | Role) -> list[Perm]:
    return [p for p in Perm if can(role, p)]
