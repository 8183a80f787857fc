"""Notifier profiles: who a notice says it comes from (name, e-mail, organisation, phone,
role), kept by name with one default, so a unit does not type itself into every notice."""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update

from haechi.app import App
from haechi.cases.model import CaseError
from haechi.cases.notices.compose import Notifier
from haechi.i18n import t_
from haechi.store.tables.cases import NotifierProfile

EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_PROFILE_KEY = re.compile(r"[\w.\-]{1,64}")


def set_profile(
    app: App,
    key: str,
    *,
    person_name: str | None = None,
    email: str | None = None,
    organisation: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    default: bool = True,
) -> None:
    if not _PROFILE_KEY.fullmatch(key):
        raise CaseError(
            t_("{key!r} is not a valid profile name (letters, digits, - _ .).", key=key)
        )
    if email is not None and not EMAIL.fullmatch(email.strip()):
        raise CaseError(t_("{email!r} is not an e-mail address.", email=email))
    values = {
        "person_name": person_name,
        "email": email.strip() if email else None,
        "organisation": organisation,
        "phone": phone,
        "role": role,
        "is_default": default,
    }
    with app.db.begin() as conn:
        if default:
            conn.execute(update(NotifierProfile).values(is_default=False))
        existing = conn.execute(
            select(NotifierProfile.id).where(NotifierProfile.key == key)
        ).first()
        if existing is None:
            conn.execute(insert(NotifierProfile).values(key=key, **values))
        else:
            conn.execute(
                update(NotifierProfile).where(NotifierProfile.id == existing[0]).values(**values)
            )


def get_profile(app: App, key: str | None = None) -> Notifier | None:
    with app.db.connect() as conn:
        stmt = select(NotifierProfile)
        stmt = (
            stmt.where(NotifierProfile.key == key)
            if key
            else stmt.where(NotifierProfile.is_default.is_(True))
        )
        row = conn.execute(stmt.limit(1)).first()
    if row is None:
        if key:
            raise CaseError(t_("There is no notifier profile {key!r}.", key=key))
        return None
    return Notifier(row.person_name, row.email, row.organisation, row.phone, row.role)
