"""The navigation bar, gathered from the view modules' ``NAV`` entries.

A role sees only the items it may open (no link leads to a "no permission" page), the item
of the page being read is highlighted (a message belongs to *Chats*, a verdict to *Triage*;
``/media`` is not ``/me``), and every role has a home: the first page of its daily work
(auditors: the audit trail), where logging in and the brand link lead.
"""

from __future__ import annotations

from dataclasses import dataclass

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


_ITEMS: list[NavItem] = []
# Where a role lands (after logging in, on the brand link) when its home is not the first
# item it sees: auditors read trails, never the archive.
HOMES = {Role.AUDITOR.value: "/audit"}


def register(item: NavItem) -> None:
    if all(i.path != item.path for i in _ITEMS):
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: (i.order, i.path))


def nav_for(role: str) -> list[NavItem]:
    return [i for i in _ITEMS if can(role, i.perm)]


def active(path: str, items: list[NavItem]) -> str | None:
    """The path of the item to highlight on ``path`` (the best match), if any."""
    scored = [(i.match(path), i.path) for i in items]
    best = max(scored, default=(-1, None))
    return best[1] if best[0] >= 0 else None


def home_for(role: str) -> str:
    """The page a role starts on: its own home, else the first page it may open."""
    if role in HOMES:
        return HOMES[role]
    items = nav_for(role)
    return items[0].path if items else "/me"
