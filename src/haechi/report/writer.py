"""Write a package as a folder or a zip, hashing every byte on its way out.

Both writers build under a temporary name beside the destination and rename at the end,
so a destination that exists is always a finished package; an interrupted export leaves
only ``<name>.partial-<random>``, which is removed on failure. Data reaches the disk with
one ``sync`` before the rename, not one ``fsync`` per file: with thousands of small files
the per-file flushes cost more than the copying (bench/bench_package.py).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import BinaryIO

from haechi.domain import UsageError
from haechi.i18n import t_

CHUNK = 1024 * 1024
# Media is already compressed: storing it is faster and makes the zip no bigger.
_STORED_PREFIX = "originals/"


class PackageWriter:
    def __init__(self, dest: Path) -> None:
        dest = dest.expanduser()
        if dest.exists():
            raise UsageError(
                t_("{dest} exists: choose a new name (a package is never overwritten).", dest=dest)
            )
        if not dest.parent.is_dir():
            raise UsageError(t_("The folder {parent} does not exist.", parent=dest.parent))
        self.dest = dest
        self.partial = dest.with_name(f"{dest.name}.partial-{secrets.token_hex(4)}")
        self.written: dict[str, tuple[str, int]] = {}  # name -> (sha256, size)

    def put_bytes(self, name: str, data: bytes) -> tuple[str, int]:
        import io

        return self.put_stream(name, io.BytesIO(data))

    def put_stream(self, name: str, stream: BinaryIO) -> tuple[str, int]:
        raise NotImplementedError

    def _record(self, name: str, digest: str, size: int) -> tuple[str, int]:
        if name in self.written:
            raise ValueError(f"{name} written twice")
        self.written[name] = (digest, size)
        return digest, size

    def finish(self) -> Path:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class FolderWriter(PackageWriter):
    def __init__(self, dest: Path) -> None:
        super().__init__(dest)
        self.partial.mkdir()

    def put_stream(self, name: str, stream: BinaryIO) -> tuple[str, int]:
        path = self.partial.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        h, size = hashlib.sha256(), 0
        with path.open("xb") as out:
            while block := stream.read(CHUNK):
                h.update(block)
                out.write(block)
                size += len(block)
        path.chmod(0o400)  # read-only once written, and the owner's alone (originals of abuse)
        return self._record(name, h.hexdigest(), size)

    def finish(self) -> Path:
        os.sync()
        self.partial.rename(self.dest)
        return self.dest

    def abort(self) -> None:
        for p in self.partial.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(self.partial, ignore_errors=True)


class ZipWriter(PackageWriter):
    def __init__(self, dest: Path) -> None:
        super().__init__(dest)
        self.top = dest.stem
        self.zf = zipfile.ZipFile(self.partial, "x", compression=zipfile.ZIP_DEFLATED)

    def put_stream(self, name: str, stream: BinaryIO) -> tuple[str, int]:
        info = zipfile.ZipInfo(f"{self.top}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = (
            zipfile.ZIP_STORED if name.startswith(_STORED_PREFIX) else zipfile.ZIP_DEFLATED
        )
        info.external_attr = 0o400 << 16
        h, size = hashlib.sha256(), 0
        with self.zf.open(info, "w", force_zip64=True) as out:
            while block := stream.read(CHUNK):
                h.update(block)
                out.write(block)
                size += len(block)
        return self._record(name, h.hexdigest(), size)

    def finish(self) -> Path:
        self.zf.close()
        with self.partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        self.partial.rename(self.dest)
        return self.dest

    def abort(self) -> None:
        try:
            self.zf.close()
        finally:
            self.partial.unlink(missing_ok=True)


def open_writer(dest: Path) -> PackageWriter:
    return ZipWriter(dest) if dest.suffix.lower() == ".zip" else FolderWriter(dest)
