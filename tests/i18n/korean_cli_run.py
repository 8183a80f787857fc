"""Run by tests/i18n/test_cli_help_korean.py in a fresh process (the language is chosen
before the verbs load, as ``haechi`` does): ``help`` prints every command's ``--help`` as
JSON ``{"case create": "...", ...}``; ``run HOME ARGS_JSON`` runs several command lines
with ``haechi.cli.main.main`` and prints ``[[exit code, stdout, stderr], ...]``."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any


def _walk(command: Any, path: list[str], found: list[list[str]]) -> None:
    found.append(path)
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            _walk(sub, [*path, name], found)


def _run(args: list[str]) -> tuple[int, str, str]:
    from haechi.cli import main as cli

    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            cli.main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, stdout.getvalue(), stderr.getvalue()


def main() -> None:
    import typer.main

    from haechi.cli import main as cli

    what = sys.argv[1]
    if what == "help":
        lang = sys.argv[2]
        cli.set_lang(lang)
        cli._localise()
        cli._register()
        paths: list[list[str]] = []
        command = typer.main.get_command(cli.app)  # built once: 200 pages in seconds
        _walk(command, [], paths)
        pages = {}
        for path in paths:
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.suppress(SystemExit):
                command.main(args=[*path, "--help"], prog_name="haechi")
            pages[" ".join(path)] = stdout.getvalue()
        print(json.dumps(pages, ensure_ascii=False))
    else:
        runs = json.loads(sys.argv[2])
        print(json.dumps([_run(args) for args in runs], ensure_ascii=False))


if __name__ == "__main__":
    main()
