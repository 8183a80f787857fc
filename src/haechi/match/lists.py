"""Importing partner hash lists into a bank, and exporting a bank as a list.

Import is all-or-nothing by default: the first bad line aborts it, the error names the
line and what is wrong, and nothing is added (one transaction). With ``skip_bad`` the
good lines are imported and every skipped line is reported (and recorded in the
custody event). StopNCII records their submitter withdrew are never imported and are
not errors. The SHA-256 of the list file is recorded, so the import can be proven
against the file a partner sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from haechi.app import App
from haechi.i18n import t_
from haechi.match import events, formats
from haechi.match.banks import AddReport, add_items, bank_items, get_bank
from haechi.match.formats import stopncii
from haechi.match.formats.base import BadRecord, FormatError, ParsedItem
from haechi.store.custody import Draft

MAX_SKIPPED_RECORDED = 1000


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_list(
    app: App,
    bank: str,
    path: Path,
    *,
    fmt: str = "auto",
    skip_bad: bool = False,
    kind: str | None = None,
    labels: Sequence[str] = (),
) -> AddReport:
    """Import a hash list file into ``bank`` (see the module doc)."""
    path = Path(path)
    get_bank(app, bank)  # fail before reading a large file
    chosen = formats.detect(path) if fmt == "auto" and path.is_file() else fmt
    skipped: list[tuple[int, str]] = []
    counts = {"withdrawn": 0}

    def items() -> Iterator[ParsedItem]:
        try:
            yield from records()
        except FormatError as exc:
            if str(exc).startswith(path.name):
                raise
            # the file as a whole cannot be read (broken JSON, say): no line can be skipped
            raise FormatError(
                t_("{name}, {exc}. Nothing was imported; fix the file.", name=path.name, exc=exc),
                line=exc.line,
            ) from None

    def records() -> Iterator[ParsedItem]:
        for parsed in formats.read(path, chosen, kind=kind):
            if isinstance(parsed, stopncii.Withdrawn):
                counts["withdrawn"] += 1
                continue
            if isinstance(parsed, BadRecord):
                if not skip_bad:
                    raise FormatError(
                        t_(
                            "{name}, line {where}: {problem}. Nothing was imported; fix "
                            "the line or import with --skip-bad.",
                            name=path.name,
                            where=parsed.where,
                            problem=parsed.problem,
                        ),
                        line=parsed.where,
                    )
                skipped.append((parsed.where, parsed.problem))
                continue
            parsed.origin = parsed.origin or f"{path.name}:{parsed.where}"
            yield parsed

    source: dict[str, Any] = {
        "how": "import",
        "file": path.name,
        "sha256": _sha256(path) if path.is_file() else None,
        "format": chosen,
        "skip_bad": skip_bad,
    }
    # ``source`` is completed while the items stream in; the event is written after.
    report = add_items(app, bank, _tracking(items(), source, skipped, counts), source=source,
                       labels=labels)  # fmt: skip
    report.skipped = skipped
    report.withdrawn = counts["withdrawn"]
    return report


def _tracking(
    items: Iterator[ParsedItem],
    source: dict[str, Any],
    skipped: list[tuple[int, str]],
    counts: dict[str, int],
) -> Iterator[ParsedItem]:
    yield from items
    source["skipped_lines"] = [line for line, _ in skipped[:MAX_SKIPPED_RECORDED]]
    source["skipped"] = len(skipped)
    source["withdrawn"] = counts["withdrawn"]


def export_bank(
    app: App,
    bank: str,
    path: Path,
    *,
    fmt: str = "te",
    kind: str | None = None,
    delivered_as: str | None = None,
) -> dict[str, Any]:
    """Write a bank as a list (``formats.WRITABLE``) and record an export event with the
    SHA-256 of what was written. ``delivered_as``: where the list went when ``path`` is
    only a scratch file (a browser download's name), recorded instead of that path, which
    would name a file that no longer exists."""
    info = get_bank(app, bank)
    path = Path(path)
    if path.exists() and path.is_dir():
        raise FormatError(t_("{path} is a folder; give a file name.", path=path))
    items = bank_items(app, bank)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        counts = formats.write(fh, fmt, items, bank=info.name, kind=kind)
    tmp.replace(path)
    result = {"bank": info.name, "format": fmt, "file": delivered_as or str(path),
              "sha256": _sha256(path), "items": len(items), **counts}  # fmt: skip
    with app.db.begin() as conn:
        app.custody.append_many(conn, [Draft(events.BANK_EXPORTED, f"bank:{info.id}", result)])
    return result
