"""Warnings of one export read, grouped by kind."""

from __future__ import annotations

from typing import Any

from haechi.store.textsafe import searchable


class WarningLog:
    """Warnings grouped by kind, so a million identical ones stay one line with a count."""

    MAX_DISTINCT = 1000

    def __init__(self) -> None:
        self._items: dict[str, list[Any]] = {}  # key -> [text, count]
        self.dropped = 0

    def add(self, key: str, text: str) -> None:
        item = self._items.get(key)
        if item is not None:
            item[1] += 1
        elif len(self._items) < self.MAX_DISTINCT:
            self._items[key] = [text, 1]
        else:
            self.dropped += 1

    def lines(self) -> list[str]:
        """One line per kind. Made storable: a warning may quote a file name or a value of
        the export, and it goes into the custody log and the summary."""
        out = [t if n == 1 else f"{t} ({n} times)" for t, n in self._items.values()]
        out = [searchable(line) or "" for line in out]
        if self.dropped:
            out.append(f"{self.dropped} further warnings of other kinds were not listed.")
        return out
