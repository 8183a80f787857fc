"""A starting server compiles every template before the first request (web.render)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from jinja2 import Environment

from haechi.web import render


def test_every_template_is_compiled_at_start_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = {
        p.name
        for p in resources.files("haechi.web").joinpath("templates").iterdir()
        if p.name.endswith(".html")
    }
    assert render.preload_templates() == len(shipped)
    compiled: list[str] = []
    original = Environment.compile

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(args[1] if len(args) > 1 else kwargs.get("name")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", spy)
    for name in shipped:
        render.ENV.get_template(name)
    assert compiled == []  # all served from the cache
