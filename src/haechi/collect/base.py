"""The collector seam: anything that turns a source into captures.

A collector only *reads*. It never writes the database, the vault or the custody log:
the ingest service does that, identically for every collector, so an export import, a
live Telethon archive, a t.me/s page and a report-bot update all leave the same evidence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from haechi.domain import Capture, SourceDescriptor, SourceFile


class Collector(ABC):
    """Produces :class:`Capture` objects from one source.

    Subclasses set ``name`` and ``version``; both go into every capture's custody event
    so a court can see which tool, at which version, acquired each item.
    """

    name: ClassVar[str]
    version: ClassVar[str]

    @abstractmethod
    def describe(self) -> SourceDescriptor:
        """Identify the source before reading it (cheap, no full parse)."""

    @abstractmethod
    def captures(self) -> Iterator[Capture]:
        """Yield chats and messages in source order. May raise ExportParseError."""

    def bind_source(self, root_sha256: str | None) -> None:
        """Called by the ingest before :meth:`captures`, once the source's root files are in
        the vault, with the SHA-256 of the first (None if it could not be stored). Anything a
        collector must name by its source (a chat without an id) is named by this digest of
        the content, never by a path, so a copied or moved source names it the same. Default:
        nothing to name."""
        return None

    def extra_files(self) -> Iterator[SourceFile]:
        """Files of the source not referenced by any message (preserved too). Default: none."""
        return iter(())

    @property
    def warnings(self) -> list[str]:
        """Human-readable warnings gathered while reading (unknown fields, refused paths)."""
        return []

    @property
    def unknown_fields(self) -> dict[str, int]:
        """Counts of keys the collector did not model, by name; kept in the raw JSON."""
        return {}
