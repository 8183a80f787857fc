"""One module per area of the application, found with pkgutil: a capability adds its view
module here and never edits a shared list. A module defines ``router`` (an APIRouter) and
optionally ``NAV`` (a list of :class:`haechi.web.nav.NavItem`)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

from haechi.web.nav import register


def routers() -> list[APIRouter]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is None:
            continue
        for item in getattr(module, "NAV", []):
            register(item)
        found.append(router)
    return found
