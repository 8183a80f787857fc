"""Cases: the list, opening one, and a case's page (items, victims redacted by default,
notices with their status and hours to removal, re-upload hits, the custody trail, jobs),
with the actions on it. Built on ``haechi.cases`` (the services ``haechi case`` uses),
acting as the logged-in person.

Revealing victims' identifiers is an explicit act, logged as a ``reveal`` audit entry with
a signed ``access`` custody event on the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.domain import HaechiError
from haechi.services import integrations
from haechi.web.actions import CASE_CHANGE, acting, audited, go, once
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render
from haechi.web.views.capabilities import unavailable

if TYPE_CHECKING:
    from haechi.cases.for_subject import VictimDetails

router = APIRouter()
NAV = [NavItem(70, "nav.cases", "/cases", Perm.CASES)]
STATUSES = ("open", "investigating", "referred", "closed")
TRAIL = 30  # newest custody events on the page; the custody log has them all
CASES_PAGE = 100  # cases a page of the list


@dataclass(frozen=True)
class ConsentFields:
    """How a victim's consent was given, as the forms that record one ask it."""

    given_by: str
    method: str
    consent_on: str

    def details(self, *, age: int | None = None, minor: bool = False) -> VictimDetails:
        from haechi.cases.for_subject import VictimDetails

        return VictimDetails(
            age=age, is_minor=minor, consent_given_by=self.given_by,
            consent_method=self.method, consent_at=self.consent_on.strip() or None,
        )  # fmt: skip


def consent_fields(
    given_by: Annotated[str, Form(max_length=16)] = "subject",
    method: Annotated[str, Form(max_length=16)] = "written",
    consent_on: Annotated[str, Form(max_length=10)] = "",
) -> ConsentFields:
    return ConsentFields(given_by, method, consent_on)


Consent = Annotated[ConsentFields, Depends(consent_fields)]
AS_GIVEN = ConsentFields("subject", "written", "")  # the parameter's default (never used)


def _missing(request: Request) -> Response | None:
    return None if integrations.available("cases") else unavailable(request, "cases")


def _key(case: str) -> str:
    return case.strip()[:64]


DEFAULT_UNIT = "~"  # ``?unit=~``: the default, unnamed unit (no unit name has a ~)


@dataclass(frozen=True)
class CaseFilters:
    """What ``haechi case list`` filters by (``--status``, ``--tag``, ``--assignee``,
    ``--unit``), as the list page's and the API's query: blank is no filter."""

    status: str = ""
    tag: str = ""
    assignee: str = ""
    unit: str = ""

    def service(self) -> dict[str, str | None]:
        """The keyword arguments of ``cases.service.list_cases`` (``~``: the default unit)."""
        unit = "" if self.unit == DEFAULT_UNIT else (self.unit or None)
        return {"status": self.status or None, "tag": self.tag or None,
                "assignee": self.assignee or None, "unit": unit}  # fmt: skip

    def query(self, **more: int) -> str:
        """The filters (and ``more``) as a URL query, blank ones left out."""
        from urllib.parse import urlencode

        pairs = [(k, v) for k, v in vars(self).items() if v]
        return urlencode(pairs + [(k, str(v)) for k, v in more.items()])


