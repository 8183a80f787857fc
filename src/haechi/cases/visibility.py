"""Which cases a person sees: their own unit's, unless their account sees all units.

The rule lives here and in the services that read cases (``service.case_row`` for every
service that names one case: items, people, notices, the detail, the page, packages and
reports; ``list_cases``, notices lists, statistics, a subject's cases), never in a page:
the web, the API and the background jobs call the same services, on an :class:`~haechi.app.App`
whose database carries the person's :class:`Scope` (:func:`for_user`). The shell's
operator works on the data directory itself and sees every unit.

A case outside the scope is answered exactly as a case that does not exist, so its
reference, title and existence do not leak to another unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from haechi.app import App
from haechi.auth.types import Actor, UserInfo
from haechi.store.db import SCOPE_OPTION
from haechi.store.tables.cases import Case


@dataclass(frozen=True)
class Scope:
    """One unit's view (``unit`` None: the default, unnamed unit)."""

    unit: str | None


def for_user(app: App, user: UserInfo) -> App:
    """``app`` as ``user`` sees it: their unit only, unless they may see all units."""
    if user.all_units:
        return app
    return replace(app, db=app.db.scoped(Scope(user.unit)))


def for_actor(app: App, actor: Actor) -> App:
    """``app`` as the person behind ``actor`` sees it now (a background job runs with the
    account's current unit); the shell's operator (no account) sees every unit. An
    account that no longer exists sees the default unit only."""
    if actor.user_id is None:
        return app
    from haechi.auth.accounts import get_user

    user = get_user(app, actor.user_id)
    if user is None:
        return replace(app, db=app.db.scoped(Scope(None)))
    return for_user(app, user)


def scope_of(conn: Connection) -> Scope | None:
    """The scope of this connection (None: every unit)."""
    scope = conn.get_execution_options().get(SCOPE_OPTION)
    return scope if isinstance(scope, Scope) else None


def unit_of(app: App) -> Scope | None:
    scope = app.db.scope
    return scope if isinstance(scope, Scope) else None


def condition(conn: Connection, column: Any = Case.unit) -> ColumnElement[bool] | None:
    """A WHERE clause limiting ``column`` (a case's unit) to the scope, or None."""
    scope = scope_of(conn)
    if scope is None:
        return None
    if scope.unit is None:
        return column.is_(None)
    return column == scope.unit


def limit(conn: Connection, stmt: Any, column: Any = Case.unit) -> Any:
    """``stmt`` restricted to the scope's cases (``column`` must be in its FROM)."""
    clause = condition(conn, column)
    return stmt if clause is None else stmt.where(clause)


def case_ids(conn: Connection) -> Any:
    """A subquery of the visible case ids, or None when every case is visible."""
    from sqlalchemy import select

    clause = condition(conn)
    return None if clause is None else select(Case.id).where(clause)


def case_visible(conn: Connection, case_id: int) -> bool:
    """Whether the case with this id is one the connection's person sees."""
    from sqlalchemy import select

    if scope_of(conn) is None:
        return True
    unit = conn.execute(select(Case.unit).where(Case.id == case_id)).first()
    return unit is not None and sees(conn, unit[0])


def sees(conn: Connection, case_unit: str | None) -> bool:
    scope = scope_of(conn)
    return scope is None or scope.unit == case_unit


def limit_to_cases(conn: Connection, stmt: Any, case_id_column: Any) -> Any:
    """``stmt`` restricted to rows whose ``case_id_column`` is a visible case."""
    ids = case_ids(conn)
    return stmt if ids is None else stmt.where(case_id_column.in_(ids))
