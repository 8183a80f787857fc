"""Her case, from the files a counsellor confirmed as hers in a face search.

Opens a case (or extends one), records her as a victim (once per case: the victim linked
to her faces subject), her consent to takedown requests and to the face search the files
came from, links her faces subject, and adds every confirmed file: one item for each
message that carried it (``items.add_file``), so a notice can name every place it was.

Each step is the cases service's own (its custody event, the acting person's name), and
all of them run in one write transaction (``Database.joined``): a refusal or failure
half-way leaves nothing behind, and the request takes the writer's turn once, not once per
step and file (18 transactions for ten files before). The files are added as
``haechi.cases.bulk`` adds ``file:<sha256>`` targets: every message that carried each file
read in a few statements, one custody append for all the new items. What a person can get
wrong is also checked before the first step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, select

from haechi.app import App
from haechi.cases import people
from haechi.cases.detail import case_detail
from haechi.cases.model import CaseError, ConsentScope, check_age
from haechi.cases.service import case_row, create_case, get_summary
from haechi.i18n import t_
from haechi.store.models import Blob


@dataclass(frozen=True)
class VictimDetails:
    """What the counsellor states about her and her consent to takedown requests."""

    age: int | None = None
    is_minor: bool = False
    consent_given_by: str = "subject"  # subject / guardian / representative
    consent_method: str = "written"  # written / electronic / verbal
    consent_at: str | None = None  # ISO date or time with a zone; default: now
    document_sha256: str | None = None  # the signed form's hash, if scanned


@dataclass(frozen=True)
class CaseForSubject:
    case_ref: str
    victim_label: str
    created_case: bool
    created_victim: bool
    items_added: int


def parse_age(text: str | None) -> int | None:
    """An age in whole years as a person typed it ("" for unknown), or a sentence."""
    value = (text or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise CaseError(t_("{value!r} is not an age in years.", value=value))
    return check_age(int(value))


def check_victim(victim: VictimDetails, *, consents: bool = True) -> None:
    """What ``people.record_consent`` would refuse, before anything is written."""
    check_age(victim.age)
    if not consents:
        return
    if victim.consent_given_by not in people.GIVEN_BY:
        raise CaseError(
            t_("Consent is given by one of {given_by}.", given_by=", ".join(people.GIVEN_BY))
        )
    if victim.consent_method not in people.METHODS:
        raise CaseError(
            t_("Consent is recorded as one of {methods}.", methods=", ".join(people.METHODS))
        )
    if (
        victim.consent_given_by == "subject"
        and victim.age is not None
        and victim.age < people.GUARDIAN_AGE
    ):
        raise CaseError(
            t_(
                "She is under {guardian_age}: consent must come from a "
                "guardian or legal representative.",
                guardian_age=people.GUARDIAN_AGE,
            )
        )


def record_consents(
    app: App, case: str, label: str, victim: VictimDetails, scopes: Sequence[str],
    note: str | None = None,
) -> None:  # fmt: skip
    for scope in scopes:
        people.record_consent(
            app, case, label, scope, given_by=victim.consent_given_by,
            method=victim.consent_method, granted_at=victim.consent_at,
            document_sha256=victim.document_sha256, note=note,
        )  # fmt: skip


def add_victim(
    app: App,
    case: str,
    victim: VictimDetails,
    *,
    scopes: Sequence[str] = (),
    display_name: str | None = None,
    contact: str | None = None,
) -> str:
    """A victim and the consents she gave (checked first); returns her label."""
    check_victim(victim, consents=bool(scopes))
    label = people.add_victim(
        app, case, display_name=display_name or None, contact=contact or None, age=victim.age,
        is_minor=victim.is_minor or None,
    )  # fmt: skip
    record_consents(app, case, label, victim, scopes)
    return label


def _check(app: App, files: Sequence[str], victim: VictimDetails) -> list[str]:
    shas = list(dict.fromkeys(s.strip().lower() for s in files if s.strip()))
    if not shas:
        raise CaseError(t_("Confirm at least one candidate as hers first."))
    check_victim(victim)
    with app.db.connect() as conn:
        known = set(conn.execute(select(Blob.sha256).where(Blob.sha256.in_(shas))).scalars())
    missing = [s for s in shas if s not in known]
    if missing:
        raise CaseError(t_("No stored file has the SHA-256 {missing}.", missing=missing[0]))
    return shas


def case_for_subject(
    app: App,
    *,
    subject_label: str,
    files: Sequence[str],
    victim: VictimDetails,
    case: str | None = None,
    title: str | None = None,
    reported_on: str | None = None,
) -> CaseForSubject:
    """Open (``case`` None) or extend a case for the faces subject ``subject_label`` with
    ``files`` (SHA-256). ``app`` acts as the counsellor."""
    shas = _check(app, files, victim)
    with app.db.begin() as conn:
        joined = replace(app, db=app.db.joined(conn))
        return _case_for_subject(
            joined, conn, subject_label, shas, victim, case, title, reported_on
        )


def _case_for_subject(
    app: App, conn: Connection, subject_label: str, shas: list[str], victim: VictimDetails,
    case: str | None, title: str | None, reported_on: str | None,
) -> CaseForSubject:  # fmt: skip
    from haechi.cases.bulk import _plan, _write_planned

    created_case = case is None
    if case is None:
        summary = create_case(
            app, title or f"Takedown request: {subject_label}", reported_on=reported_on
        )
    else:
        summary = get_summary(app, case)
    ref = summary.ref
    # A case opened here has no victims yet: only an existing one is read for hers.
    linked = (
        []
        if created_case
        else [v for v in case_detail(app, ref).victims if v.faces_subject_ref == subject_label]
    )
    created_victim = not linked
    if linked:
        label = linked[0].label
        if not linked[0].consents_to(ConsentScope.TAKEDOWN):
            record_consents(app, ref, label, victim, [ConsentScope.TAKEDOWN.value])
    else:
        label = add_victim(app, ref, victim, scopes=[ConsentScope.TAKEDOWN.value])
        # The face search that found the files ran under her faces subject's consent;
        # the case records it too, which linking the subject requires.
        record_consents(
            app, ref, label, victim, [ConsentScope.FACE_SEARCH.value],
            note=f"face search under the consent recorded with subject {subject_label}",
        )  # fmt: skip
        people.link_faces_subject(app, ref, label, subject_label)
    # Every message that carried each file, as items.add_file adds them (same refs, order
    # and custody events), read and written in a few statements for all the files.
    case_id = case_row(conn, ref).id
    added = _write_planned(app, conn, case_id, _plan(conn, [f"file:{s}" for s in shas]))
    return CaseForSubject(ref, label, created_case, created_victim, sum(a.created for a in added))


@dataclass(frozen=True)
class SubjectCase:
    ref: str
    title: str
    status: str
    victim_label: str


def cases_of_subject(app: App, subject_label: str) -> list[SubjectCase]:
    """The cases where a victim is linked to the faces subject ``subject_label``."""
    from haechi.cases import visibility
    from haechi.store.tables.cases import Case, CaseSubject

    with app.db.connect() as conn:
        stmt = (
            select(Case.ref, Case.title, Case.status, CaseSubject.label)
            .join(CaseSubject, CaseSubject.case_id == Case.id)
            .where(CaseSubject.faces_subject_ref == subject_label)
            .order_by(Case.id.desc())
        )
        rows = conn.execute(visibility.limit(conn, stmt)).all()
    return [SubjectCase(*r) for r in rows]


def open_cases(app: App, limit: int = 200) -> list[tuple[str, str]]:
    """(reference, title) of the cases not closed, newest first: what a case can be
    extended from."""
    from haechi.cases import visibility
    from haechi.store.tables.cases import Case

    with app.db.connect() as conn:
        stmt = (
            select(Case.ref, Case.title)
            .where(Case.status != "closed")
            .order_by(Case.id.desc())
            .limit(limit)
        )
        return [(ref, title) for ref, title in conn.execute(visibility.limit(conn, stmt))]
