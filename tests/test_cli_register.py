"""``_register`` is idempotent: a second call (``main`` twice in one process) leaves one of
each verb and sub-app, the verbs' help in the language chosen last."""

from __future__ import annotations

from collections import Counter
from typing import Any

import typer.main

from haechi.cli import main as cli
from haechi.i18n import current, set_lang


def _verbs() -> list[str]:
    found: list[str] = []

    def walk(cmd: Any, prefix: str) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}")
        else:
            found.append(prefix.strip())

    walk(typer.main.get_command(cli.app), "")
    return found


def _registrations(group: typer.Typer) -> Counter[str]:
    """Every verb and sub-app registered under ``group``, counted (a twice-added one: 2)."""
    seen: Counter[str] = Counter()
    for command in group.registered_commands:
        seen[f"verb {command.name or command.callback.__name__}"] += 1  # type: ignore[union-attr]
    for info in group.registered_groups:
        seen[f"group {info.name} {id(info.typer_instance)}"] += 1
        if info.typer_instance is not None:
            seen.update(f"{info.name}/{key}" for key in _registrations(info.typer_instance))
    return seen


def test_registering_twice_registers_once() -> None:
    cli._register()
    once, tree = _registrations(cli.app), _verbs()
    assert max(once.values()) == 1, [k for k, n in once.items() if n > 1]
    assert len(tree) == len(set(tree)) and "case create" in tree and "user add" in tree
    cli._register()
    cli._register()
    assert _registrations(cli.app) == once
    assert _verbs() == tree
    case_parts = next(g for g in cli.app.registered_groups if g.name == "case").typer_instance
    assert case_parts is not None and len(case_parts.registered_groups) == 3


def test_registering_again_puts_the_help_in_the_language_chosen() -> None:
    before = current()
    try:
        set_lang("en")
        cli._register()
        english = {c.name: c.help for c in cli.app.registered_commands}
        set_lang("ko")
        cli._register()
        korean = {c.name: c.help for c in cli.app.registered_commands}
    finally:
        set_lang(before)
        cli._register()
    assert english.keys() == korean.keys() and len(korean) == len(cli.app.registered_commands)
    assert english["verify"].startswith("Re-hash every vault file")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean["verify"]), korean["verify"]
