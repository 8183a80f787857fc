"""What the case jobs share: the case named in the parameters, checked at submission."""

from __future__ import annotations

import re
from typing import Any

from haechi.app import App
from haechi.cases.model import CaseError
from haechi.i18n import t_

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def checked_case(app: App, params: dict[str, Any], *, needs_items: bool = True) -> tuple[str, int]:
    """(reference, id) of the case ``params["case"]`` names; a sentence if none or empty."""
    from haechi.cases.service import get_summary

    key = str(params.get("case") or "").strip()[:64]
    if not key:
        raise CaseError(t_("Name the case."))
    summary = get_summary(app, key)
    if needs_items and summary.items == 0:
        raise CaseError(t_("Case {ref} has no items yet.", ref=summary.ref))
    return summary.ref, summary.id


def file_stem(ref: str) -> str:
    return _SAFE.sub("_", ref).strip("._") or "case"


def flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)


def optional_case(
    app: App, params: dict[str, Any], cleaned: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """``cleaned`` with the case ``params`` names, if any (it need not have items yet),
    and the job's subject: the case, or None."""
    if not params.get("case"):
        return cleaned, None
    ref, case_id = checked_case(app, params, needs_items=False)
    return {**cleaned, "case": ref}, f"case:{case_id}"
