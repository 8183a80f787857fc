"""Every action of the command line has its page (docs/web.md, "Command line and
browser"): each CLI command has a row there, and every page and API route a row names is
a route of the application, guarded by one of the row's permissions. A new command
without a row, or a renamed route, fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from tests.test_docs import _commands

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.web.app import api_routes, create_app
from haechi.web.auth import permission_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web.md"
ON_PURPOSE = ("command line only:", "missing")  # a row with no page: why
ROUTE = re.compile(r"`(?:(GET|POST) )?(/[^`\s]*)`")
# Guarded by `self`: the job kind's own permission is checked inside (haechi.jobs.kinds).
KIND_CHECKED = {("POST", "/api/jobs")}


def _table() -> str:
    parts = DOCS.read_text(encoding="utf-8").split("<!-- parity -->")
    assert len(parts) == 3, "docs/web.md has no parity table between two <!-- parity --> marks"
    return parts[1]


def _rows() -> list[list[str]]:
    rows = []
    for line in _table().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `haechi"):
            assert len(cells) == 4, line
            rows.append(cells)
    return rows


def _shape(path: str) -> str:
    """A path with its parameters blanked: ``/cases/<ref>`` and ``/cases/{case}`` agree."""
    path = path.split("?")[0].split("#")[0]
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def _named(cells: list[str]) -> Iterator[tuple[str, str]]:
    """(method, path) of every page and API route a row names."""
    for cell in cells[1:3]:
        for method, path in ROUTE.findall(cell):
            yield method or "GET", path


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], APIRoute]]:
    from haechi.app import init_home

    app: App = init_home(tmp_path_factory.mktemp("parity") / "home")
    try:
        found = {}
        for route in api_routes(create_app(app)):
            for method in route.methods or ():
                found[(method, _shape(route.path))] = route
        yield found
    finally:
        app.close()


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_a_row(command: str) -> None:
    named = {
        name.strip()
        for row in _rows()
        for name in re.findall(r"`haechi ([^`]+)`", row[0])  # a row may name several
    }
    assert command in named, (
        f"`haechi {command}` has no row in docs/web.md's 'Command line and browser': name "
        "its page and API route, or say why it stays on the command line"
    )


def test_every_page_and_route_named_exists(routes: dict[tuple[str, str], APIRoute]) -> None:
    problems = []
    for row in _rows():
        page, perms = row[1], set(re.findall(r"`([a-z_.]+)`", row[3]))
        named = list(_named(row))
        if page.startswith(ON_PURPOSE):
            if row[2] != "—" or row[3] != "—":
                problems.append((row[0], "a row without a page names no API route or permission"))
            problems += [(row[0], f"{m} {p}: no such route") for m, p in named
                         if (m, _shape(p)) not in routes]  # fmt: skip
            continue
        if not named:
            problems.append((row[0], "names no page"))
        unknown = perms - {p.value for p in Perm}
        if unknown or not perms:
            problems.append((row[0], f"permissions {sorted(unknown) or 'missing'}"))
        for method, path in named:
            route = routes.get((method, _shape(path)))
            if route is None:
                problems.append((row[0], f"{method} {path}: no such route"))
            elif (method, path) in KIND_CHECKED:
                continue
            elif (perm := permission_of(route)) is None or perm.value not in perms:
                problems.append((row[0], f"{method} {path} asks {perm}, not in {sorted(perms)}"))
    assert not problems, problems
