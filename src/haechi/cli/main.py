"""The ``haechi`` command: a thin Typer shell over the services in ``haechi.run``.

Every failure a user can cause (bad path, not an export, damaged JSON, read-only or full
disk) ends as one sentence on stderr and a non-zero exit code, never a traceback. Anything
else (a bug, a damaged database) ends the same way: one sentence saying where the details
were written (``logs/`` in the data directory), or the traceback itself with ``--debug``.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from haechi import __version__
from haechi.cli.console import err
from haechi.domain import HaechiError
from haechi.i18n import N_, _, current, localize, set_lang

EX_SOFTWARE = 70  # sysexits.h: an internal error
_DEBUG = {"on": False}  # set by --debug (the root callback runs inside app())

_APP_HELP = N_("Preserve, verify and analyse Telegram evidence (deepfake sexual-abuse material).")
_LATE: list[tuple[Any, str]] = []  # help defined before the language is known: (info, English)


def _later(info: Any) -> Any:
    """An option of this module, whose help is translated when the command runs (this module
    loads before ``--lang`` is read; the verbs load after, and translate as they load)."""
    _LATE.append((info, info.help))
    return info


app = typer.Typer(
    name="haechi",
    help=_APP_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # our errors are sentences, not tracebacks
    add_completion=False,
)

HomeOption = Annotated[
    Path | None,
    _later(
        typer.Option(
            "--home",
            envvar="HAECHI_HOME",
            help=N_("Data directory (default: $HAECHI_HOME or ~/.haechi)."),
            show_default=False,
        )
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"haechi {__version__}")
        raise typer.Exit()


# The root options, made here (annotations are read late: __future__.annotations).
_VERSION_OPT = _later(
    typer.Option("--version", callback=_version, is_eager=True, help=N_("Show version."))
)
_DEBUG_OPT = _later(
    typer.Option(
        "--debug", envvar="HAECHI_DEBUG", help=N_("Show the traceback of an unexpected error.")
    )
)
_LANG_OPT = _later(
    typer.Option(
        "--lang",
        help=N_("Language of messages: en or ko (default: $HAECHI_LANG, else the locale)."),
        show_default=False,
    )
)
_OPERATOR_OPT = _later(
    typer.Option(
        "--operator",
        help=N_(
            "The person operating (recorded in custody events and reports; required "
            "where \\[custody] operators lists several people). Also HAECHI_OPERATOR."
        ),
        show_default=False,
    )
)


@app.callback()
def _root(
    version: Annotated[bool, _VERSION_OPT] = False,
    debug: Annotated[bool, _DEBUG_OPT] = False,
    lang: Annotated[str | None, _LANG_OPT] = None,
    operator: Annotated[str | None, _OPERATOR_OPT] = None,
) -> None:
    """haechi (해치): the guardian of justice."""
    _DEBUG["on"] = debug
    if operator is not None:
        name = " ".join(operator.split())
        if not name:
            raise typer.BadParameter(_("name the person operating"), param_hint="--operator")
        # Settings are resolved per command from the environment (haechi.config).
        os.environ["HAECHI_OPERATOR"] = name
    if lang is not None:
        set_lang(lang)


def _localise() -> None:
    """Put this module's help, and the words Typer adds to every help page, in the chosen
    language (the verbs' own help is translated as their modules load, in ``_register``)."""
    import typer.rich_utils as rich_utils
    from typer._click.core import Command

    for info, message in _LATE:
        info.help = _(message)
    app.info.help = _(_APP_HELP)
    rich_utils.ARGUMENTS_PANEL_TITLE = _("Arguments")
    rich_utils.OPTIONS_PANEL_TITLE = _("Options")
    rich_utils.COMMANDS_PANEL_TITLE = _("Commands")
    rich_utils.ERRORS_PANEL_TITLE = _("Error")
    rich_utils.ABORTED_TEXT = _("Aborted.")
    rich_utils.DEFAULT_STRING = _("[default: {}]")
    rich_utils.ENVVAR_STRING = _("[env var: {}]")
    rich_utils.REQUIRED_LONG_STRING = _("[required]")
    rich_utils.RICH_HELP = _("Try [blue]'{command_path} {help_option}'[/] for help.")
    if not hasattr(Command, "_haechi_help_option"):
        plain = Command.get_help_option

        def get_help_option(self: Any, ctx: Any) -> Any:
            option = plain(self, ctx)
            if option is not None:
                option.help = _("Show this message and exit.")
            return option

        Command._haechi_help_option = plain  # type: ignore[attr-defined]
        Command.get_help_option = get_help_option  # type: ignore[method-assign]


# What this module registers itself (the callback, no verb): where ``_register`` starts from.
_OWN = (len(app.registered_commands), len(app.registered_groups))


def _register() -> None:
    """Every ``haechi/cli/*_cmd.py`` module registers its verbs (found with pkgutil, so a
    new capability adds a module and never edits a shared list). ``ORDER`` sorts ``--help``.

    Idempotent: called again (``main`` run twice in one process, a test), the verbs are
    registered anew, in the language now chosen, in place of the earlier ones, and a sub-app
    a module adds to its own group (``case``'s items, people and record) is there once."""
    import importlib
    import pkgutil

    import haechi.cli as package

    modules = [
        importlib.import_module(f"haechi.cli.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
        if m.name.endswith("_cmd")
    ]
    del app.registered_commands[_OWN[0] :]
    del app.registered_groups[_OWN[1] :]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)
    _once(app, set())


def _once(group: typer.Typer, seen: set[int]) -> None:
    """Drop a sub-app or verb added to ``group`` (and the groups under it) a second time."""
    if id(group) in seen:
        return
    seen.add(id(group))
    subs: dict[tuple[int, str | None], Any] = {}
    for info in group.registered_groups:
        subs.setdefault((id(info.typer_instance), info.name), info)
    group.registered_groups[:] = list(subs.values())
    verbs: dict[tuple[str | None, int], Any] = {}
    for command in group.registered_commands:
        verbs.setdefault((command.name, id(command.callback)), command)
    group.registered_commands[:] = list(verbs.values())
    for info in group.registered_groups:
        if info.typer_instance is not None:
            _once(info.typer_instance, seen)


def _os_error_sentence(exc: OSError) -> str:
    name = exc.filename or _("a file")
    if exc.errno == errno.ENOSPC:
        return _("The disk is full: free space and run the command again; nothing was lost.")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return _("Permission denied or read-only file system: {name}.").format(name=name)
    if exc.errno == errno.ENOENT:
        return _("No such file or directory: {name}.").format(name=name)
    return f"{exc.strerror or exc} ({name})."


def _lang_from(argv: list[str]) -> str | None:
    """The ``--lang`` the command was given (read before the verbs load, so that their
    messages and help are in that language too)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _home_from(argv: list[str]) -> Path:
    """The data directory the command was given (``--home``), else the default one."""
    for i, arg in enumerate(argv):
        if arg == "--home" and i + 1 < len(argv):
            return Path(argv[i + 1]).expanduser()
        if arg.startswith("--home="):
            return Path(arg.split("=", 1)[1]).expanduser()
    from haechi.config import default_home

    return default_home()


def _crash_log(exc: BaseException, argv: list[str]) -> str:
    """Write the traceback where the user can find it; return where (or why not).

    In the data directory's ``logs/`` when there is one, since a traceback may quote
    evidence; else a private temporary file. The command line is kept with any password in
    a database URL masked."""
    command = re.sub(r"://[^/@\s]*@", "://***@", " ".join(argv))
    text = (
        f"haechi {__version__}, Python {sys.version.split()[0]}, "
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n"
        f"command: haechi {command}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    name = f"error-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}.log"
    try:
        home = _home_from(argv).resolve()
        if not home.is_dir():
            raise FileNotFoundError(home)
        logs = home / "logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        path = logs / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        try:
            fd, tmp = tempfile.mkstemp(prefix="haechi-", suffix=f"-{name}")
            path = Path(tmp)
        except OSError:
            return "nowhere (no writable folder)"
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(text)
    return str(path)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    set_lang(_lang_from(args))
    _localise()
    try:
        _register()  # inside: a capability that fails to load must not print a traceback
        app(args=args, standalone_mode=True)
    except HaechiError as exc:
        label = _("error:")
        # in the CLI's language (a service's sentence marked with t_); escaped: a sentence
        # may quote a name in brackets (pip install 'haechi[exchange]')
        text = escape(localize(exc, current()))
        err.print(f"[bold red]{label}[/] {text}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        label = _("error:")
        err.print(f"[bold red]{label}[/] {_os_error_sentence(exc)}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print(_("interrupted: run the same command again to resume; nothing is lost."))
        sys.exit(130)
    except Exception as exc:  # the last resort: a bug must still end in one sentence
        if _DEBUG["on"] or "--debug" in args or os.environ.get("HAECHI_DEBUG", "") not in ("", "0"):
            raise
        where = _crash_log(exc, args)
        sentence = _(
            "an unexpected internal error stopped haechi ({error}); the details were written "
            "to {where}, and `haechi --debug ...` shows them here."
        ).format(error=type(exc).__name__, where=where)
        label = _("error:")
        err.print(f"[bold red]{label}[/] {sentence}", highlight=False, soft_wrap=True)
        sys.exit(EX_SOFTWARE)


if __name__ == "__main__":
    # the verbs import haechi.cli.main: run that module, not a second copy named __main__
    from haechi.cli.main import main as entry

    entry()
