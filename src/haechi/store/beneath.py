"""Open a file only from beneath a trusted folder, whatever is swapped meanwhile.

A path is checked (resolved, found inside a folder) and opened later; between the two,
someone who may write in the folder (a shared drop folder) can replace a folder on the
way, or the file itself, by a symlink leading out, and a plain ``open`` would follow it.
:func:`open_beneath` resolves the path, checks the result lies inside ``root``, then opens
it from ``root``'s own descriptor one component at a time with ``O_NOFOLLOW``: a component
that became a symlink (or stopped being a folder) after the resolution makes the open
fail instead of leading anywhere, so nothing outside ``root`` is ever opened. Symlinks
that stay inside are still honoured — by the resolution, whose result is checked.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

from haechi.i18n import t_

_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# What openat says when O_NOFOLLOW meets a symlink (ELOOP; EMLINK on FreeBSD) or a
# component is no longer a folder (ENOTDIR): the path changed after it was resolved.
_SWAPPED = {errno.ELOOP, errno.EMLINK, errno.ENOTDIR}


class ChangedAfterCheck(OSError):
    """The path leads outside the folder, or changed between its check and its opening;
    nothing was read. ``sentence`` says so (translatable)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.sentence = t_(
            "{path} changed after it was checked (a folder or file on its way was replaced "
            "by a link, or it leads outside the drop folder); it was not read.",
            path=path,
        )
        super().__init__(errno.EXDEV, str(self.sentence), str(path))


def inside(path: str, root: str) -> bool:
    """``path`` is below ``root`` (both real, absolute paths)."""
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


def open_beneath(root: str | os.PathLike[str], path: str | os.PathLike[str], flags: int) -> int:
    """A descriptor of ``path`` opened with ``flags`` (``O_RDONLY``, ...) from beneath the
    folder ``root`` only; :class:`ChangedAfterCheck` when it resolves outside ``root`` or a
    component was swapped after the resolution. Other errors (missing, unreadable) are the
    ``OSError`` ``open`` raises."""
    base = os.path.realpath(root)
    real = os.path.realpath(path)
    if not inside(real, base):
        raise ChangedAfterCheck(path)
    parts = Path(real).relative_to(base).parts
    fd = os.open(base, _DIRECTORY)
    try:
        for part in parts[:-1]:
            step = os.open(part, _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = step
        if flags & getattr(os, "O_DIRECTORY", 0):
            return os.open(parts[-1], flags | _NOFOLLOW, dir_fd=fd)
        # A file swapped for a FIFO after its check would block the open (and the job)
        # for ever: open without waiting, then accept a regular file only.
        opened = os.open(parts[-1], flags | _NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        if not stat.S_ISREG(os.fstat(opened).st_mode):
            os.close(opened)
            raise ChangedAfterCheck(path)
        fcntl.fcntl(opened, fcntl.F_SETFL, fcntl.fcntl(opened, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return opened
    except OSError as exc:
        if exc.errno in _SWAPPED:
            raise ChangedAfterCheck(path) from None
        raise
    finally:
        os.close(fd)
