"""The few EXIF and XMP fields that speak to how a picture was made.

EXIF: ``Software``, ``Make``, ``Model``, ``DateTimeOriginal``, ``ImageDescription``,
``Artist`` and ``UserComment`` (AUTOMATIC1111 writes its parameters there in JPEG and
WebP). XMP: IPTC ``Iptc4xmpExt:DigitalSourceType`` and ``xmp:CreatorTool``. XMP is read
with regular expressions, never an XML parser: an XMP packet is attacker-controlled text
and entity expansion is not something a provenance reader should ever do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# IPTC NewsCodes digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/),
# grouped by what they say about a picture's origin.
SYNTHETIC_TYPES = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
    }
)
ENHANCED_TYPES = frozenset({"algorithmicallyEnhanced", "dataDrivenMedia"})
CAPTURE_TYPES = frozenset(
    {
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "compositeCapture",
        "screenCapture",
        "virtualRecording",
    }
)
EDIT_TYPES = frozenset(
    {"minorHumanEdits", "humanEdits", "composite", "digitalCreation", "digitalArt", "softwareImage"}
)
DST_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# Software names that only image generators write (matched case-insensitively as words).
GENERATOR_SOFTWARE = re.compile(
    r"\b(novelai|midjourney|dall[-·. ]?e|stable[ _-]?diffusion|automatic1111|comfyui|"
    r"fooocus|invokeai|firefly|imagen|leonardo\.?ai|nightcafe|dreamstudio|flux|"
    r"ideogram|gpt-?4o|sora|kandinsky|craiyon|bing image creator|designer)\b",
    re.IGNORECASE,
)

SOFTWARE, MAKE, MODEL, DESCRIPTION, ARTIST = 0x0131, 0x010F, 0x0110, 0x010E, 0x013B
EXIF_IFD, DATETIME_ORIGINAL, USER_COMMENT = 0x8769, 0x9003, 0x9286
MAX_FIELD = 64 << 10  # characters kept of one EXIF text field


def dst_term(value: str) -> str:
    """``http://cv.iptc.org/.../trainedAlgorithmicMedia`` -> ``trainedAlgorithmicMedia``."""
    value = value.strip()
    return value.rsplit("/", 1)[-1] if "/" in value else value


def dst_class(term: str) -> str:
    """synthetic / enhanced / capture / edit / unknown, for one digital source type."""
    if term in SYNTHETIC_TYPES:
        return "synthetic"
    if term in ENHANCED_TYPES:
        return "enhanced"
    if term in CAPTURE_TYPES:
        return "capture"
    if term in EDIT_TYPES:
        return "edit"
    return "unknown"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).replace("\x00", "").strip()
    return text[:MAX_FIELD] or None


def user_comment(raw: Any) -> str | None:
    """Decode an EXIF UserComment: an 8-byte character-code prefix, then the text.

    ``UNICODE`` is UTF-16 of either byte order in the wild (the standard says the file's
    byte order; AUTOMATIC1111's piexif writes big-endian, others little-endian), so the
    order whose zero bytes fall on the high half is chosen.
    """
    if isinstance(raw, str):
        return _text(raw)
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    code, body = raw[:8], raw[8:]
    if code.startswith(b"UNICODE"):
        zeros_even = body[0::2].count(0)
        zeros_odd = body[1::2].count(0)
        enc = "utf-16-be" if zeros_even > zeros_odd else "utf-16-le"
        return _text(body[: len(body) // 2 * 2].decode(enc, errors="replace"))
    if code.startswith(b"ASCII") or code == b"\x00" * 8:
        return _text(body.decode("utf-8", errors="replace"))
    return _text(body.decode("latin-1", errors="replace"))


@dataclass
class ExifFields:
    software: str | None = None
    make: str | None = None
    model: str | None = None
    datetime_original: str | None = None
    description: str | None = None
    artist: str | None = None
    user_comment: str | None = None
    problem: str | None = None

    def present(self) -> dict[str, str]:
        return {
            k: v
            for k, v in self.__dict__.items()
            if k not in ("problem", "user_comment") and v is not None
        }


def parse_exif(raw: bytes) -> ExifFields:
    """The fields of an EXIF (TIFF-structured) block; a damaged block gives ``problem``."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(raw)
        sub = exif.get_ifd(EXIF_IFD)
    except Exception as exc:  # Pillow raises many types on crafted TIFF structures
        return ExifFields(problem=f"the EXIF block is damaged ({type(exc).__name__}: {exc})")
    return ExifFields(
        software=_text(exif.get(SOFTWARE)),
        make=_text(exif.get(MAKE)),
        model=_text(exif.get(MODEL)),
        datetime_original=_text(sub.get(DATETIME_ORIGINAL)),
        description=_text(exif.get(DESCRIPTION)),
        artist=_text(exif.get(ARTIST)),
        user_comment=user_comment(sub.get(USER_COMMENT)),
    )


_DST_ATTR = re.compile(r"DigitalSourceType\s*=\s*[\"']([^\"'<>]{1,300})[\"']")
_DST_ELEM = re.compile(r"<(?:\w+:)?DigitalSourceType>\s*([^<]{1,300})<")
_DST_RES = re.compile(
    r"<(?:\w+:)?DigitalSourceType\s+rdf:resource\s*=\s*[\"']([^\"'<>]{1,300})[\"']"
)
_CREATOR_ATTR = re.compile(r"CreatorTool\s*=\s*[\"']([^\"'<>]{1,300})[\"']")
_CREATOR_ELEM = re.compile(r"<xmp:CreatorTool>\s*([^<]{1,300})<")


@dataclass
class XmpFields:
    digital_source_types: list[str] = field(default_factory=list)  # as written (URIs)
    creator_tool: str | None = None


def parse_xmp(text: str) -> XmpFields:
    found: list[str] = []
    for pattern in (_DST_ATTR, _DST_ELEM, _DST_RES):
        for m in pattern.finditer(text):
            value = m.group(1).strip()
            if value and value not in found:
                found.append(value)
    tool = _CREATOR_ATTR.search(text) or _CREATOR_ELEM.search(text)
    return XmpFields(found, tool.group(1).strip() if tool else None)
