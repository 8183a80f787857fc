"""The web application on the demo data: a login for every role (each lands on its own
home page), then (with ``--serve``, as ``make demo`` does) the app itself until Ctrl-C."""

from __future__ import annotations

import contextlib
import secrets

from haechi.demo.steps import DemoContext

ORDER = 95
TITLE = "web"
HOST, PORT = "127.0.0.1", 8470
# One account per role, so every role's pages can be tried (haechi.auth.roles.Role).
LOGINS = (
    ("demo", "investigator", "Demo investigator"),
    ("demo-counsellor", "support_worker", "Demo counsellor"),
    ("demo-reviewer", "reviewer", "Demo reviewer"),
    ("demo-admin", "admin", "Demo administrator"),
    ("demo-auditor", "auditor", "Demo auditor"),
)
ROLES = {username: role for username, role, _name in LOGINS}


def _password() -> str:
    # Four random words' worth of entropy, easy to type from the terminal.
    return "-".join(secrets.token_hex(3) for _ in range(4))


def make_logins(ctx: DemoContext) -> dict[str, str]:
    """Create (or reset) the demo accounts; returns {user name: password}."""
    from haechi.auth import accounts
    from haechi.auth.errors import NotFound
    from haechi.auth.types import cli_actor

    # The demo step itself acts (not one of the demo accounts: no one resets their own).
    actor = cli_actor("haechi-demo")
    made = {}
    for username, role, name in LOGINS:
        password = _password()
        try:
            accounts.find_user(ctx.app, username)
        except NotFound:
            accounts.add_user(
                ctx.app, username, password, role, display_name=name, actor=actor,
                reason="demo account",
            )  # fmt: skip
        else:
            # A demo run again: a temporary password from the command line, which the
            # demo user then replaces with their own, as a person would at first login.
            temporary = _password()
            user, _code = accounts.reset_password(
                ctx.app, username, temporary, actor=actor, reason="demo account"
            )
            accounts.set_disabled(ctx.app, username, False, actor=actor)
            as_user = cli_actor(username)
            accounts.change_own_password(ctx.app, user.id, temporary, password, actor=as_user)
        made[username] = password
    return made


def run(ctx: DemoContext) -> None:
    from haechi.cli.serve_cmd import prepare

    logins = make_logins(ctx)
    prepare(ctx.app)
    ctx.facts["web_logins"] = logins
    url = f"http://{HOST}:{PORT}/"
    for username, password in logins.items():
        role = ROLES[username]
        ctx.out.print(f"login ({role}): [bold]{username}[/] / [bold]{password}[/]", highlight=False)
    if not ctx.serve:
        ctx.out.print(f"Serve it with: haechi serve --home {ctx.home}   (then open {url})")
        return
    import uvicorn

    from haechi.cli.serve_cmd import FAST
    from haechi.web.app import create_app
    from haechi.web.settings import load_web_settings

    settings = load_web_settings(ctx.app.settings.home, host=HOST, port=PORT)
    ctx.out.print(f"[bold green]serving the demo at {url}[/] — Ctrl-C to stop", highlight=False)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            create_app(ctx.app, settings), host=HOST, port=PORT, log_level="warning",
            server_header=False, **FAST,  # type: ignore[arg-type]
        )  # fmt: skip
    ctx.out.print("web app stopped.")
