"""Shared by the text tests: the scanner with the shipped lexicon, built once per module.

``scanner`` reads with the lexicon alone (no message model): the tests of terms, rules and
context check what the lexicon says, look-alikes included, and a learned model's reading of
a look-alike would hide a rule that fires wrongly. ``model_scanner`` is the shipped
configuration (lexicon and message model), as the runner uses it."""

from __future__ import annotations

import pytest

from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.scan import Scanner


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(load_lexicon(), model=None)


@pytest.fixture(scope="module")
def model_scanner() -> Scanner:
    return Scanner(load_lexicon())
