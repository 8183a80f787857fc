"""Units: the team a person works in, and who may see every unit's cases.

A national deployment serves many units (cyber-crime teams of several police agencies, a
support centre's regional offices) from one database. Each account names its unit and
each case belongs to one (``cases.unit``); a person sees the cases of their own unit, and
only an account given *all units* (a supervisor, an auditor) sees every case. ``None`` is
the default, unnamed unit: a deployment that never names units works as before, everyone
seeing every case. The rule is enforced in the cases services (``haechi.cases.visibility``).

Giving someone every unit's cases widens what they see, so it carries a reason (kept in
the audit trail), like a privileged role.
"""

from __future__ import annotations

import re

from haechi.auth.types import Actor, UserInfo
from haechi.domain import UsageError
from haechi.i18n import t_

_UNIT = re.compile(r"[\w][\w.\-/ ]{0,63}")


def normalise_unit(unit: str | None) -> str | None:
    """A unit's name as stored (None or empty: the default unit), or one sentence."""
    if unit is None:
        return None
    name = " ".join(unit.split())
    if not name:
        return None
    if not _UNIT.fullmatch(name):
        raise UsageError(
            t_(
                "{unit!r} is not a unit name: up to 64 letters, digits, spaces and . - / _.",
                unit=unit,
            )
        )
    return name


def check_all_units(reason: str | None, what: str) -> None:
    if not (reason or "").strip():
        raise UsageError(
            t_(
                "{what} with every unit's cases widens what the account "
                "sees: give a reason (--reason; it is kept in the audit "
                "trail).",
                what=what,
            )
        )


def set_unit(
    app: object,
    username: str,
    unit: str | None,
    *,
    all_units: bool = False,
    actor: Actor,
    reason: str | None = None,
) -> UserInfo:
    """Move an account to ``unit`` and set whether it sees every unit's cases (audited;
    the same unit again changes nothing and is not logged again). Takes effect at the
    account's next request: sessions read the account each time."""
    from haechi.app import App
    from haechi.auth.accounts import _change, find_user

    assert isinstance(app, App)
    name = normalise_unit(unit)
    user = find_user(app, username)
    if name == user.unit and all_units == user.all_units:
        return user  # nothing changes (a form sent twice): no second audit entry
    if all_units and not user.all_units:
        check_all_units(reason, t_("Giving {name}", name=user.username))
    what: dict[str, object] = {"unit": name, "all_units": all_units}
    if reason:
        what["reason"] = reason.strip()[:500]
    return _change(app, user.username, actor, what, unit=name, all_units=all_units)
