"""The vocabulary of cases: statuses, item kinds, age bands, and the objects services return.

Plain dataclasses and enums, no database: the CLI, the web app and the reports all read
these, never the tables.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from haechi.domain import UsageError
from haechi.i18n import t_


class CaseError(UsageError):
    """A request about a case that cannot be carried out (one sentence says why)."""


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    REFERRED = "referred"  # handed to police / prosecution / another unit
    CLOSED = "closed"


class ItemKind(enum.StrEnum):
    MESSAGE = "message"
    MEDIA = "media"
    CHAT = "chat"
    LINK = "link"  # a t.me or other URL reported to us, not (yet) captured
    MATCH = "match"  # a hash/face match raised by the matching capability
    FINDING = "finding"  # a graph finding (successor room, shared wallet, ...)


class ConsentScope(enum.StrEnum):
    """What a victim agreed to; each use checks its own scope."""

    TAKEDOWN = "takedown"  # notices sent on their behalf
    FACE_SEARCH = "face_search"  # their face template searched for
    EVIDENCE_SHARING = "evidence_sharing"  # packages and reports naming them
    CONTACT = "contact"  # being contacted about the case


class SuspectStatus(enum.StrEnum):
    UNIDENTIFIED = "unidentified"
    IDENTIFIED = "identified"
    APPREHENDED = "apprehended"  # 검거
    DETAINED = "detained"  # 구속
    RELEASED = "released"
    REFERRED = "referred"  # 송치


class AgeBand(enum.StrEnum):
    """The bands KNPA publishes: under 14 are "criminal minors" (촉법소년)."""

    UNDER_14 = "under14"
    TEEN = "14-19"
    TWENTIES = "20s"
    THIRTY_PLUS = "30+"
    UNKNOWN = "unknown"


AGE_BAND_LABELS = {
    AgeBand.UNDER_14: "under 14",
    AgeBand.TEEN: "14–19",
    AgeBand.TWENTIES: "20s",
    AgeBand.THIRTY_PLUS: "30+",
    AgeBand.UNKNOWN: "unknown",
}


def age_band(age: int | None, band: str | None = None) -> AgeBand:
    """The band of an age; an explicitly recorded band wins when the age is unknown."""
    if age is None:
        return AgeBand(band) if band else AgeBand.UNKNOWN
    if age < 14:
        return AgeBand.UNDER_14
    if age < 20:
        return AgeBand.TEEN
    if age < 30:
        return AgeBand.TWENTIES
    return AgeBand.THIRTY_PLUS


def parse_age_band(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return AgeBand(value).value
    except ValueError:
        known = ", ".join(b.value for b in AgeBand)
        raise CaseError(
            t_("Unknown age band {value!r}; use one of {known}.", value=value, known=known)
        ) from None


def check_age(age: int | None) -> int | None:
    if age is not None and not 0 <= age <= 120:
        raise CaseError(t_("An age must be between 0 and 120, not {age}.", age=age))
    return age


@dataclass(frozen=True)
class CaseSummary:
    id: int
    ref: str
    title: str
    status: str
    reported_on: str
    opened_at: str
    assignee: str | None
    tags: tuple[str, ...] = ()
    items: int = 0
    notices: int = 0
    unit: str | None = None  # None: the default, unnamed unit


@dataclass(frozen=True)
class ItemView:
    """An item as notices and reports see it: what it is, where it is, its hashes."""

    id: int
    kind: str
    ref: str
    url: str | None  # the public link, when one exists
    chat_id: int | None
    chat_title: str | None
    chat_tg_id: int | None
    chat_peer_kind: str | None
    message_id: int | None  # as Telegram gives it
    message_pk: int | None
    date_unix: int | None
    sender: str | None  # "user:123" or a display name
    text: str | None
    blob_sha256: str | None
    blob_md5: str | None
    blob_size: int | None
    blob_mime: str | None
    file_name: str | None
    external_ref: str | None
    detail: dict[str, Any]
    added_at: str
    withdrawn: bool
    reupload_of: int | None = None


@dataclass(frozen=True)
class ConsentView:
    id: int
    scope: str
    given_by: str
    method: str
    granted_at: str
    withdrawn_at: str | None
    document_sha256: str | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class VictimView:
    id: int
    label: str
    display_name: str | None  # None when redacted
    contact: str | None
    identifiers: tuple[dict[str, str], ...]
    age: int | None
    age_band: str
    is_minor: bool
    faces_subject_ref: str | None
    consents: tuple[ConsentView, ...]

    def consents_to(self, scope: ConsentScope) -> bool:
        return any(c.scope == scope.value and c.active for c in self.consents)


@dataclass(frozen=True)
class SuspectView:
    id: int
    label: str
    account_id: int | None
    age: int | None
    age_band: str
    status: str
    apprehended_at: str | None
    detained_at: str | None
    identifiers: tuple[tuple[str, str], ...]
    note: str | None


@dataclass(frozen=True)
class NoteView:
    id: int
    author: str
    created_at: str
    text: str


@dataclass
class CaseDetail:
    summary: CaseSummary
    case_summary_text: str | None
    created_by: str
    closed_at: str | None
    items: list[ItemView] = field(default_factory=list)
    victims: list[VictimView] = field(default_factory=list)
    suspects: list[SuspectView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def ref(self) -> str:
        return self.summary.ref

    @property
    def concerns_minor(self) -> bool:
        return any(v.is_minor for v in self.victims)

    def active_items(self) -> list[ItemView]:
        return [i for i in self.items if not i.withdrawn]
