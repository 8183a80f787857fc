"""Fuzz targets: every parser haechi runs on bytes a suspect or a partner may have made.

Each target takes the fuzzer's bytes and calls the real entry point. It may refuse them,
with the errors the caller is built to record (``refused``); anything else that escapes
is a crash, and a case that overruns the per-case time limit is a hang (atheris/libFuzzer
save both as files). Seeds are the repository's fixtures and ``../shared/data`` where
present; ``seed_files`` writes a few small ones of our own for formats that have none.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
_SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None  # scratch files in memory
_SCRATCH = Path(tempfile.mkdtemp(prefix="haechi-fuzz-", dir=_SHM))


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    seeds: Callable[[], Iterator[Path]]
    max_len: int = 1 << 20


def _file(data: bytes, name: str) -> Path:
    path = _SCRATCH / name
    path.write_bytes(data)
    return path


def _glob(*patterns: str, limit: int = 40, max_size: int = 2 << 20) -> Callable[[], Iterator[Path]]:
    def seeds() -> Iterator[Path]:
        n = 0
        for pattern in patterns:
            base = SHARED if pattern.startswith("shared:") else ROOT
            for path in sorted(base.glob(pattern.removeprefix("shared:"))):
                if path.is_file() and path.stat().st_size <= max_size and n < limit:
                    n += 1
                    yield path

    return seeds


# -- the export JSON reader (jsonstream + normalize + the collector) ----------------------
_EXPORT = _SCRATCH / "export"


def export_json(data: bytes) -> None:
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.domain import HaechiError

    _EXPORT.mkdir(exist_ok=True)
    (_EXPORT / "result.json").write_bytes(data)
    try:
        collector = TelegramExportCollector(_EXPORT)
        collector.describe()
        collector.bind_source("0" * 64)
        for _ in collector.captures():
            pass
        for _ in collector.extra_files():
            pass
    except HaechiError:
        pass


# -- the path resolver ----------------------------------------------------------------------
_PATHS = _SCRATCH / "paths"


def _path_folder() -> Path:
    if not _PATHS.exists():
        (_PATHS / "photos").mkdir(parents=True)
        (_PATHS / "photos" / "a.jpg").write_bytes(b"x")
        os.symlink("/etc/hostname", _PATHS / "photos" / "out.jpg")
        os.symlink("loop2", _PATHS / "loop1")
        os.symlink("loop1", _PATHS / "loop2")
        os.symlink("photos", _PATHS / "inside")
    return _PATHS


def media_path(data: bytes) -> None:
    from haechi.collect.telegram_export.paths import media_status
    from haechi.domain import MediaStatus

    root = _path_folder()
    status, local, _reason = media_status(root, data.decode("utf-8", "surrogateescape"))
    if status is MediaStatus.PRESENT:  # the promise: a regular file inside the folder
        assert local is not None and str(local).startswith(os.path.realpath(root) + os.sep)
        assert local.is_file() and not local.is_symlink()


# -- pictures and videos ----------------------------------------------------------------------
def _analysis_input(path: Path, data: bytes) -> object:
    from haechi.analyze.sniff import sniff
    from haechi.domain.analysis import AnalysisInput

    kind, mime = sniff(data[:4096])
    return AnalysisInput(hashlib.sha256(data).hexdigest(), path, len(data), kind, mime)


def picture(data: bytes) -> None:
    from haechi.analyze import stills
    from haechi.analyze.hashes.decode import DecodeError, decode_frames
    from haechi.analyze.mediainfo import MediaInfo
    from haechi.domain.analysis import AnalysisError, MediaKind

    path = _file(data, "picture")
    item = _analysis_input(path, data)
    kind = item.kind  # type: ignore[attr-defined]
    with contextlib.suppress(AnalysisError):
        stills.image_still(path, 320)
    try:
        for _ in decode_frames(path, frames=3):
            pass
    except DecodeError:
        pass
    if kind in (MediaKind.IMAGE, MediaKind.ANIMATION):
        try:
            stills.stills_of(path, kind, 3, 320)
            MediaInfo().analyze(item)  # type: ignore[arg-type]
        except AnalysisError:
            pass


def video(data: bytes) -> None:
    from haechi.analyze import stills
    from haechi.analyze.mediainfo import MediaInfo
    from haechi.domain.analysis import AnalysisError, MediaKind

    path = _file(data, "video")
    item = _analysis_input(path, data)
    with contextlib.suppress(AnalysisError):
        stills.video_stills(path, 3, 160)
    if item.kind in (MediaKind.VIDEO, MediaKind.AUDIO):  # type: ignore[attr-defined]
        with contextlib.suppress(AnalysisError):
            MediaInfo().analyze(item)  # type: ignore[arg-type]


# -- C2PA and metadata -----------------------------------------------------------------------
def metadata(data: bytes) -> None:
    from haechi.analyze.sniff import sniff
    from haechi.analyze.synthetic import containers, tags
    from haechi.analyze.synthetic.c2pa_read import read_c2pa
    from haechi.domain.analysis import AnalysisError

    path = _file(data, "metadata")
    try:
        meta = containers.read_metadata(path)
    except AnalysisError:
        return
    for block in meta.blocks:
        if block.kind == "exif":
            tags.parse_exif(block.data)
        elif block.kind == "xmp":
            tags.parse_xmp(block.text())
    _kind, mime = sniff(data[:4096])
    read_c2pa(path, mime)


# -- bank and hash-list formats -----------------------------------------------------------------
_BANK_NAMES = ("list.txt", "list.csv", "simple.HASH_PDQ.te", "list.json")


def bank_formats(data: bytes) -> None:
    from haechi.match import formats
    from haechi.match.formats.base import FormatError

    name = _BANK_NAMES[data[0] % len(_BANK_NAMES)] if data else _BANK_NAMES[0]
    path = _file(data[1:], name)
    for fmt in ("auto", "te", "te-csv", "hma", "stopncii", "vics"):
        try:
            for _ in formats.read(path, fmt):
                pass
        except FormatError:
            pass


# -- the package verifier ------------------------------------------------------------------------
def package(data: bytes) -> None:
    from haechi.report.standalone import verify_package

    result = verify_package.verify(str(_file(data, "package.zip")))
    assert isinstance(result.problems, list)


TARGETS = {
    t.name: t
    for t in (
        Target(
            "export_json",
            export_json,
            _glob("tests/fixtures/telegram/*/result.json", "shared:telegram/*.json"),
            4 << 20,
        ),
        Target("media_path", media_path, _glob("tests/fuzz/seeds/media_path/*"), 4096),
        Target(
            "picture",
            picture,
            _glob(
                "shared:pdq/**/*.jpg",
                "shared:pdq/**/*.png",
                "shared:faces/lfw_subset/*",
                "shared:provenance/**/*.webp",
                limit=30,
                max_size=300_000,
            ),
        ),
        Target(
            "video",
            video,
            _glob("shared:videos/**/*.mp4", "shared:videos/**/*.webm", limit=6, max_size=1_500_000),
            2 << 20,
        ),
        Target("metadata", metadata, _glob("shared:provenance/**/*", limit=40, max_size=1_000_000)),
        Target("bank_formats", bank_formats, _glob("tests/fuzz/seeds/bank_formats/*")),
        Target("package", package, _glob("tests/fuzz/seeds/package/*")),
    )
}


# -- seeds of our own -------------------------------------------------------------------------
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def seed_package() -> bytes:
    """A small, valid evidence package (one signed export event over its manifest)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"fuzz seed").digest())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = hashlib.sha256(raw).hexdigest()[:16]
    original = b"an original"
    sha = hashlib.sha256(original).hexdigest()
    files = [{"path": f"originals/{sha}.bin", "role": "original", "sha256": sha, "size": 11}]
    doc = {"format": "haechi-evidence-package", "package_id": "p1", "files": files}
    manifest = json.dumps(doc).encode()
    bodies = [
        {"v": 1, "seq": 1, "prev": "0" * 64, "type": "capture", "data": {"sha256": sha}},
        {
            "v": 1,
            "seq": 2,
            "type": "export",
            "data": {"package_id": "p1", "manifest_sha256": hashlib.sha256(manifest).hexdigest()},
        },
    ]
    lines, prev = [], "0" * 64
    for body in bodies:
        body["prev"] = prev
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).hexdigest()
        sig = base64.b64encode(key.sign(text.encode())).decode()
        lines.append(json.dumps({"body": text, "hash": digest, "signature": sig, "key_id": kid}))
        prev = digest
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/manifest.json", manifest)
        zf.writestr("pkg/custody/events.jsonl", "\n".join(lines) + "\n")
        zf.writestr("pkg/custody/public_key.pem", pem)
        zf.writestr(f"pkg/originals/{sha}.bin", original)
        zf.writestr("pkg/SHA256SUMS", f"{sha}  originals/{sha}.bin\n")
    return buf.getvalue()


