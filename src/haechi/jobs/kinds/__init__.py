"""The kinds of background job, one module each, found with pkgutil: a capability adds a
kind by adding a module here that defines ``KIND`` (a :class:`haechi.jobs.model.JobKind`),
and never edits a shared list."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from haechi.i18n import t_
from haechi.jobs.model import JobError, JobKind


@cache
def kinds() -> dict[str, JobKind]:
    found: dict[str, JobKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, JobKind):
            if kind.name in found:
                raise RuntimeError(f"two job kinds are named {kind.name!r}")
            found[kind.name] = kind
    return found


def kind_of(name: str) -> JobKind:
    try:
        return kinds()[name]
    except KeyError:
        known = ", ".join(sorted(kinds()))
        raise JobError(
            t_("There is no job kind {name!r}; known: {known}.", name=name, known=known)
        ) from None
