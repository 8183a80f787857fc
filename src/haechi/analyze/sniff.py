"""Tell what a stored file is from its first bytes.

File names and export folders lie (tdesktop puts GIF-style animations in ``video_files/``,
people rename files), so the analysis runner decides which analyzers see a file from its
content alone. This needs no libmagic and reads at most :data:`HEAD_BYTES`.
"""

from __future__ import annotations

import struct

from haechi.domain.analysis import MediaKind

HEAD_BYTES = 64 * 1024

_ISO_BRANDS_IMAGE = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_ISO_BRANDS_AVIF = {b"avif", b"avis"}
_ISO_AUDIO = {b"M4A ", b"M4B ", b"M4P "}


def _png_animated(head: bytes) -> bool:
    pos = 8
    while pos + 8 <= len(head):
        (length,) = struct.unpack(">I", head[pos : pos + 4])
        ctype = head[pos + 4 : pos + 8]
        if ctype == b"acTL":
            return True
        if ctype in (b"IDAT", b"IEND"):
            return False
        pos += 12 + length
    return False


def _gif_animated(head: bytes) -> bool:
    # NETSCAPE2.0 is the looping extension every animated GIF writer emits; more than one
    # graphic control block in the head also means more than one frame.
    return b"NETSCAPE2.0" in head or head.count(b"\x21\xf9\x04") > 1


def _webp(head: bytes) -> tuple[MediaKind, str]:
    if head[12:16] == b"VP8X" and len(head) > 20 and head[20] & 0x02:
        return MediaKind.ANIMATION, "image/webp"
    return MediaKind.IMAGE, "image/webp"


def _iso_bmff(head: bytes) -> tuple[MediaKind, str]:
    major = head[8:12]
    (size,) = struct.unpack(">I", head[0:4])
    brands = {major} | {head[i : i + 4] for i in range(16, min(size, len(head), 64), 4)}
    if brands & _ISO_BRANDS_AVIF:
        if b"avis" in brands:
            return MediaKind.ANIMATION, "image/avif"
        return MediaKind.IMAGE, "image/avif"
    if brands & _ISO_BRANDS_IMAGE and major != b"mp42":
        return MediaKind.IMAGE, "image/heic"
    if major in _ISO_AUDIO:
        return MediaKind.AUDIO, "audio/mp4"
    if major == b"qt  ":
        return MediaKind.VIDEO, "video/quicktime"
    return MediaKind.VIDEO, "video/mp4"


def sniff(head: bytes) -> tuple[MediaKind, str | None]:
    """(kind, MIME type) of a file from its first bytes; ``(OTHER, None)`` if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind.IMAGE, "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if _png_animated(head):
            return MediaKind.ANIMATION, "image/apng"
        return MediaKind.IMAGE, "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return (MediaKind.ANIMATION if _gif_animated(head) else MediaKind.IMAGE), "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaKind.VIDEO, "video/x-msvideo"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaKind.AUDIO, "audio/wav"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _iso_bmff(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaKind.VIDEO, "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"OggS"):
        return MediaKind.AUDIO, "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MediaKind.AUDIO, "audio/mpeg"
    if head.startswith(b"BM") and len(head) > 14:
        return MediaKind.IMAGE, "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaKind.IMAGE, "image/tiff"
    if head.startswith(b"%PDF-"):
        return MediaKind.DOCUMENT, "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return MediaKind.DOCUMENT, "application/zip"
    if head.startswith(b"\x1f\x8b"):
        return MediaKind.DOCUMENT, "application/gzip"
    if head.startswith(b"BEGIN:VCARD"):
        return MediaKind.TEXT, "text/vcard"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return MediaKind.TEXT, "application/json"
    if stripped[:5].lower() in (b"<!doc", b"<html"):
        return MediaKind.TEXT, "text/html"
    return MediaKind.OTHER, None
