"""Safe resolution of the media paths written in ``result.json``.

The paths come from a file a suspect may have edited, so they are untrusted input. A path
must name a regular file *inside* the export folder: anything else would let a crafted
export make the vault copy ``/etc/shadow`` or another case's files into this case.

tdesktop writes paths relative to the folder that holds result.json, with ``/``
separators (``photos/photo_1@01-08-2020_22-01-49.jpg``). We refuse absolute paths, Windows
drive and UNC forms, NUL bytes, and anything whose real path (after resolving ``..`` and
every symlink component) leaves the root. Symlinks that stay inside are fine.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from haechi.domain import MediaStatus

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")  # C:\x, C:x, c:/x

# What tdesktop writes instead of a path when it did not download a file. It may prefix
# a name ("name (File ...)"), hence the endswith test. Profile pictures and stories say
# "Photo" instead of "File".
_SETTINGS = " Change data exporting settings to download.)"
PLACEHOLDERS: tuple[tuple[str, MediaStatus], ...] = tuple(
    (f"({noun} {tail}", status)
    for noun in ("File", "Photo")
    for tail, status in (
        ("not included." + _SETTINGS, MediaStatus.NOT_INCLUDED),
        ("exceeds maximum size." + _SETTINGS, MediaStatus.TOO_LARGE),
        ("unavailable, please try again later)", MediaStatus.UNAVAILABLE),
    )
)


def within_folder(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both already real, absolute paths)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_media_path(
    export_root: Path, value: str
) -> tuple[MediaStatus, Path | None, str | None]:
    """Check one media path from the export.

    Returns ``(status, resolved path, reason)``. The path is given only for ``PRESENT``
    and is then guaranteed to be a regular file inside ``export_root``; ``reason`` says
    why any other status was chosen.
    """
    if not isinstance(value, str):
        return MediaStatus.REFUSED, None, "the path is not a string"
    if "\x00" in value:
        return MediaStatus.REFUSED, None, "the path contains a NUL byte"
    if value.startswith(("/", "\\")):
        return MediaStatus.REFUSED, None, "the path is absolute"
    if _WINDOWS_DRIVE.match(value):
        return MediaStatus.REFUSED, None, "the path names a Windows drive"
    try:
        root = os.path.realpath(export_root)
        candidate = os.path.join(root, value)
        # realpath resolves every symlink component before applying '..', exactly as
        # the kernel would when the vault opens the file.
        real = os.path.realpath(candidate)
    except (OSError, ValueError, UnicodeError) as exc:
        return MediaStatus.REFUSED, None, f"the path cannot be resolved ({exc})"
    if not within_folder(real, root):
        return MediaStatus.REFUSED, None, "the path leads outside the export folder"
    try:
        info = os.stat(real, follow_symlinks=False)
    except FileNotFoundError:
        return MediaStatus.MISSING, None, "no file at this path"
    except NotADirectoryError:
        return MediaStatus.MISSING, None, "a component of the path is not a folder"
    except (OSError, ValueError, UnicodeError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
            return MediaStatus.REFUSED, None, "the path is a symlink loop"
        return MediaStatus.MISSING, None, f"the file cannot be examined ({exc})"
    if stat.S_ISLNK(info.st_mode):  # realpath could not resolve it (a loop): never follow
        return MediaStatus.REFUSED, None, "the path is an unresolvable symlink"
    if not stat.S_ISREG(info.st_mode):
        return MediaStatus.NOT_A_FILE, None, "the path is not a regular file"
    return MediaStatus.PRESENT, Path(real), None


def media_status(export_root: Path, value: str) -> tuple[MediaStatus, Path | None, str | None]:
    """A media value from a message: one of the placeholders, or a path to resolve.

    Any other text in parentheses that names no file is an unknown placeholder (a newer
    tdesktop may add some); a real file with such a name still counts as a file.
    """
    for sentence, status in PLACEHOLDERS:
        if value.endswith(sentence):
            return status, None, None
    status, local, reason = resolve_media_path(export_root, value)
    if status is not MediaStatus.PRESENT and value.startswith("(") and value.endswith(")"):
        return MediaStatus.PLACEHOLDER, None, "an unknown placeholder text"
    return status, local, reason
