"""Media path resolution: untrusted paths from result.json never leave the export folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haechi.collect.telegram_export.paths import resolve_media_path
from haechi.domain import MediaStatus


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An export folder next to a folder of 'other evidence' it must never reach."""
    root = tmp_path / "ChatExport_2024-05-01"
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "a.jpg").write_bytes(b"jpeg")
    (root / "photos" / "sub").mkdir()
    outside = tmp_path / "other_case"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"other case")
    (root / "photos" / "out").symlink_to(outside)  # a directory symlink leading out
    (root / "photos" / "leak.jpg").symlink_to(outside / "secret.jpg")
    (root / "photos" / "alias.jpg").symlink_to(root / "photos" / "a.jpg")  # stays inside
    (root / "photos" / "dangling.jpg").symlink_to(outside / "nothing.jpg")
    return root


def test_regular_file_inside_is_present(export: Path) -> None:
    status, path, reason = resolve_media_path(export, "photos/a.jpg")
    assert status is MediaStatus.PRESENT
    assert path == (export / "photos" / "a.jpg").resolve()
    assert reason is None


def test_dotdot_that_stays_inside_is_fine(export: Path) -> None:
    status, path, _ = resolve_media_path(export, "photos/sub/../a.jpg")
    assert status is MediaStatus.PRESENT
    assert path == (export / "photos" / "a.jpg").resolve()


def test_symlink_inside_the_folder_is_followed(export: Path) -> None:
    status, path, _ = resolve_media_path(export, "photos/alias.jpg")
    assert status is MediaStatus.PRESENT
    assert path == (export / "photos" / "a.jpg").resolve()


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "photos/../../x",
        "..",
        "photos/out/secret.jpg",  # a symlinked directory component leading out
        "photos/leak.jpg",  # a symlinked file leading out
        "photos/dangling.jpg",  # a symlink out, even to nothing
        "photos/a.jpg\x00.png",
        "C:\\Windows\\win.ini",
        "c:/Windows/win.ini",
        "\\\\server\\share\\x.jpg",
        "\\etc\\passwd",
    ],
)
def test_attacks_are_refused(export: Path, value: str) -> None:
    status, path, reason = resolve_media_path(export, value)
    assert status is MediaStatus.REFUSED, (value, status)
    assert path is None
    assert reason


def test_missing_and_non_files(export: Path) -> None:
    assert resolve_media_path(export, "photos/nope.jpg")[0] is MediaStatus.MISSING
    assert resolve_media_path(export, "photos/a.jpg/x")[0] is MediaStatus.MISSING
    assert resolve_media_path(export, "photos/sub")[0] is MediaStatus.NOT_A_FILE
    assert resolve_media_path(export, "")[0] is MediaStatus.NOT_A_FILE
    if hasattr(os, "mkfifo"):
        os.mkfifo(export / "photos" / "pipe")
        assert resolve_media_path(export, "photos/pipe")[0] is MediaStatus.NOT_A_FILE


def test_symlink_loop_is_not_followed(export: Path) -> None:
    (export / "loop").symlink_to(export / "loop")
    status, path, _ = resolve_media_path(export, "loop")
    assert status in (MediaStatus.REFUSED, MediaStatus.MISSING)
    assert path is None


_PARTS = st.sampled_from(
    ["..", ".", "photos", "out", "sub", "a.jpg", "leak.jpg", "alias.jpg", "", "etc", "passwd"]
)


def _check_inside(export: Path, value: str) -> None:
    status, path, _ = resolve_media_path(export, value)
    root = os.path.realpath(export)
    if path is not None:
        assert status is MediaStatus.PRESENT
        real = os.path.realpath(path)
        assert real.startswith(root + os.sep), (value, real)
        assert os.path.isfile(real)
    else:
        assert status is not MediaStatus.PRESENT


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(st.text())
def test_arbitrary_strings_never_escape(export: Path, value: str) -> None:
    _check_inside(export, value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(st.lists(_PARTS, max_size=8), st.sampled_from(["/", "\\"]), st.booleans())
def test_arbitrary_component_paths_never_escape(
    export: Path, parts: list[str], sep: str, absolute: bool
) -> None:
    value = sep.join(parts)
    _check_inside(export, (sep + value) if absolute else value)
