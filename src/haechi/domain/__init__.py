"""Domain objects shared by every layer. Imports nothing else from haechi."""

from haechi.domain.errors import (
    DataDirError,
    ExportParseError,
    HaechiError,
    IntegrityError,
    NotAnExportError,
    UsageError,
    VaultError,
)
from haechi.domain.records import (
    Capture,
    ChatRecord,
    FileRef,
    MediaStatus,
    MessageRecord,
    PeerKind,
    PeerRef,
    SourceDescriptor,
    SourceFile,
)

__all__ = [
    "Capture",
    "ChatRecord",
    "DataDirError",
    "ExportParseError",
    "FileRef",
    "HaechiError",
    "IntegrityError",
    "MediaStatus",
    "MessageRecord",
    "NotAnExportError",
    "PeerKind",
    "PeerRef",
    "SourceDescriptor",
    "SourceFile",
    "UsageError",
    "VaultError",
]