def seed_files(folder: Path) -> None:
    """Write our own seeds (formats with no fixture) under ``folder/<target>/``."""
    seeds = {
        "media_path": {
            "ok": b"photos/a.jpg",
            "dotdot": b"photos/../../etc/passwd",
            "abs": b"/etc/passwd",
            "link": b"photos/out.jpg",
            "loop": b"loop1",
            "inside": b"inside/a.jpg",
            "drive": b"C:\\x.jpg",
            "placeholder": b"(File not included. Change data exporting settings to download.)",
        },
        "bank_formats": {
            "te": f"\x00pdq {PDQ}\nvideo_md5 {MD5}\n# c\n".encode(),
            "tecsv": f"\x01signal_type,signal_str\npdq,{PDQ}\n".encode(),
            "hma": f"\x02{PDQ} label\n".encode(),
            "stopncii": b"\x03"
            + json.dumps(
                {
                    "hashRecords": [
                        {
                            "signalType": "ImagePDQ",
                            "hashValue": PDQ,
                            "hashStatus": "Active",
                            "caseNumbers": {"C": "Active"},
                        }
                    ]
                }
            ).encode(),
            # fields of the wrong JSON type (a hashStatus object crashed the reader once)
            "stopncii-types": b"\x03"
            + json.dumps(
                {
                    "hashRecords": [
                        {"signalType": "ImagePDQ", "hashValue": PDQ, "hashStatus": {"C": 1}},
                        {"signalType": ["x"], "hashValue": PDQ, "lastModtimestamp": "1"},
                        {"signalType": "VideoMD5", "hashValue": MD5, "caseNumbers": [1]},
                    ]
                }
            ).encode(),
            "vics": b"\x03"
            + json.dumps(
                {
                    "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml/CUSTOM/$metadata#Media",
                    "value": [{"MD5": MD5, "Category": 1}],
                }
            ).encode(),
        },
        "package": {"valid.zip": seed_package()},
    }
    for target, items in seeds.items():
        (folder / target).mkdir(parents=True, exist_ok=True)
        for name, data in items.items():
            (folder / target / name).write_bytes(data)
