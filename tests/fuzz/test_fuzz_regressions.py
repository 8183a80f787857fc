"""What the fuzzers found, each kept as a test (issue 17, point 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
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


REGRESSIONS = Path(__file__).with_name("regressions")


def test_a_zip_of_an_unknown_version_is_unreadable() -> None:
    """Found by the `package` target (10,000-case run): a central directory claiming zip
    version 11.0 made zipfile raise NotImplementedError out of the verifier."""
    result = verify(str(REGRESSIONS / "package-zip-version-11.zip"))
    assert "is not a readable zip file" in str(result.facts.get("unreadable"))


def test_a_video_stream_without_a_decoder_is_an_analysis_error() -> None:
    """Found by the `video` target: a container whose video stream FFmpeg has no decoder
    for (no codec context) raised AttributeError out of video_stills instead of the
    AnalysisError an analyzer records."""
    from haechi.analyze.stills import video_stills
    from haechi.domain.analysis import AnalysisError

    with pytest.raises(AnalysisError, match=r"cannot be decoded|not a readable video"):
        video_stills(REGRESSIONS / "video-no-codec-context", 3, 160)


def test_a_zip_member_with_an_empty_name_is_refused() -> None:
    """Found by the `package` target: a member with an empty name made ZipInfo.is_dir()
    raise IndexError out of the verifier."""
    result = verify(str(REGRESSIONS / "package-empty-member-name.zip"))
    assert result.facts.get("unreadable") or not result.ok


def test_mediainfo_of_a_stream_without_a_decoder(tmp_path: Path) -> None:
    """Found by the `video` target: mediainfo read the width of a stream that has no codec
    context (AttributeError); such a stream is listed with its type only, or the file is
    refused as unreadable."""
    from haechi.analyze.mediainfo import MediaInfo
    from haechi.domain.analysis import AnalysisError, AnalysisInput, MediaKind

    path = REGRESSIONS / "mediainfo-no-codec-context"
    item = AnalysisInput("0" * 64, path, path.stat().st_size, MediaKind.VIDEO, "video/mp4")
    try:
        result = MediaInfo().analyze(item)
    except AnalysisError:
        return
    assert result.signals[0].kind == "mediainfo"
