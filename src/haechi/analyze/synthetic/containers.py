"""A bounded reader of the metadata blocks of PNG, JPEG and WebP files.

Pillow already parses these, but evidence needs more than the values: *where* each block
sits (byte offset and length, so anyone can cut it out of the original again), its raw
bytes, and firm limits against crafted files. So the containers are walked here, block by
block, reading only blocks that can carry provenance:

* PNG: ``tEXt``, ``zTXt``, ``iTXt`` (generator parameters, XMP), ``eXIf``, ``caBX`` (C2PA);
* JPEG: APP1 (EXIF, XMP, extended XMP), APP11 (C2PA JUMBF), APP13 (Photoshop/IPTC), COM;
* WebP: ``EXIF``, ``XMP `` and ``C2PA`` chunks.

Limits: at most :data:`MAX_BLOCKS` blocks are walked, a block is read up to
:data:`MAX_BLOCK` bytes and a compressed text is inflated up to :data:`MAX_TEXT` bytes
(bigger ones are kept truncated and say so); a file that ends inside a block is reported
as truncated. Nothing here raises on bad input: problems are collected as sentences.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAX_BLOCKS = 100_000
MAX_BLOCK = 16 << 20  # bytes read of one block
MAX_TEXT = 16 << 20  # bytes a compressed text may inflate to
XMP_SCAN = 4 << 20  # bytes of an unknown container searched for an XMP packet

PNG_SIG = b"\x89PNG\r\n\x1a\n"
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"


@dataclass
class Block:
    """One metadata block: what it is, where it is, and its (decoded) payload.

    ``kind`` is ``text`` (a PNG text chunk; ``key`` is its keyword), ``exif``, ``xmp``,
    ``c2pa``, ``iptc`` or ``comment``. ``offset``/``length`` locate the block's payload in
    the file; ``sha256`` is of those raw payload bytes (before any inflating).
    """

    container: str
    kind: str
    key: str | None
    offset: int
    length: int
    sha256: str
    data: bytes  # payload; for text chunks the (inflated) text bytes
    truncated: bool = False
    encoding: str = "latin-1"

    def text(self) -> str:
        return self.data.decode(self.encoding, errors="replace")

    def locator(self) -> dict[str, object]:
        out: dict[str, object] = {
            "container": self.container,
            "block": self.kind,
            "offset": self.offset,
            "length": self.length,
            "sha256": self.sha256,
        }
        if self.key is not None:
            out["key"] = self.key
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass
class Metadata:
    container: str | None
    blocks: list[Block] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    def texts(self) -> dict[str, Block]:
        """PNG text chunks by keyword (the first of each keyword wins, as in Pillow)."""
        out: dict[str, Block] = {}
        for b in self.blocks:
            if b.kind == "text" and b.key is not None and b.key not in out:
                out[b.key] = b
        return out


def _read(fh: BinaryIO, n: int) -> tuple[bytes, bool]:
    """Up to ``min(n, MAX_BLOCK)`` bytes; True when the block was longer than the cap."""
    want = min(n, MAX_BLOCK)
    data = fh.read(want)
    if want < n:
        fh.seek(n - want, 1)
    return data, want < n


def _inflate(data: bytes) -> tuple[bytes, bool]:
    """zlib-inflate at most MAX_TEXT bytes (a compressed text chunk can be a bomb)."""
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_TEXT)
    return out, bool(d.unconsumed_tail)


def _block(
    container: str,
    kind: str,
    key: str | None,
    offset: int,
    raw: bytes,
    length: int,
    data: bytes | None = None,
    truncated: bool = False,
    encoding: str = "latin-1",
) -> Block:
    return Block(
        container,
        kind,
        key,
        offset,
        length,
        hashlib.sha256(raw).hexdigest(),
        raw if data is None else data,
        truncated,
        encoding,
    )


def _png_text(
    ctype: bytes, offset: int, raw: bytes, length: int, cut: bool, problems: list[str]
) -> Block | None:
    key_end = raw.find(b"\x00")
    if key_end < 1 or key_end > 79:
        problems.append(f"PNG {ctype.decode()} chunk at byte {offset} has no valid keyword")
        return None
    key = raw[:key_end].decode("latin-1")
    rest = raw[key_end + 1 :]
    try:
        if ctype == b"tEXt":
            return _block("png", "text", key, offset, raw, length, rest, cut)
        if ctype == b"zTXt":
            text, capped = _inflate(rest[1:])
            return _block("png", "text", key, offset, raw, length, text, cut or capped)
        # iTXt: compression flag, method, language\0, translated keyword\0, text (UTF-8)
        flag = rest[0]
        lang_end = rest.index(b"\x00", 2)
        tkey_end = rest.index(b"\x00", lang_end + 1)
        body = rest[tkey_end + 1 :]
        capped = False
        if flag == 1:
            body, capped = _inflate(body)
        return _block("png", "text", key, offset, raw, length, body, cut or capped, "utf-8")
    except (IndexError, ValueError, zlib.error) as exc:
        problems.append(f"PNG {ctype.decode()} chunk {key!r} at byte {offset} is damaged ({exc})")
        return None


def _png(fh: BinaryIO, meta: Metadata) -> None:
    fh.seek(8)
    for _ in range(MAX_BLOCKS):
        head = fh.read(8)
        if not head:
            meta.problems.append("the PNG ends without an IEND chunk (truncated)")
            return
        if len(head) < 8:
            meta.problems.append("the PNG is truncated inside a chunk header")
            return
        length, ctype = struct.unpack(">I4s", head)
        offset = fh.tell()
        if ctype in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"caBX"):
            raw, cut = _read(fh, length)
            if len(raw) < min(length, MAX_BLOCK):
                meta.problems.append(f"the PNG is truncated inside its {ctype.decode()} chunk")
                return
            if ctype == b"eXIf":
                meta.blocks.append(_block("png", "exif", None, offset, raw, length, None, cut))
            elif ctype == b"caBX":
                meta.blocks.append(_block("png", "c2pa", None, offset, raw, length, None, cut))
            else:
                block = _png_text(ctype, offset, raw, length, cut, meta.problems)
                if block is not None:
                    if block.key == "XML:com.adobe.xmp":
                        block.kind = "xmp"
                    meta.blocks.append(block)
            if cut:
                meta.problems.append(
                    f"PNG {ctype.decode()} chunk at byte {offset} is {length:,} bytes; "
                    f"only the first {MAX_BLOCK:,} were read"
                )
            fh.seek(offset + length + 4)
        else:
            fh.seek(length + 4, 1)
        if ctype == b"IEND":
            return
    meta.problems.append(f"more than {MAX_BLOCKS:,} PNG chunks; the rest was not read")


_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg(fh: BinaryIO, meta: Metadata) -> None:
    fh.seek(2)
    for _ in range(MAX_BLOCKS):
        b = fh.read(1)
        while b == b"\xff":  # fill bytes
            b = fh.read(1)
        if not b:
            meta.problems.append("the JPEG ends before its image data (truncated)")
            return
        marker = b[0]
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD9:
            return
        size = fh.read(2)
        if len(size) < 2:
            meta.problems.append("the JPEG is truncated inside a segment header")
            return
        (length,) = struct.unpack(">H", size)
        offset = fh.tell()
        if length < 2:
            meta.problems.append(f"JPEG segment at byte {offset} has an impossible length")
            return
        if marker == 0xDA:  # start of scan: metadata is before it
            return
        payload = length - 2
        if marker in (0xE1, 0xEB, 0xED, 0xFE):
            raw = fh.read(payload)
            if len(raw) < payload:
                meta.problems.append(f"the JPEG is truncated inside a segment at byte {offset}")
                return
            block = _jpeg_block(marker, offset, raw)
            if block is not None:
                meta.blocks.append(block)
        else:
            fh.seek(payload, 1)
    meta.problems.append(f"more than {MAX_BLOCKS:,} JPEG segments; the rest was not read")


def _jpeg_block(marker: int, offset: int, raw: bytes) -> Block | None:
    n = len(raw)
    if marker == 0xE1 and raw.startswith(b"Exif\x00\x00"):
        return _block("jpeg", "exif", "APP1", offset, raw, n, raw[6:])
    if marker == 0xE1 and raw.startswith(XMP_APP1):
        return _block("jpeg", "xmp", "APP1", offset, raw, n, raw[len(XMP_APP1) :], encoding="utf-8")
    if marker == 0xE1 and raw.startswith(XMP_EXT_APP1):
        # GUID (32) + full length (4) + offset (4), then a slice of the extended packet.
        body = raw[len(XMP_EXT_APP1) + 40 :]
        return _block("jpeg", "xmp", "APP1-extended", offset, raw, n, body, encoding="utf-8")
    if marker == 0xEB:
        return _block("jpeg", "c2pa", "APP11", offset, raw, n)
    if marker == 0xED:
        return _block("jpeg", "iptc", "APP13", offset, raw, n)
    if marker == 0xFE:
        return _block("jpeg", "comment", "COM", offset, raw, n, encoding="utf-8")
    return None


def _webp(fh: BinaryIO, meta: Metadata) -> None:
    fh.seek(4)
    (riff_size,) = struct.unpack("<I", fh.read(4))
    end = 8 + riff_size
    fh.seek(12)
    for _ in range(MAX_BLOCKS):
        pos = fh.tell()
        if pos + 8 > end:
            return
        head = fh.read(8)
        if len(head) < 8:
            meta.problems.append("the WebP is truncated inside a chunk header")
            return
        ctype, length = struct.unpack("<4sI", head)
        offset = fh.tell()
        kinds = {b"EXIF": "exif", b"XMP ": "xmp", b"C2PA": "c2pa"}
        if ctype in kinds:
            raw, cut = _read(fh, length)
            if len(raw) < min(length, MAX_BLOCK):
                meta.problems.append(f"the WebP is truncated inside its {ctype.decode()} chunk")
                return
            data = raw[6:] if ctype == b"EXIF" and raw.startswith(b"Exif\x00\x00") else raw
            enc = "utf-8" if ctype == b"XMP " else "latin-1"
            meta.blocks.append(
                _block("webp", kinds[ctype], None, offset, raw, length, data, cut, enc)
            )
            fh.seek(offset + length + (length & 1))
        else:
            fh.seek(length + (length & 1), 1)
    meta.problems.append(f"more than {MAX_BLOCKS:,} WebP chunks; the rest was not read")


def _xmp_scan(fh: BinaryIO, meta: Metadata) -> None:
    """Other containers (TIFF, HEIC, MP4, ...): find an XMP packet in the first bytes."""
    fh.seek(0)
    head = fh.read(XMP_SCAN)
    start = head.find(b"<x:xmpmeta")
    if start < 0:
        return
    end = head.find(b"</x:xmpmeta>", start)
    if end < 0:
        meta.problems.append(f"an XMP packet at byte {start} is not closed")
        return
    raw = head[start : end + len(b"</x:xmpmeta>")]
    meta.blocks.append(_block("other", "xmp", None, start, raw, len(raw), encoding="utf-8"))


def read_metadata(path: Path) -> Metadata:
    """Every provenance-bearing block of the file at ``path`` (never raises on bad input)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            if head.startswith(PNG_SIG):
                meta = Metadata("png")
                _png(fh, meta)
            elif head.startswith(b"\xff\xd8"):
                meta = Metadata("jpeg")
                _jpeg(fh, meta)
            elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                meta = Metadata("webp")
                _webp(fh, meta)
            else:
                meta = Metadata(None)
                _xmp_scan(fh, meta)
    except (OSError, struct.error) as exc:
        return Metadata(None, problems=[f"the file could not be read: {exc}"])
    return meta
