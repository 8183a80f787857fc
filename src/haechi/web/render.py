"""Jinja2 rendering with the context every page needs (user, CSRF token, language,
navigation, exposure). Autoescaping is on for every template; message text is never
marked safe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup, escape

from haechi.auth.roles import Perm, can
from haechi.config import login_of, unnamed
from haechi.domain.display import visible
from haechi.i18n import localize
from haechi.services import exposure
from haechi.services.search import highlight
from haechi.web.i18n import COOKIE, Translator, negotiate
from haechi.web.nav import menu_for


def _date(ts: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime(fmt) + " UTC"


KST = timezone(timedelta(hours=9), "KST")


def _when(value: int | float | str | None) -> str:
    """A moment in UTC with Korea Standard Time beside it (epoch seconds or ISO 8601):
    ``2024-08-06 08:30 UTC · 17:30 KST`` (the KST date too when it differs)."""
    if value is None or value == "":
        return "—"
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return _minute(int(moment.timestamp() // 60))
    except (ValueError, OverflowError, OSError):
        return str(value)


@lru_cache(maxsize=8192)
def _minute(minute: int) -> str:
    # A page shows many times, often within the same minutes (a chat's timeline, a case's
    # items): each minute is formatted once per process.
    utc = datetime.fromtimestamp(minute * 60, UTC)
    kst = utc.astimezone(KST)
    local = kst.strftime("%H:%M" if kst.date() == utc.date() else "%Y-%m-%d %H:%M")
    return f"{utc.strftime('%Y-%m-%d %H:%M')} UTC · {local} KST"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` of every template: a string from the data gets its invisible and
    reordering characters shown as tokens (``⟨RLO⟩``) before it is escaped, in text and in
    attributes alike. HTML the code built itself (Markup) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _isolate(value: Any) -> Markup:
    """A name, title or file name in its own bidi island (``<bdi>``): right-to-left text in
    it cannot reorder the words around it, and, being the user's words, it is marked
    ``translate="no"`` (browsers' translators and the Korean page check leave it alone)."""
    text = "" if value is None else str(value)
    return Markup('<bdi translate="no">%s</bdi>') % escape(visible(text))


@pass_context
def _actor(ctx: Any, name: Any) -> Markup:
    """Who acted (a custody actor, ``decided_by``, ``created_by``...) as a page shows it: the
    name isolated as :func:`_isolate` does, and the shell's unnamed actor ``root (login
    name; no operator named)`` as its login name with that mark in the reader's language
    (``case.login_unnamed``); the stored value is unchanged."""
    login = login_of(None if name is None else str(name))
    if login is None:
        return _isolate(name)
    translate = ctx.get("t")
    mark = translate("case.login_unnamed") if translate is not None else unnamed("").strip()
    return _isolate(login) + Markup(" ") + escape(mark)


_TICKS = re.compile(r"`([^`]+)`")


def _codes(value: Any) -> Markup:
    """A catalogue sentence with commands, paths and addresses in backticks
    (`` `haechi watch run` ``): escaped, the backticked parts shown as ``<code>`` (they
    are typed or read as they are, in any language)."""
    parts = _TICKS.split(visible("" if value is None else str(value)))  # odd: backticked
    return Markup("").join(
        Markup("<code>%s</code>") % part if n % 2 else escape(part) for n, part in enumerate(parts)
    )


ENV = Environment(
    finalize=_finalize,
    loader=PackageLoader("haechi.web", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship inside the package and never change while serving: no stat() of the
    # template file on every render.
    auto_reload=False,
)
ENV.filters["date"] = _date
ENV.filters["size"] = _size
ENV.filters["when"] = _when
ENV.filters["isolate"] = _isolate
ENV.globals["actor"] = _actor
ENV.filters["codes"] = _codes
ENV.globals["highlight"] = highlight


def preload_templates() -> int:
    """Compile every template now (a server's start) rather than on the first request that
    needs it: compiling one costs tens of milliseconds, which the first person to open each
    page in each worker process would otherwise wait. Returns how many were compiled."""
    names = [n for n in ENV.list_templates() if n.endswith(".html")]
    for name in names:
        ENV.get_template(name)
    return len(names)


def language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.cookies.get(COOKIE))


def context(request: Request, **values: Any) -> dict[str, Any]:
    auth = getattr(request.state, "auth", None)
    lang = language(request)
    role = auth.user.role if auth else None
    base: dict[str, Any] = {
        "request": request,
        "auth": auth,
        "user": auth.user if auth else None,
        "csrf": auth.csrf if auth else "",
        "lang": lang,
        "t": Translator(lang),
        "menu": menu_for(role, request.url.path) if role else [],
        "can": (lambda perm: role is not None and can(role, Perm(perm))),
        "exposure": None,
        "path": request.url.path,
    }
    if auth is not None and "exposure" not in values and auth.via == "web":
        limits = request.app.state.web.wellness
        base["exposure"] = exposure.status(request.app.state.haechi, auth.user.id, limits)
    base.update(values)
    return base


def t_of(request: Request) -> Translator:
    """The translator of the request's language, for a sentence a view builds itself."""
    return Translator(language(request))


def refusal(request: Request, exc: BaseException) -> str:
    """A service's refusal (``HaechiError``) in the request's language: the sentence was
    raised in English with its template kept (``haechi.i18n.t_``) and is translated only
    now, for this reader. Shown like any other text (escaped, invisible characters shown)."""
    return localize(exc, language(request))


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = ENV.get_template(template).render(context(request, **values))
    return HTMLResponse(html, status_code=status)
