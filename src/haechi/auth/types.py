"""Domain objects of accounts and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str | None
    role: str
    disabled: bool
    locked_until: int | None
    failed_logins: int
    created_at: int
    last_login_at: int | None
    must_change_password: bool = False
    unit: str | None = None  # the unit they work in (None: the default, unnamed unit)
    all_units: bool = False  # may see every unit's cases (haechi.cases.visibility)

    @property
    def label(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit trail and the custody log."""

    user_id: int | None
    username: str
    role: str | None
    via: str = "web"  # web / api / cli
    ip: str | None = None

    @property
    def custody_name(self) -> str:
        return f"{self.username} ({self.via})"


def cli_actor(operator: str) -> Actor:
    return Actor(None, operator, None, via="cli")
