"""Hints on pages whose action the browser now offers do not send the reader to the
command line (the cases list said "Cases are changed with `haechi case`" after the case
page had learnt every change; the empty banks and subjects lists named commands although
/banks and /subjects create them). Hints for what stays on the server's shell on purpose
(watch login, drop folders, lists over the upload limit) keep their command."""

from __future__ import annotations

import json
from importlib import resources

import pytest

ACTED_IN_THE_BROWSER = ["cases.hint", "subjects.none", "matches.no_banks", "login.hint"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_hints_for_browser_actions_name_no_command(lang: str) -> None:
    text = resources.files("haechi.web").joinpath(f"locales/{lang}.json").read_text("utf-8")
    strings = json.loads(text)
    for key in ACTED_IN_THE_BROWSER:
        assert "haechi " not in strings[key], (lang, key, strings[key])
