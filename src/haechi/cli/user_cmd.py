"""``haechi user``: local accounts of the web application."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import App, open_app
from haechi.auth.types import Actor
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

ORDER = 77

user_app = typer.Typer(help=_("Manage web accounts: add, list, disable, reset-password, ..."))

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help=_("Read the password from the first line of stdin.")),
]
Reason = Annotated[
    str | None,
    typer.Option(
        help=_(
            "Why (kept in the audit trail); required for a role that reveals originals or "
            "searches victims' faces (investigator, reviewer, support_worker)."
        )
    ),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError(_("No password on standard input."))
        return line.rstrip("\r\n")
    value: str = typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    return value


def _actor(app: App) -> Actor:
    from haechi.auth.types import cli_actor

    return cli_actor(app.settings.operator)


@user_app.command(
    "add", help=_("Add an account (the password is asked for twice, or read from stdin).")
)
def add(
    username: Annotated[
        str, typer.Argument(help=_("Login name (lower-case letters, digits, . _ -)."))
    ],
    role: Annotated[
        str,
        typer.Option(help=_("admin, investigator, support_worker, reviewer or auditor.")),
    ],
    name: Annotated[str | None, typer.Option(help=_("Display name."))] = None,
    password_stdin: PasswordStdin = False,
    reason: Reason = None,
    unit: Annotated[
        str | None, typer.Option(help=_("The unit the person works in (sees its cases)."))
    ] = None,
    all_units: Annotated[
        bool, typer.Option("--all-units", help=_("Sees every unit's cases (needs --reason)."))
    ] = False,
    home: HomeOption = None,
) -> None:
    """Add an account (the password is asked for twice, or read from stdin)."""
    from haechi.auth.accounts import add_user, privileged
    from haechi.auth.roles import parse_role

    if (privileged(parse_role(role)) or all_units) and not (reason or "").strip():
        if all_units:  # asked before the password
            raise UsageError(
                _(
                    "Every unit's cases widens what the account sees: give --reason "
                    "(it is kept in the audit trail)."
                )
            )
        raise UsageError(
            _(
                "The role {role} lets the account see originals or victims' "
                "faces: give --reason (it is kept in the audit trail)."
            ).format(role=parse_role(role).value)
        )
    password = _password(password_stdin)
    app = open_app(home)
    try:
        user = add_user(
            app, username, password, role, display_name=name, actor=_actor(app),
            reason=reason, unit=unit, all_units=all_units,
        )  # fmt: skip
    finally:
        app.close()
    said = _("added {user} ({role}, {unit})").format(
        user=user.username, role=user.role, unit=_unit_label(user)
    )
    out.print(said, highlight=False)


def _unit_label(user: object) -> str:
    if getattr(user, "all_units", False):
        return _("all units")
    unit = getattr(user, "unit", None)
    return _("unit {unit}").format(unit=unit) if unit else _("default unit")


@user_app.command("unit", help=_("Move an account to a unit, or let it see every unit's cases."))
def unit_(
    username: str,
    unit: Annotated[
        str | None, typer.Argument(help=_("The unit (omit for the default, unnamed unit)."))
    ] = None,
    all_units: Annotated[
        bool, typer.Option("--all-units", help=_("Sees every unit's cases (needs --reason)."))
    ] = False,
    reason: Reason = None,
    home: HomeOption = None,
) -> None:
    """Move an account to a unit, or let it see every unit's cases."""
    from haechi.auth.units import set_unit

    app = open_app(home)
    try:
        user = set_unit(app, username, unit, all_units=all_units, actor=_actor(app), reason=reason)
    finally:
        app.close()
    out.print(f"{user.username}: {_unit_label(user)}", highlight=False)


@user_app.command("list", help=_("List accounts."))
def list_(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    """List accounts."""
    from haechi.auth.accounts import list_users

    app = open_app(home)
    try:
        users = list_users(app)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([asdict(u) for u in users], indent=2))
        return
    for u in users:
        state = _("disabled") if u.disabled else _("locked") if u.locked_until else _("active")
        out.print(
            f"{u.username:20} {u.role:15} {state:9} {_unit_label(u):20} {u.display_name or ''}",
            highlight=False,
        )


def _change(username: str, home: Path | None, what: str, **kwargs: object) -> None:
    from haechi.auth import accounts

    app = open_app(home)
    try:
        func = getattr(accounts, what)
        user = func(app, username, actor=_actor(app), **kwargs)
    finally:
        app.close()
    state = _("disabled") if user.disabled else _("active")
    out.print(f"{user.username}: {user.role}, {state}", highlight=False)


@user_app.command("disable", help=_("Disable an account (its sessions end at once)."))
def disable(username: str, home: HomeOption = None) -> None:
    """Disable an account (its sessions end at once)."""
    _change(username, home, "set_disabled", disabled=True)


@user_app.command("enable", help=_("Re-enable a disabled account."))
def enable(username: str, home: HomeOption = None) -> None:
    """Re-enable a disabled account."""
    _change(username, home, "set_disabled", disabled=False)


@user_app.command("unlock", help=_("Lift a lock-out after failed logins."))
def unlock(username: str, home: HomeOption = None) -> None:
    """Lift a lock-out after failed logins."""
    _change(username, home, "unlock")


@user_app.command("role", help=_("Change an account's role (its sessions and API tokens end)."))
def role(username: str, new_role: str, reason: Reason = None, home: HomeOption = None) -> None:
    """Change an account's role (its sessions and API tokens end)."""
    _change(username, home, "set_role", role=new_role, reason=reason)


@user_app.command(
    "reset-password",
    help=_(
        "End the account's password, sessions and API tokens. Prints "
        "a one-time code (valid 72 hours) with which the user chooses"
        " a new password at /login/reset; with --temporary, sets a "
        "password the user must change at the next login."
    ),
)
def reset_password(
    username: str,
    password_stdin: PasswordStdin = False,
    temporary: Annotated[
        bool,
        typer.Option(
            "--temporary",
            help=_(
                "Set a temporary password (asked for, or --password-stdin) that the user "
                "must change at the next login, instead of printing a one-time code."
            ),
        ),
    ] = False,
    reason: Reason = None,
    home: HomeOption = None,
) -> None:
    """End the account's password, sessions and API tokens. Prints a one-time code (valid 72
    hours) with which the user chooses a new password at /login/reset; with --temporary,
    sets a password the user must change at the next login."""
    from haechi.auth import accounts

    password = _password(password_stdin) if temporary or password_stdin else None
    app = open_app(home)
    try:
        user, code = accounts.reset_password(
            app,
            username,
            password,
            actor=_actor(app),
            reason=reason,
        )
    finally:
        app.close()
    if code is not None:
        said = _("{user}: one-time code (give it to the user in person):")
        out.print(said.format(user=user.username), highlight=False)
        typer.echo(code)
    else:
        said = _("{user}: temporary password set; it must be changed at login")
        out.print(said.format(user=user.username), highlight=False)


@user_app.command("token", help=_("Create an API token for scripts (printed once)."))
def token(
    username: str,
    name: Annotated[str, typer.Option(help=_("What the token is for."))],
    days: Annotated[int, typer.Option(help=_("Validity in days."))] = 90,
    home: HomeOption = None,
) -> None:
    """Create an API token for scripts (printed once)."""
    from haechi.auth.accounts import find_user
    from haechi.auth.sessions import create_token

    app = open_app(home)
    try:
        user = find_user(app, username)
        secret, _info = create_token(app, user, name, days=days, actor=_actor(app))
    finally:
        app.close()
    typer.echo(secret)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
