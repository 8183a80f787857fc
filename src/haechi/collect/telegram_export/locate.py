"""Where a Telegram Desktop JSON export is: the ``result.json`` a path names (the file
itself, or the folder that holds it) and the folder its media paths are relative to. Every
near miss (an HTML export, an empty folder, the folder one level up) is refused with a
sentence that says what to give instead."""

from __future__ import annotations

import os
import re
from pathlib import Path

from haechi.domain import NotAnExportError, UsageError
from haechi.i18n import N_, t_

_HTML_PAGE = re.compile(r"(messages\d*|export_results)\.html?", re.I)
_HTML_ONLY = N_(
    "{path} holds a Telegram Desktop HTML export, which haechi cannot preserve faithfully; "
    'export the chat again with the format set to "Machine-readable JSON" (or "Both").'
)


def locate_export(path: Path) -> tuple[Path, Path]:
    """The JSON file and the folder its media paths are relative to; clear errors otherwise."""
    try:
        if not path.exists():
            raise UsageError(t_("{path} does not exist.", path=path))
        if path.is_file():
            if _HTML_PAGE.fullmatch(path.name) or path.suffix.lower() in (".html", ".htm"):
                raise NotAnExportError(t_(_HTML_ONLY, path=path.parent))
            return path, path.parent
        if not path.is_dir():
            raise UsageError(t_("{path} is neither a file nor a folder.", path=path))
        candidate = path / "result.json"
        if candidate.exists():
            if not candidate.is_file():
                raise UsageError(t_("{candidate} is not a regular file.", candidate=candidate))
            return candidate, path
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise UsageError(
            t_("{path} cannot be read ({error}).", path=path, error=exc.strerror or exc)
        ) from None
    if not names:
        raise UsageError(
            t_(
                "The folder {path} is empty; give the folder Telegram "
                "Desktop created (ChatExport_... or DataExport_...).",
                path=path,
            )
        )
    if any(_HTML_PAGE.fullmatch(n) for n in names):
        raise NotAnExportError(t_(_HTML_ONLY, path=path))
    for name in names:
        if (path / name / "result.json").is_file():
            raise NotAnExportError(
                t_(
                    "{path} has no result.json, but {inner} does: give that folder instead.",
                    path=path,
                    inner=path / name,
                )
            )
    raise NotAnExportError(
        t_("{path} has no result.json, so it is not a Telegram Desktop JSON export.", path=path)
    )
