"""Acting for a named person: the services record ``app.settings.operator`` as who did a
thing (case items, decisions, banks) and sign custody events with ``app.custody``'s actor.
A web request acts for the logged-in user, never for the Unix account the server runs as,
so it hands the services :func:`acting` ``(app, actor)``: the same database, vault and
signing key, with the web user's name (``lee (web)``) as the operator and custody actor.
"""

from __future__ import annotations

from dataclasses import replace

from haechi.app import App
from haechi.auth.types import Actor
from haechi.store.custody import CustodyContext, CustodyLog


def acting(app: App, actor: Actor) -> App:
    """``app`` as seen by a service acting for ``actor`` (cheap: nothing is reopened)."""
    name = actor.custody_name
    if app.settings.operator == name and app.custody.context.actor == name:
        return app
    context = CustodyContext(actor=name, host=app.settings.host)
    return replace(
        app,
        settings=replace(app.settings, operator=name),
        custody=CustodyLog(app.signer, context),
    )
