"""The files of an export folder that no message referenced: preserved too (role
``unreferenced``), since a suspect's export may hold what its messages no longer show.
Symlinks are never followed; one leading out of the folder is reported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from haechi.collect.telegram_export.paths import within_folder
from haechi.collect.telegram_export.warnlog import WarningLog
from haechi.domain import SourceFile
from haechi.store.textsafe import lossless


def unreferenced_files(
    export_folder: Path, json_path: Path, referenced: set[Path], warnings: WarningLog
) -> Iterator[SourceFile]:
    """Regular files below ``export_folder`` that are neither ``json_path`` nor ``referenced``
    (the resolved paths messages pointed to), sorted by their path in the export."""
    root = os.path.realpath(export_folder)
    skip = {Path(os.path.realpath(json_path))}
    found: list[tuple[str, Path]] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            warnings.add(f"unreadable:{folder}", f"Cannot list {prefix or '.'}: {exc}.")
            continue
        for entry in entries:
            rel = prefix + entry.name
            try:
                if entry.is_symlink():  # never followed; report the ones leading out
                    target = os.path.realpath(entry.path)
                    if not within_folder(target, root):
                        warnings.add(
                            f"symlink:{rel}",
                            f"{rel} is a symlink to {target}, outside the export folder; "
                            "it was not followed.",
                        )
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    local = Path(entry.path)
                    if local not in referenced and local not in skip:
                        found.append((rel, local))
            except OSError as exc:
                warnings.add(f"unreadable:{rel}", f"Cannot examine {rel}: {exc}.")
    for rel, local in sorted(found):
        yield SourceFile(lossless(rel), local, "unreferenced")
