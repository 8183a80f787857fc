"""What every state-changing page shares: acting as the logged-in person, doing a form's
work once, and answering htmx and plain forms alike.

* :func:`acting` is the application acting as the person (``haechi.cases.acting``): the
  services record their name (``kim (web)``) where the shell records the operator's.
* :func:`once` runs a form's work under its key (``haechi.jobs.once``): a double submit is
  led to the first one's result and adds nothing.
* Forms get a fresh key from the ``form_key()`` template global.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from haechi.app import App
from haechi.cases.acting import acting_as
from haechi.domain import HaechiError
from haechi.jobs import once as once_store
from haechi.web.auth import current, haechi
from haechi.web.render import ENV, render

ENV.globals["form_key"] = once_store.new_key


def acting(request: Request) -> App:
    return acting_as(haechi(request), current(request).actor.custody_name)


def staff(request: Request) -> str:
    """The name the subjects service records (``staff=``): the person, via the web."""
    return current(request).actor.custody_name


def go(request: Request, url: str) -> Response:
    """Where to after a form: a full page load, for htmx requests too."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def once(request: Request, key: str | None, action: str, work: Callable[[], str]) -> Response:
    """Do ``work`` (which returns the URL of what it made) once for this form's ``key``.
    A repeat is led to the first one's result; one still running says so (409)."""
    app, auth = haechi(request), current(request)
    claim = once_store.claim(app, auth.user.id, key or "", action)
    if not claim.fresh:
        if claim.result is None:
            return render(request, "error.html", status=409, error_key="error.in_progress",
                          message=None, exposure=None)  # fmt: skip
        return go(request, claim.result)
    try:
        url = work()
    except BaseException:
        once_store.release(app, auth.user.id, key or "")
        raise
    once_store.done(app, auth.user.id, key or "", url)
    return go(request, url)


def htmx_error(request: Request, exc: HaechiError) -> Response:
    """A refusal inside a part of a page (htmx swaps 200 answers only)."""
    return render(request, "_action_error.html", message=str(exc))
