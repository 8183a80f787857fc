"""Where cases meet capabilities that may or may not be installed (faces subjects, matching).

Each function answers ``None`` when the other capability is absent, so cases work on the
foundation alone and pick the richer behaviour up as soon as the capability lands.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from haechi.app import App


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _call(module_name: str, function: str, *args: Any) -> Any:
    module = _module(module_name)
    fn = getattr(module, function, None) if module is not None else None
    if fn is None:
        return None
    return fn(*args)


def faces_subject_exists(app: App, ref: str) -> bool | None:
    """True/False when the subjects capability can tell, None when it is not installed."""
    found = _call("haechi.subjects.service", "get_subject", app, ref)
    if found is None and _module("haechi.subjects.service") is None:
        return None
    return found is not None


def faces_subject_is_minor(app: App, ref: str) -> bool | None:
    """The subjects capability's staff-set apparent-minor flag, when it has one."""
    found = _call("haechi.subjects.service", "get_subject", app, ref)
    if found is None:
        return None
    flag = getattr(found, "apparent_minor", None)
    return bool(flag) if flag is not None else None


def files_show_minor(app: App, shas: list[str]) -> list[str]:
    """Staff decisions (faces capability) that a case's files show an apparent minor: one
    sentence per file and reason; empty when none, or when the capability is absent."""
    module = _module("haechi.subjects.minors")
    finder = getattr(module, "apparent_minor", None) if module is not None else None
    if finder is None or not shas:
        return []
    findings = finder(app, shas)
    return [
        f"file {sha[:16]}…: {reason}"
        for sha, finding in sorted(findings.items())
        if getattr(finding, "apparent_minor", False)
        for reason in getattr(finding, "reasons", [])
    ]


def removed_bank(case_id: int) -> str:
    return f"case {case_id} removed content"


def watch_in_bank(app: App, case_id: int, notice_id: int, shas: list[str]) -> str | None:
    """Put removed files in a bank of the matching capability, which then matches every
    later file against their PDQ/vPDQ hashes too (a re-encoded copy has new exact hashes).
    Returns the bank's name, or None when the capability is not installed."""
    banks = _module("haechi.match.banks")
    sources = _module("haechi.match.bank_sources")
    if banks is None or sources is None or not shas:
        return None
    from haechi.domain import UsageError

    name = removed_bank(case_id)
    try:
        banks.get_bank(app, name)
    except UsageError:
        banks.create_bank(
            app,
            name,
            description=f"Files removed after takedown notices of case {case_id}",
            origin="haechi cases: re-upload watch",
            labels=["removed", f"case:{case_id}"],
        )
    sources.add_blobs(app, name, shas, notes=f"removed after notice N{notice_id}")
    return name


def bank_matches(app: App, bank: str, originals: list[str]) -> list[tuple[str, str, int | None]]:
    """Stored files the matching capability matched to ``originals`` in ``bank`` (through
    its own services: ``banks.bank_items`` and ``lookup.list_matches``): (matched file's
    SHA-256, hash kind, distance)."""
    banks = _module("haechi.match.banks")
    lookup = _module("haechi.match.lookup")
    if banks is None or lookup is None or not originals:
        return []
    wanted = set(originals)
    items = {i.id for i in banks.bank_items(app, bank) if wanted & set(i.values("sha256"))}
    return [
        (str(m.blob_sha256), str(m.kind), m.distance)
        for m in lookup.list_matches(app, bank=bank, banks_only=True, limit=None)
        if m.bank_item_id in items
    ]
