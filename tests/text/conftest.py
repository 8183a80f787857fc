"""Shared by the text tests: the scanner with the shipped lexicon, built once per module."""

from __future__ import annotations

import pytest

from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.scan import Scanner


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(load_lexicon())
