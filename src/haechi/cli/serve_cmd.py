"""``haechi serve``: the web application and the REST API."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import App, open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

ORDER = 76
# uvicorn[standard]: the C HTTP parser and the libuv event loop; no access log (every
# request line is a synchronous write to the console, and the audit trail records what
# matters).
# proxy_headers off: uvicorn would otherwise take the client's address from
# X-Forwarded-For whenever the peer is 127.0.0.1, so anything on the host (or a client
# through a proxy that appends) could choose the address the login limits and the audit
# trail see. Trusted proxies are haechi's own setting (web.auth.client_ip).
FAST = {"http": "httptools", "loop": "uvloop", "access_log": False, "proxy_headers": False}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare(app: App) -> None:
    """Bring the search index and chat counts up to date before the first request."""
    from haechi.services import search_index

    added = search_index.catch_up(app)
    chats = search_index.refresh_chat_stats(app)
    if added:
        said = _("search index: {added} messages indexed; {chats} chats").format(
            added=f"{added:,}", chats=f"{chats:,}"
        )
        out.print(said, highlight=False)


def metrics_dir(app: App) -> None:
    """Where the server processes keep their request counts for /metrics (each process
    writes its own file; any of them reports the sum), emptied at each start."""
    from haechi.web.monitoring import MULTIPROC_ENV

    folder = app.settings.home / "run" / "metrics"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def serve(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port to listen on."))] = 8470,
    workers: Annotated[int, typer.Option(min=1, max=32, help=_("Worker processes."))] = 1,
    ssl_certfile: Annotated[Path | None, typer.Option(help=_("TLS certificate (PEM)."))] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help=_("TLS private key (PEM)."))] = None,
    allow_http: Annotated[
        bool,
        typer.Option(
            help=_("Serve plain HTTP on a non-loopback address (only behind a TLS reverse proxy).")
        ),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help=_(
                "A reverse proxy (address or network) whose X-Forwarded-For is believed; "
                "repeatable (also \\[proxy] trusted in web.toml)."
            ),
        ),
    ] = None,
    jobs: Annotated[
        bool,
        typer.Option(
            "--jobs/--no-jobs",
            help=_("Run background jobs in the server processes (or in `haechi jobs run`)."),
        ),
    ] = True,
    cookie_secure: Annotated[
        bool | None,
        typer.Option(
            "--cookie-secure/--no-cookie-secure",
            help=_("Force the Secure cookie flag (default: when the request is HTTPS)."),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the investigators' web application (pages and /api) until Ctrl-C."""
    import uvicorn

    from haechi.web.asgi import ENV, settings_to_env
    from haechi.web.settings import load_web_settings, parse_proxies

    tls = ssl_certfile is not None and ssl_keyfile is not None
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise UsageError(_("Give both --ssl-certfile and --ssl-keyfile, or neither."))
    if not _loopback(host) and not tls and not allow_http:
        raise UsageError(
            _(
                "Refusing to serve plain HTTP on {host}: give --ssl-certfile/--ssl-keyfile, or "
                "--allow-http when a TLS reverse proxy is in front."
            ).format(host=host)
        )
    app = open_app(home)
    proxies = parse_proxies(trusted_proxy, "--trusted-proxy") if trusted_proxy else None
    settings = load_web_settings(
        app.settings.home, host=host, port=port, cookie_secure=True if tls else cookie_secure,
        trusted_proxies=proxies, run_jobs=jobs, workers=workers,
    )  # fmt: skip
    prepare(app)
    metrics_dir(app)
    scheme = "https" if tls else "http"
    said = _("haechi web: {url}  (Ctrl-C to stop)").format(url=f"{scheme}://{host}:{port}/")
    out.print(said, highlight=False)
    ssl = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)} if tls else {}
    try:
        if workers == 1:
            from haechi.web.app import create_app

            uvicorn.run(
                create_app(app, settings), host=host, port=port, log_level="warning",
                server_header=False, **FAST, **ssl,  # type: ignore[arg-type]
            )  # fmt: skip
        else:
            os.environ[ENV] = settings_to_env(settings)
            os.environ["HAECHI_HOME"] = str(app.settings.home)
            app.close()
            uvicorn.run(
                "haechi.web.asgi:create_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", server_header=False, **FAST, **ssl,  # type: ignore[arg-type]
            )  # fmt: skip
    finally:
        app.close()
        err.print(_("haechi web stopped."))


def register(app: typer.Typer) -> None:
    app.command(
        "serve", help=_("Serve the investigators' web application (pages and /api) until Ctrl-C.")
    )(serve)
