"""Reading rows with SQLAlchemy Core (as the foundation does): rows are read by column name.

``select(Model)`` on a Connection returns plain rows whose attributes are the columns
(``row.status``), not ORM objects; these helpers keep that idiom short.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select

Row = Any  # a Core row: attribute access by column name


def get(conn: Connection, model: Any, pk: Any) -> Row | None:
    """The row of ``model`` with primary key ``pk``, or None."""
    (column,) = model.__table__.primary_key.columns
    return conn.execute(select(model).where(column == pk)).first()


def all_rows(conn: Connection, stmt: Select[Any]) -> list[Row]:
    return list(conn.execute(stmt).all())
