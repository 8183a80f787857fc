"""Fixtures for the Telegram Desktop export collector tests (helpers: tgexport_helpers)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from tgexport_helpers import FIXTURES, make_media


@pytest.fixture
def export_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy a fixture export into tmp_path; optionally create media files in it."""

    def copy(name: str, media: Iterable[str] = ()) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        make_media(dest, media)
        return dest

    return copy
