"""What the fuzzers found, each kept as a test (issue 17, point 8)."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz.targets import seed_package

from haechi.report.standalone.verify_package import verify


def test_a_zip_whose_local_header_disagrees_with_its_directory_is_unreadable(
    tmp_path: Path,
) -> None:
    """Found by the `package` target: a member whose local header names another file than
    the central directory made zipfile raise BadZipFile out of the verifier (a traceback
    instead of "CANNOT VERIFY"), as did a bad CRC or an encrypted member."""
    data = bytearray(seed_package())
    name = b"pkg/custody/events.jsonl"
    local = data.index(name)  # the first occurrence is the local file header's name
    data[local : local + len(name)] = b"pkg/custody/events.jsonX"
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(data))
    result = verify(str(path))
    assert "cannot be read from the zip" in str(result.facts.get("unreadable"))
