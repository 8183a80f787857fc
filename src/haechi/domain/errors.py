"""Errors that reach the user as one clear sentence.

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class HaechiError(Exception):
    """Base class: the message must be a complete sentence a person can act on."""

    exit_code = 2


class UsageError(HaechiError):
    """Bad arguments, a wrong path, an empty folder."""


class NotAnExportError(HaechiError):
    """The path is not a Telegram Desktop JSON export."""


class ExportParseError(HaechiError):
    """The export's JSON is truncated or invalid; ``offset`` is the byte offset in the file."""

    def __init__(self, message: str, *, path: str, offset: int) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset


class DataDirError(HaechiError):
    """The data directory is missing, not initialised, read-only or full."""


class VaultError(HaechiError):
    """A vault operation failed (unreadable object, wrong key, ...)."""


class IntegrityError(HaechiError):
    """Verification found missing, altered, reordered or unsigned evidence."""

    exit_code = 1
