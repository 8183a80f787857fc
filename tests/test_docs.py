"""The documentation keeps up with the code (as datasette's test_docs): every command,
setting, environment variable and analyzer is described somewhere a user will look."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from haechi.analyze.registry import discover
from haechi.config import _FILE_KEYS, ENV_VARS

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
DOCS += (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    from haechi.cli.main import _register, app

    _register()
    root = typer.main.get_command(app)
    found: list[str] = []

    def walk(cmd: Any, prefix: str) -> None:
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}")
        else:
            found.append(prefix.strip())

    walk(root, "")
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented(command: str) -> None:
    pattern = r"haechi\s+" + r"\s+".join(re.escape(w) for w in command.split())
    assert re.search(pattern, DOCS), f"`haechi {command}` appears in no docs/*.md or README"


@pytest.mark.parametrize("variable", sorted(ENV_VARS))
def test_every_environment_variable_is_documented(variable: str) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"`{variable}`" in text


@pytest.mark.parametrize("setting", [f"[{s}] {k}" for s, keys in _FILE_KEYS.items() for k in keys])
def test_every_setting_is_documented(setting: str) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"`{setting}`" in text


@pytest.mark.parametrize("name", sorted(discover()))
def test_every_analyzer_is_documented(name: str) -> None:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    assert f"| `{name}` |" in text, f"docs/analysis.md has no row for the analyzer {name}"


@pytest.mark.parametrize("command", [c for c in _commands() if c.startswith("case ")])
def test_every_case_command_is_in_the_cases_guide(command: str) -> None:
    """docs/cases.md's examples show every `haechi case` subcommand, where a case worker looks."""
    guide = (ROOT / "docs" / "cases.md").read_text(encoding="utf-8")
    pattern = r"haechi\s+" + r"\s+".join(re.escape(w) for w in command.split())
    assert re.search(pattern, guide), f"`haechi {command}` is not in docs/cases.md"
