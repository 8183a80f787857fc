"""What analyzers read and write: media kinds, signals, derived artefacts, results.

A *signal* is one fact an analyzer found in one stored file: a hash, a face, a nudity
score with regions, a provenance finding. Signals are the currency of matching, the graph,
the review queues and the reports, so they are small, typed and searchable by
``(kind, value)``. Anything bulky or structured goes into ``data`` (JSON-serialisable).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MediaKind(enum.StrEnum):
    """What a stored file *is*, sniffed from its bytes (never from its name or folder)."""

    IMAGE = "image"  # a still picture: JPEG, PNG, WebP, HEIC, AVIF, BMP, TIFF, static GIF
    ANIMATION = "animation"  # animated GIF / WebP / APNG
    VIDEO = "video"  # MP4/MOV, WebM/MKV, AVI, ...
    AUDIO = "audio"  # OGG/Opus voice messages, MP3, M4A
    DOCUMENT = "document"  # PDF, office files, archives
    TEXT = "text"  # JSON, HTML, vCard, plain text
    OTHER = "other"


@dataclass(slots=True)
class Signal:
    """One finding.

    ``kind`` names what was found (``pdq``, ``md5``, ``face``, ``nudity``, ...); ``value`` is
    its searchable form (a hex hash, a label), or None when only ``score``/``data`` matter.
    """

    kind: str
    value: str | None = None
    score: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Artifact:
    """A file an analyzer derived from the evidence (a safe preview, a heat map).

    Artefacts are never evidence: they live in the derived store, not the vault, and are
    recorded with the analyzer and version that made them.
    """

    name: str  # e.g. "safe_preview"
    data: bytes
    mime: str


@dataclass(slots=True)
class AnalysisInput:
    """A stored file handed to an analyzer.

    ``path`` is a local, read-only file holding the plaintext (the vault object itself when
    the vault is not encrypted, otherwise a private temporary copy); analyzers must never
    write to it.
    """

    sha256: str
    path: Path
    size: int
    kind: MediaKind
    mime: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)  # what messages said: file_name, ...


@dataclass(slots=True)
class AnalysisResult:
    signals: list[Signal] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    # A result can be partial: e.g. a video whose last frames are damaged.
    warnings: list[str] = field(default_factory=list)


class AnalysisError(Exception):
    """Raised by an analyzer for a file it cannot analyse; recorded, never fatal."""
