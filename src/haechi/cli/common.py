"""What several verbs share: a data directory opened for one command and closed after it,
``--json`` output, the case argument (case, notice, package, stats, review, exchange)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer

from haechi.app import App, open_app
from haechi.i18n import _

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))]
CaseArg = Annotated[str, typer.Argument(help=_("Case number or reference."))]


@contextmanager
def opened(home: Any) -> Iterator[App]:
    app = open_app(home)
    try:
        yield app
    finally:
        app.close()


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def with_app(home: Any, fn: Callable[[App], T]) -> T:
    """``fn`` run with the data directory open, closed after it whatever happens."""
    with opened(home) as app:
        return fn(app)
