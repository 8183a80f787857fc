"""The navigation bar in groups: each role sees a few entries (links and <details> menus,
which work without script), only items whose page it may open, and the current page's item
and menu highlighted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role, can
from haechi.web import i18n, nav


@pytest.fixture
def staffed_web(staffed: App) -> Iterator[TestClient]:
    with client_of(staffed) as client:
        yield client


def _bar(html: str) -> str:
    found = re.findall(r'<nav class="main-nav">(.*?)</nav>', html, re.S)
    assert len(found) == 1
    return found[0]


def _top_level(bar: str) -> list[str]:
    """The bar's entries: a menu's title, or a link's path."""
    entries = []
    for menu, link in re.findall(
        r'<details class="nav-menu"[^>]*>\s*<summary[^>]*>([^<]+)</summary>.*?</details>'
        r'|<li><a href="([^"]+)"',
        bar,
        re.S,
    ):
        entries.append(menu or link)
    return entries


def test_every_item_has_its_group_and_every_group_its_labels(staffed_web: TestClient) -> None:
    paths = {item.path for item in nav.registered()}
    assert len(paths) >= 20
    grouped = {p for g in nav.GROUPS for p in g.paths}
    assert paths <= grouped | set(nav.OWN), paths - grouped - set(nav.OWN)
    for group in nav.GROUPS:
        for lang in i18n.LANGUAGES:
            assert group.key in i18n.catalogue(lang), (group.key, lang)


@pytest.mark.parametrize("role", list(Role))
def test_a_few_entries_each_openable_by_the_role(staffed_web: TestClient, role: Role) -> None:
    log_in(staffed_web, ROLE_USERS[role])
    entries = nav.menu_for(role.value, "/")
    assert 1 <= len(entries) <= nav.MOST_ENTRIES, [e.items for e in entries]
    shown = [item for entry in entries for item in entry.items]
    assert {i.path for i in shown} == {i.path for i in nav.nav_for(role.value)}
    for item in shown:
        assert can(role, item.perm), (role, item.path)
        page = staffed_web.get(item.path, follow_redirects=True)
        assert page.status_code == 200, (role, item.path, page.status_code)
    # The page itself: as many entries as the menu, each menu a <details> of two or more.
    bar = _bar(staffed_web.get("/me").text)
    assert len(_top_level(bar)) == len(entries) <= nav.MOST_ENTRIES
    for entry in entries:
        assert (entry.group is None) == (len(entry.items) == 1)


def test_the_current_pages_item_and_menu_are_highlighted(staffed_web: TestClient) -> None:
    log_in(staffed_web, ROLE_USERS[Role.INVESTIGATOR])
    staffed_web.cookies.set(i18n.COOKIE, "ko")
    bar = _bar(staffed_web.get("/media").text)
    assert re.findall(r'<summary class="active" aria-current="true">([^<]+)</summary>', bar) == [
        "자료"
    ]
    assert re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', bar) == ["/media"]
    archive = re.search(r'<details class="nav-menu" id="nav-archive">(.*?)</details>', bar, re.S)
    assert archive and 'href="/chats"' in archive.group(1) and "대화방" in archive.group(1)
    # No menu is rendered open: a page's content is never covered on arrival.
    assert "<details open" not in bar and " open>" not in bar
    # On a link of its own (the dashboard), no menu is marked.
    home = _bar(staffed_web.get("/").text)
    assert 'class="active" aria-current="true"' not in home
    assert re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', home) == ["/"]


def test_the_investigators_bar_in_english(staffed_web: TestClient) -> None:
    log_in(staffed_web, ROLE_USERS[Role.INVESTIGATOR])
    staffed_web.cookies.set(i18n.COOKIE, "en")
    entries = _top_level(_bar(staffed_web.get("/cases").text))
    assert entries == [
        "/", "Archive", "Collection", "Analysis", "Casework", "/custody", "/me"
    ]  # fmt: skip


def test_an_auditor_with_three_items_sees_links_only(staffed_web: TestClient) -> None:
    entries = nav.menu_for(Role.AUDITOR.value, "/custody")
    assert len(entries) == 3 and [e.group for e in entries] == [None] * 3
    assert [e.active for e in entries if e.active] == ["/custody"]


def _pages(client: TestClient) -> list[tuple[str, str]]:
    """Every page a person reads (GET, not the API, not a file download), with its
    permission."""
    from haechi.web.app import api_routes
    from haechi.web.auth import PUBLIC, permission_of

    found = []
    for route in api_routes(client.app):  # type: ignore[arg-type]
        path = route.path
        if "GET" not in route.methods or path.startswith("/api") or path in PUBLIC:
            continue
        if re.search(r"\.[a-z{}]+$|/result$|/original$", path):  # a file, not a page
            continue
        perm = permission_of(route)
        assert perm is not None, path
        found.append((path, perm))
    return found


def test_every_page_a_role_opens_highlights_an_item(staffed_web: TestClient) -> None:
    """A recurring face, a face search's candidates, a notice, the notifier, the lexicon,
    one's jobs: no page leaves the reader without the bar saying where they are."""
    pages = _pages(staffed_web)
    assert len(pages) > 40
    unmarked = []
    for role in Role:
        items = nav.nav_for(role.value)
        for path, perm in pages:
            if not can(role, perm) or (path == "/" and nav.home_for(role.value) != "/"):
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            if nav.active(concrete, items) is None:
                unmarked.append((role.value, path))
    assert not unmarked, unmarked


@pytest.mark.parametrize(
    ("path", "item"),
    [("/face-clusters", "/subjects"), ("/face-clusters/7", "/subjects"),
     ("/face-searches/3", "/subjects"), ("/notices/2", "/cases"), ("/notifier", "/cases"),
     ("/lexicon", "/rooms"), ("/jobs/5", "/me")],
)  # fmt: skip
def test_pages_without_an_item_of_their_own_belong_to_one(
    staffed_web: TestClient, path: str, item: str
) -> None:
    role = Role.INVESTIGATOR.value
    assert nav.active(path, nav.nav_for(role)) == item


def test_the_recurring_faces_page_highlights_subjects(staffed_web: TestClient) -> None:
    log_in(staffed_web, ROLE_USERS[Role.SUPPORT_WORKER])
    page = staffed_web.get("/face-clusters")
    assert page.status_code == 200
    bar = _bar(page.text)
    assert re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', bar) == [
        "/subjects"
    ]
