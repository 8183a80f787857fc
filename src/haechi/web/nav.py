"""The navigation bar, gathered from the view modules' ``NAV`` entries."""

from __future__ import annotations

from dataclasses import dataclass

from haechi.auth.roles import Perm, can


@dataclass(frozen=True)
class NavItem:
    order: int
    key: str  # message catalogue key of the label
    path: str
    perm: Perm


_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    if all(i.path != item.path for i in _ITEMS):
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: (i.order, i.path))


def nav_for(role: str) -> list[NavItem]:
    return [i for i in _ITEMS if can(role, i.perm)]
