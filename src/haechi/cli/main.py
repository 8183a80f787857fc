"""The ``haechi`` command: a thin Typer shell over the services in ``haechi.run``.

Every failure a user can cause (bad path, not an export, damaged JSON, read-only or full
disk) ends as one sentence on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated

import typer

from haechi import __version__
from haechi.cli.console import err
from haechi.domain import HaechiError

app = typer.Typer(
    name="haechi",
    help="Preserve, verify and analyse Telegram evidence (deepfake sexual-abuse material).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # our errors are sentences, not tracebacks
    add_completion=False,
)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="HAECHI_HOME",
        help="Data directory (default: $HAECHI_HOME or ~/.haechi).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"haechi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """haechi (해치): the guardian of justice."""


def _register() -> None:
    """Every ``haechi/cli/*_cmd.py`` module registers its verbs (found with pkgutil, so a
    new capability adds a module and never edits a shared list). ``ORDER`` sorts ``--help``."""
    import importlib
    import pkgutil

    import haechi.cli as package

    modules = [
        importlib.import_module(f"haechi.cli.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
        if m.name.endswith("_cmd")
    ]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)


def _os_error_sentence(exc: OSError) -> str:
    name = exc.filename or "a file"
    if exc.errno == errno.ENOSPC:
        return "The disk is full: free space and run the command again; nothing was lost."
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"Permission denied or read-only file system: {name}."
    if exc.errno == errno.ENOENT:
        return f"No such file or directory: {name}."
    return f"{exc.strerror or exc} ({name})."


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        app(args=argv, standalone_mode=True)
    except HaechiError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        err.print(f"[bold red]error:[/] {_os_error_sentence(exc)}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume; nothing is lost.")
        sys.exit(130)


if __name__ == "__main__":
    main()