def case_filters(
    status: Annotated[str, Query(max_length=16)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    assignee: Annotated[str, Query(max_length=128)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
) -> CaseFilters:
    return CaseFilters(status.strip(), tag.strip(), assignee.strip(), unit.strip())


Filters = Annotated[CaseFilters, Depends(case_filters)]


@router.get("/cases", dependencies=[needs(Perm.CASES)])
def cases_page(
    request: Request,
    filters: Filters,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    if (missing := _missing(request)) is not None:
        return missing
    from haechi.cases.service import known_units, list_cases

    app, user = haechi(request), current(request).user
    error, found = None, []
    try:
        # A page of cases, newest first (every case counts its items and notices).
        found = list_cases(app, **filters.service(), limit=CASES_PAGE + 1,
                           offset=page * CASES_PAGE)  # fmt: skip
    except HaechiError as exc:
        error = refusal(request, exc)
    return render(
        request, "cases.html", status=400 if error else 200, cases=found[:CASES_PAGE],
        filters=filters, statuses=STATUSES, my_unit=user.unit, all_units=user.all_units,
        units=known_units(app) if user.all_units else [], page=page,
        more=len(found) > CASES_PAGE, default_unit=DEFAULT_UNIT, error=error,
    )  # fmt: skip


@router.post("/cases", dependencies=[needs(Perm.CASES_WRITE)])
def create(
    request: Request,
    title: Annotated[str, Form(max_length=500)] = "",
    ref: Annotated[str, Form(max_length=64)] = "",
    reported_on: Annotated[str, Form(max_length=10)] = "",
    unit: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if (page := _missing(request)) is not None:
        return page
    from haechi.cases.service import create_case

    def work() -> str:
        # The service puts it in the person's own unit unless they see every unit.
        made = create_case(
            acting(request), title, ref=ref.strip() or None, reported_on=reported_on or None,
            unit=unit.strip() or None,
        )  # fmt: skip
        return f"/cases/{made.ref}"

    return once(request, key, "case_create", work)


def case_view(
    request: Request, case: str, *, error: str | None = None, status: int = 200, offset: int = 0
) -> Response:
    from haechi.cases.notices.recipients import LANGUAGES
    from haechi.cases.notices.views import list_notices
    from haechi.cases.page import ITEMS_PAGE, case_page, reupload_hits
    from haechi.cases.people import IDENTIFIER_KINDS
    from haechi.jobs.store import jobs

    app, auth = haechi(request), current(request)
    page = case_page(app, _key(case), offset=offset)
    detail = page.detail
    trail = []
    if can(auth.user.role, Perm.CUSTODY_READ):
        from haechi.services.custody import log

        trail = log(app, subject=f"case:{detail.id}", limit=TRAIL).events
    return render(
        request,
        "case.html",
        status=status,
        case=detail,
        items=detail.items,
        items_total=page.items_total,
        items_offset=page.offset,
        items_page=ITEMS_PAGE,
        notices=list_notices(app, case=detail.id),
        hits=reupload_hits(app, detail.id),
        trail=trail,
        jobs=jobs(app, subject=f"case:{detail.id}", limit=20),
        statuses=STATUSES,
        languages=LANGUAGES,
        recipients=("telegram", "kcsc", "dscvsc", "dsa"),
        identifier_kinds=IDENTIFIER_KINDS,
        error=error,
    )


@router.get("/cases/{case}", dependencies=[needs(Perm.CASES)])
def case_page(request: Request, case: str, items: int = 0) -> Response:
    if (page := _missing(request)) is not None:
        return page
    return case_view(request, case, offset=items)


def on_case(request: Request, case: str, work: object) -> Response:
    """Run a case action; a refusal shows the case's page with the sentence (400)."""
    if (page := _missing(request)) is not None:
        return page
    try:
        return work()  # type: ignore[operator]
    except HaechiError as exc:
        return case_view(request, case, error=refusal(request, exc), status=400)


@router.post("/cases/{case}/status", dependencies=[needs(Perm.CASES_WRITE)])
def change_status(
    request: Request, case: str, status: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    from haechi.cases.service import get_summary, set_status

    def work() -> Response:
        before = get_summary(haechi(request), _key(case))
        set_status(acting(request), _key(case), status)  # the same status again: nothing
        if before.status != status:
            audited(request, CASE_CHANGE, "case_status", f"case:{before.ref}",
                    status=status, previous=before.status)  # fmt: skip
        return go(request, f"/cases/{before.ref}")

    return on_case(request, case, work)


@router.post("/cases/{case}/victims", dependencies=[needs(Perm.CASES_WRITE)])
def add_victim(
    request: Request,
    case: str,
    name: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=200)] = "",
    age: Annotated[str, Form(max_length=3)] = "",
    minor: Annotated[bool, Form()] = False,
    scope: Annotated[list[str] | None, Form()] = None,
    consent: Consent = AS_GIVEN,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    from haechi.cases.for_subject import add_victim as add
    from haechi.cases.for_subject import parse_age
    from haechi.cases.service import get_summary

    def work() -> str:
        app = acting(request)
        details = consent.details(age=parse_age(age), minor=minor)
        add(app, _key(case), details, scopes=scope or [], display_name=name, contact=contact)
        return f"/cases/{get_summary(app, _key(case)).ref}#victims"

    return on_case(request, case, lambda: once(request, key, "case_victim", work))


@router.post("/cases/{case}/victims/reveal", dependencies=[needs(Perm.CASES)])
def reveal_victims(request: Request, case: str) -> Response:
    """Victims' names and contacts, shown after the logged act (this request)."""
    from haechi.cases.detail import case_detail

    app, auth = haechi(request), current(request)
    detail = case_detail(app, _key(case), reveal_victims=True)
    audit.record(
        app, auth.actor, audit.REVEAL, f"case:{detail.id}",
        {"view": "victim_identifiers", "case_id": detail.id, "case": detail.ref,
         "victims": [v.label for v in detail.victims]},
    )  # fmt: skip
    return render(request, "_victims.html", case=detail, revealed=True)


@router.post("/cases/{case}/consents", dependencies=[needs(Perm.CASES_WRITE)])
def record_consent(
    request: Request,
    case: str,
    victim: Annotated[str, Form(max_length=16)] = "",
    scope: Annotated[str, Form(max_length=32)] = "",
    consent: Consent = AS_GIVEN,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    from haechi.cases.for_subject import record_consents
    from haechi.cases.service import get_summary

    def work() -> str:
        app = acting(request)
        record_consents(app, _key(case), victim, consent.details(), [scope])
        return f"/cases/{get_summary(app, _key(case)).ref}#victims"

    return on_case(request, case, lambda: once(request, key, "case_consent", work))


@router.post("/cases/{case}/consents/{consent_id}/withdraw", dependencies=[needs(Perm.CASES_WRITE)])
def withdraw_consent(request: Request, case: str, consent_id: int) -> Response:
    from haechi.cases import people
    from haechi.cases.service import get_summary

    def work() -> Response:
        app = acting(request)
        people.withdraw_consent(app, _key(case), consent_id)  # a second time: nothing
        ref = get_summary(app, _key(case)).ref
        audited(request, CASE_CHANGE, "consent_withdraw", f"case:{ref}", consent_id=consent_id)
        return go(request, f"/cases/{ref}#victims")

    return on_case(request, case, work)
