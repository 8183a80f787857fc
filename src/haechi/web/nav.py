"""The navigation bar, gathered from the view modules' ``NAV`` entries.

A role sees only the items it may open (no link leads to a "no permission" page), the item
of the page being read is highlighted (a message belongs to *Chats*, a verdict to *Triage*;
``/media`` is not ``/me``), and every role has a home: the first page of its daily work
(auditors: the audit trail), where logging in and the brand link lead.

Twenty pages do not fit on one line, so the items are shown in a few groups (:data:`GROUPS`,
by the work they serve: the archive, collecting, analysis, casework, oversight), each a
disclosure menu (``<details>``: opens by mouse, keyboard or touch without script). A role
sees a group only with the items it may open; a group left with one item is that item's
plain link, and a role with few items (the auditor's three) sees them all as links. The
dashboard and the account page stay links of their own. An item no group names (a new page)
is a link of its own, and a test asks that every item has its group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from haechi.auth.roles import Perm, Role, can


@dataclass(frozen=True)
class NavItem:
    order: int
    key: str  # message catalogue key of the label
    path: str
    perm: Perm
    also: tuple[str, ...] = ()  # other paths whose pages belong to this item

    def match(self, path: str) -> int:
        """How well ``path`` belongs to this item: the length of the longest of its paths
        that is ``path`` itself or a whole-segment prefix of it; -1 when none is."""
        best = -1
        for own in (self.path, *self.also):
            if path == own:
                best = max(best, len(own) + 1)
            elif own != "/" and path.startswith(own.rstrip("/") + "/"):
                best = max(best, len(own))
        return best


@dataclass(frozen=True)
class NavGroup:
    name: str  # the menu's id (``nav-<name>``) and catalogue key (``nav.group.<name>``)
    paths: tuple[str, ...]  # its items' paths, in the order the menu lists them

    @property
    def key(self) -> str:
        return f"nav.group.{self.name}"


GROUPS: tuple[NavGroup, ...] = (
    NavGroup("archive", ("/chats", "/sources", "/search", "/media", "/tags")),
    NavGroup("collect", ("/watch", "/capture")),
    NavGroup("analysis", ("/matches", "/exchange", "/triage", "/graph", "/rooms")),
    NavGroup("casework", ("/cases", "/subjects", "/stats")),
    NavGroup("oversight", ("/audit", "/custody", "/admin/users")),
)
# Links of their own, never in a group, and their places: the first and the last of the bar
# (the menus are 1 to len(GROUPS), an item no group names comes after them).
OWN = {"/": 0, "/me": len(GROUPS) + 2}
# A role with at most this many items sees them as links, without menus.
FLAT_UP_TO = 6
# The most entries (links and menus) a role's bar may have (a test checks every role).
MOST_ENTRIES = 8


@dataclass(frozen=True)
class NavEntry:
    """One entry of the bar: a link (``group`` None, one item) or a menu of items."""

    items: tuple[NavItem, ...]
    group: NavGroup | None = None
    active: str | None = None  # the path of the highlighted item in it

    @property
    def is_menu(self) -> bool:
        return self.group is not None

    @property
    def item(self) -> NavItem:
        return self.items[0]


_ITEMS: list[NavItem] = []
# Pages with no item of their own, under the item whose work they are part of (highlighted
# there): a face search's candidates and the recurring faces are the subjects' work, a
# notice and the notifier's settings the cases', the lexicon is linked from the rooms, and
# one's background jobs sit with one's account. A test asks that every page a role may open
# highlights an item of its bar.
BELONGS = {
    "/subjects": ("/face-searches", "/face-clusters"),
    "/cases": ("/notices", "/notifier"),
    "/rooms": ("/lexicon",),
    "/me": ("/jobs",),
}
# Where a role lands (after logging in, on the brand link) when its home is not the first
# item it sees: auditors read trails, never the archive.
HOMES = {Role.AUDITOR.value: "/audit"}


def register(item: NavItem) -> None:
    if all(i.path != item.path for i in _ITEMS):
        extra = tuple(p for p in BELONGS.get(item.path, ()) if p not in item.also)
        item = replace(item, also=item.also + extra) if extra else item
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: (i.order, i.path))


def registered() -> list[NavItem]:
    return list(_ITEMS)


def nav_for(role: str) -> list[NavItem]:
    return [i for i in _ITEMS if can(role, i.perm)]


def group_of(path: str) -> NavGroup | None:
    return next((g for g in GROUPS if path in g.paths), None)


def active(path: str, items: list[NavItem]) -> str | None:
    """The path of the item to highlight on ``path`` (the best match), if any."""
    scored = [(i.match(path), i.path) for i in items]
    best = max(scored, default=(-1, None))
    return best[1] if best[0] >= 0 else None


def menu_for(role: str, path: str) -> list[NavEntry]:
    """A role's bar on the page ``path``: the dashboard, the menus in the order of
    :data:`GROUPS`, any item no group names, the account page; the current page's item
    (and so its menu) marked ``active``."""
    items = nav_for(role)
    here = active(path, items)
    if len(items) <= FLAT_UP_TO:
        return [NavEntry((i,), active=_if(here, i)) for i in items]
    ranked: list[tuple[tuple[int, int], NavEntry]] = []
    members: dict[int, list[NavItem]] = {}
    for item in items:
        group = None if item.path in OWN else group_of(item.path)
        if group is not None:
            members.setdefault(GROUPS.index(group), []).append(item)
            continue
        rank = OWN.get(item.path, len(GROUPS) + 1)  # an item of no group: before /me
        ranked.append(((rank, item.order), NavEntry((item,), active=_if(here, item))))
    for index, found in members.items():
        group = GROUPS[index]
        found.sort(key=lambda i: group.paths.index(i.path))
        mark = here if any(i.path == here for i in found) else None
        entry = NavEntry(tuple(found), group if len(found) > 1 else None, mark)
        ranked.append(((index + 1, 0), entry))
    return [entry for _rank, entry in sorted(ranked, key=lambda r: r[0])]


def _if(here: str | None, item: NavItem) -> str | None:
    return here if item.path == here else None


def home_for(role: str) -> str:
    """The page a role starts on: its own home, else the first page it may open."""
    if role in HOMES:
        return HOMES[role]
    items = nav_for(role)
    return items[0].path if items else "/me"
