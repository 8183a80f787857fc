"""The face capability's domain objects and errors (plain dataclasses, no database)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from haechi.domain import UsageError
from haechi.i18n import t_

# Calibrated on ../shared/data/faces by eval/eval_faces.py (docs/accuracy/faces.md, measured
# 2026-12-01): on the identity sets a false accept rate of 1e-3 is reached at 0.555 (TAR
# 0.958 there; at 0.55: FAR 7.6e-4, TAR 0.953); the 10-fold cross-validated thresholds on the
# stated pairs lie in 0.535-0.590 (accuracy 0.989; 0.9905 at 0.55). We take the lower,
# stricter end: a hit is a *candidate* for a person to confirm, never an identification.
SEARCH_THRESHOLD = 0.55
# Stricter for clustering: a wrong edge merges two strangers into one "person" (at 0.45 the
# identity sets show no false accepts among 53,905 impostor pairs, and a TAR of 0.62).
CLUSTER_THRESHOLD = 0.45


class SubjectError(UsageError):
    """A subject, consent or search request that cannot be carried out as asked."""


class ConsentScope(enum.StrEnum):
    SEARCH = "search"  # search the archive for her face
    KEEP_PHOTOS = "keep_photos"  # keep the reference photos (encrypted), not only templates
    LINK = "link"  # link clusters of unknown faces to her


class Relation(enum.StrEnum):
    SELF = "self"
    GUARDIAN = "guardian"  # parent or legal guardian of a minor
    REPRESENTATIVE = "representative"  # lawyer, support-centre advocate with a mandate


def parse_scope(text: str | list[str]) -> list[ConsentScope]:
    parts = text if isinstance(text, list) else text.split(",")
    out: list[ConsentScope] = []
    for raw in parts:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            scope = ConsentScope(name)
        except ValueError:
            known = ", ".join(s.value for s in ConsentScope)
            raise SubjectError(
                t_("Unknown consent scope {raw!r}; known: {known}.", raw=raw, known=known)
            ) from None
        if scope not in out:
            out.append(scope)
    if not out:
        raise SubjectError(t_("A consent needs at least one scope (search, keep_photos, link)."))
    return out


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise SubjectError(
            t_("{what} must be a date written YYYY-MM-DD, not {text!r}.", what=what, text=text)
        ) from None


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class ConsentInfo:
    id: int
    given_by: str
    relation: str
    given_at: str
    scope: list[str]
    valid_until: str | None
    reference: str | None
    recorded_by: str
    recorded_at: str
    withdrawn_at: str | None

    def active_on(self, day: date) -> bool:
        if self.withdrawn_at:
            return False
        if parse_day(self.given_at, t_("The consent date")) > day:
            return False
        return (
            self.valid_until is None
            or parse_day(self.valid_until, t_("The end of the consent")) >= day
        )

    def allows(self, scope: ConsentScope, day: date | None = None) -> bool:
        return self.active_on(day or today()) and scope.value in self.scope


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    photo_sha256: str
    photo_kept: bool
    score: float
    size: int
    sharpness: float
    created_at: str


@dataclass(frozen=True)
class SubjectInfo:
    id: int
    label: str
    display_name: str | None
    notes: str | None
    is_minor: bool
    status: str
    created_at: str
    created_by: str
    consents: list[ConsentInfo] = field(default_factory=list)
    templates: list[TemplateInfo] = field(default_factory=list)
    photos: int = 0
    clusters: list[int] = field(default_factory=list)
    minor_clusters: list[int] = field(default_factory=list)

    @property
    def apparent_minor(self) -> bool:
        """Staff recorded the subject as a minor, or flagged a cluster linked to her."""
        return self.is_minor or bool(self.minor_clusters)

    def consent_for(self, scope: ConsentScope, day: date | None = None) -> ConsentInfo | None:
        for consent in reversed(self.consents):  # the newest first
            if consent.allows(scope, day):
                return consent
        return None


@dataclass(frozen=True)
class Sighting:
    """Where a stored file appeared: a message in a chat, as one source saw it."""

    chat_id: int
    chat_title: str | None
    chat_username: str | None
    chat_tg_id: int | None
    message_id: int
    date_unix: int | None
    source_id: int
    link: str | None  # t.me link when the chat is public


@dataclass(frozen=True)
class ImageHit:
    blob_sha256: str
    distance: float  # the closest face in this file to any query template
    face_id: int
    box: tuple[int, int, int, int]
    faces_matched: int
    sightings: list[Sighting]


@dataclass(frozen=True)
class SearchResult:
    search_id: int
    kind: str  # subject / probe
    subject_id: int | None
    threshold: float
    templates: int
    hits: list[ImageHit]
    custody_seq: int
    # How the index answered (kind, faces, nlist, nprobe, exact, exhaustive, and for an
    # inverted file ``codes``: the range codes read, "IVF<nlist>,PQ64x4fs"; None when
    # exhaustive or without codes); also in the ``face_search`` custody event, so a later
    # reader knows whether it could have missed.
    index: dict[str, Any] = field(default_factory=dict)

    @property
    def chats(self) -> int:
        return len({s.chat_id for h in self.hits for s in h.sightings})


@dataclass(frozen=True)
class SearchLogEntry:
    id: int
    at: str
    staff: str
    reason: str
    basis: str | None
    kind: str
    subject_id: int | None
    probe_sha256: str | None
    threshold: float
    faces: int
    images: int
    custody_seq: int | None


@dataclass(frozen=True)
class ClusterInfo:
    id: int
    faces: int
    images: int
    chats: int
    subject_id: int | None
    subject_label: str | None
    apparent_minor: bool
    minor_set_by: str | None
    status: str
    updated_at: str

    def sentence(self) -> str:
        return (
            f"person #{self.id} appears in {self.images} image{'s' * (self.images != 1)} "
            f"across {self.chats} chat{'s' * (self.chats != 1)}"
        )
