"""The application as one named person uses it.

The cases services record who acted from ``app.settings.operator`` (``created_by``,
``added_by``, ``recorded_by``) and sign their custody events with ``app.custody``, whose
actor is that same name. The shell gets it from the login name or ``HAECHI_OPERATOR``;
the web application must give the logged-in person instead, never the Unix account the
server runs as. :func:`acting_as` is that: the same database, vault and signing key, with
the person's name in both places, so the CLI and the web call the same services.
"""

from __future__ import annotations

from dataclasses import replace

from haechi.app import App
from haechi.config import login_of
from haechi.store.custody import CustodyLog

__all__ = ["MAX_NAME", "acting_as", "login_of"]  # login_of: haechi.config's, for pages

MAX_NAME = 128  # the width of the *_by columns


def acting_as(app: App, name: str) -> App:
    """``app`` with ``name`` as the operator and the custody actor (shares every resource:
    closing the returned App closes ``app``'s database too, so callers never close it)."""
    name = name.strip()[:MAX_NAME]
    if not name:
        raise ValueError("an acting person needs a name")
    if name == app.settings.operator and app.custody.context.actor == name:
        return app
    context = replace(app.custody.context, actor=name)
    return App(
        settings=replace(app.settings, operator=name),
        db=app.db,
        vault=app.vault,
        signer=app.signer,
        custody=CustodyLog(app.signer, context),
    )
