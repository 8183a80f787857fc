"""``haechi verify-package``: the very code a package ships as ``verify_package.py``.

One implementation, so what haechi says about a package is exactly what anyone running the
standalone script (with only Python and ``cryptography``) will see.
"""

from __future__ import annotations

from pathlib import Path

from haechi.report.standalone import verify_package as standalone

Result = standalone.Result


def verify_package(path: Path, public_key: Path | None = None) -> standalone.Result:
    return standalone.verify(str(path), str(public_key) if public_key else None)


def unreadable(result: standalone.Result) -> str | None:
    value = result.facts.get("unreadable")
    return str(value) if value else None
