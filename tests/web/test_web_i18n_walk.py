"""Every page in Korean, for every role: no catalogue key is missing, no raw value the
software names (a chat type, a status, an event type) and no untranslated English reaches
the page; and no link on any page leads a role to a "no permission" page.

User content (message text, names, titles, file names) is marked ``translate="no"`` in the
templates, which is also how browsers' translators know to leave it alone; codes, hashes
and ids are in <code>. Everything else a Korean reader sees must be Korean, and every
moment is shown in UTC with KST beside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.conftest import _PG_SKIP
from tests.exchange.servers import instance
from tests.web.conftest import (
    ROLE_USERS,
    add_role_users,
    bank_one_picture,
    client_of,
    load_demo,
    log_in,
    previewed_images,
)

from haechi.app import App
from haechi.auth.roles import Role
from haechi.cases.acting import acting_as
from haechi.web import i18n
from haechi.web.app import api_routes

# Words a Korean page may show in Latin letters: names of things, units, formats.
ALLOWED = {
    "haechi", "utc", "kst", "pdq", "vpdq", "md5", "sha", "csv", "api", "json", "jsonl", "html",
    "pdf", "url", "c2pa", "ed25519", "ms", "kb", "mb", "gb", "id", "ok", "eml", "txt", "zip",
    "htmx", "dsa", "kcsc", "dscvsc", "iptc", "exif", "xmp", "ko", "en", "fr", "yyyy", "mm",
    "dd", "jpeg", "png", "webp", "mp4", "hxp", "wacz", "ai", "tsa", "sms", "cli", "gif",
    "warc", "pem", "csrf", "ton", "threatexchange",
}  # fmt: skip
# <title>: a page named after a chat or a node carries that name (user content).
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "textarea", "svg", "title"}
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
# A moment shown to the reader; each is UTC with KST beside it (``2024-08-06 08:30 UTC ·
# 17:30 KST``, the KST date too when it differs), or that KST part itself.
MOMENT = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?")
WITH_KST = re.compile(r" UTC · (?:\d{4}-\d\d-\d\d )?\d\d:\d\d KST")


class _Visible(HTMLParser):
    """The text a reader sees, leaving out code, scripts and anything translate="no"."""

    VOID: ClassVar[set[str]] = {
        "br",
        "img",
        "input",
        "meta",
        "link",
        "hr",
        "source",
        "wbr",
        "col",
        "area",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: hidden from the check
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag in self.VOID:
            return
        hidden = (
            tag in SKIP_TAGS or a.get("translate") == "no" or (bool(self.stack) and self.stack[-1])
        )
        self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def _prepare(app: App) -> dict[str, str]:
    """Decisions, tags, a case with a takedown notice and a job, and a bank match, so the
    pages show them; returns the ids."""
    from haechi.auth.types import Actor
    from haechi.cases.bulk import add_targets
    from haechi.cases.notices.service import draft_notice
    from haechi.cases.service import create_case
    from haechi.jobs import store as jobs
    from haechi.review.decisions import categorise
    from haechi.review.tags import add_tag

    actor = acting_as(app, "u_investigator (web)")
    sha = previewed_images(app)[0]
    case = create_case(actor, "walk")
    add_targets(actor, case.ref, ["message:1", f"file:{sha}"])
    categorise(actor, sha, "synthetic_sexual")
    add_tag(actor, ["message:1", f"file:{sha}"], "to-check")
    notice = draft_notice(actor, case.ref, "telegram_abuse", "ko").notice
    job = jobs.submit(
        app, "reupload_scan", {"case": case.ref},
        Actor(None, ROLE_USERS[Role.INVESTIGATOR], Role.INVESTIGATOR.value, via="web"),
    )  # fmt: skip
    with app.db.connect() as conn:
        chat = conn.execute(text("SELECT chat_id FROM messages WHERE id = 1")).scalar()
    return {
        "chat_id": str(chat), "message_pk": "1", "sha256": sha, "case": case.ref,
        "table": "summary", "notice_id": str(notice.id), "job_id": str(job),
    }  # fmt: skip


def _around(text: str, word: str, width: int = 40) -> str:
    """The word where a reader sees it first, with some text either side."""
    at = re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z_])", text)
    if at is None:
        return word
    start, end = max(0, at.start() - width), at.end() + width
    return f"{word}: …{' '.join(text[start:end].split())}…"


def _pages(client: TestClient, ids: dict[str, str]) -> list[str]:
    routes = [r for r in api_routes(client.app) if isinstance(r, APIRoute)]  # type: ignore[arg-type]
    out = []
    for route in routes:
        if "GET" not in route.methods or route.path.startswith(("/api", "/static")):
            continue
        if route.path.endswith((".csv", ".json", "/preview", "/original", "/result", "/messages")):
            continue
        if "{fmt}" in route.path or route.path in ("/logout", "/login/reset"):
            continue
        params = re.findall(r"\{(\w+)\}", route.path)
        if any(p not in ids for p in params):
            continue  # another capability's page needing ids this walk does not make
        path = route.path
        for p in params:
            path = path.replace("{" + p + "}", ids[p])
        out.append(path)
    return sorted(set(out))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[App, dict[str, str]]]:
    """One data directory per back end for the module (making it is most of the tests'
    time; the walks only read pages): the demo data (``loaded``), one account per role,
    a bank match (``banked``) and what ``_prepare`` adds; with the ids."""
    if request.param == "postgresql" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    root = tmp_path_factory.mktemp(f"walk-{request.param}")
    with instance(root, "home", request.param) as app, pytest.MonkeyPatch.context() as patch:
        load_demo(app, root, patch)
        add_role_users(app)
        bank_one_picture(app)
        ids = _prepare(app)
        extra = ["/triage?show=all", "/triage?show=synthetic_sexual", "/graph?full=1",
                 f"/graph/node?id=chat:{ids['chat_id']}", "/search?q=coffee",
                 "/matches/groups", f"/media?chat={ids['chat_id']}"]  # fmt: skip
        ids["extra"] = "|".join(extra)
        yield app, ids


@pytest.fixture
def loaded(walked: tuple[App, dict[str, str]]) -> App:
    return walked[0]


@pytest.fixture
def walk(walked: tuple[App, dict[str, str]]) -> dict[str, str]:
    return walked[1]


def _korean_problems(web: TestClient, walk: dict[str, str], role: Role) -> list[str]:
    log_in(web, ROLE_USERS[role])
    web.cookies.set(i18n.COOKIE, "ko")
    pages = _pages(web, walk) + walk["extra"].split("|")
    problems: list[str] = []
    seen = 0
    for path in pages:
        i18n.MISSING.clear()
        r = web.get(path)
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        seen += 1
        if i18n.MISSING:
            problems.append(f"{role}: {path}: no translation for {sorted(i18n.MISSING)}")
        parser = _Visible()
        parser.feed(r.text)
        shown = " ".join(parser.parts)
        words = {w for w in WORD.findall(shown) if w.lower() not in ALLOWED}
        if words:
            where = "; ".join(_around(shown, w) for w in sorted(words)[:12])
            problems.append(f"{role}: {path}: English or raw values: {where}")
        for moment in MOMENT.finditer(shown):
            after = shown[moment.end() :]
            if not (WITH_KST.match(after) or after.startswith(" KST")):
                near = " ".join(shown[moment.start() : moment.end() + 30].split())
                problems.append(f"{role}: {path}: a time without KST beside UTC: {near}…")
    if seen < 5:
        problems.append(f"{role}: only {seen} pages answered")
    return problems


def test_every_page_in_korean(loaded: App, walk: dict[str, str]) -> None:
    """Every role walks the same data directory in turn, each in a client of its own
    (making the directory is most of the test's time)."""
    problems: list[str] = []
    for role in Role:
        with client_of(loaded) as client:
            problems += _korean_problems(client, walk, role)
    assert not problems, "\n".join(problems)


def _internal(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith("/static") or parts.path.endswith((".csv", "/original")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _forbidden_links(web: TestClient, walk: dict[str, str], role: Role) -> list[str]:
    log_in(web, ROLE_USERS[role])
    start = ["/", *_pages(web, walk), *walk["extra"].split("|")]
    seen: set[str] = set()
    bad: list[str] = []
    queue = list(start)
    while queue and len(seen) < 400:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = web.get(path, follow_redirects=True)
        if r.status_code == 403:
            bad.append(path)
            continue
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        parser = _Visible()
        parser.feed(r.text)
        for href in parser.links:
            found = _internal(href)
            if found and found not in seen:
                queue.append(found)
    # Pages listed in the navigation may refuse a role only if they are not linked to it.
    return [p for p in bad if p not in start]


def test_no_link_leads_to_a_no_permission_page(loaded: App, walk: dict[str, str]) -> None:
    linked_bad = {}
    for role in Role:
        with client_of(loaded) as client:
            found = _forbidden_links(client, walk, role)
        if found:
            linked_bad[role] = found
    assert not linked_bad, linked_bad


def test_the_new_routes_are_walked_by_the_route_tests(web: TestClient) -> None:
    """The access tests walk every route; these are the ones issue 13 added here."""
    paths = {r.path for r in api_routes(web.app)}  # type: ignore[arg-type]
    assert {
        "/collect/case", "/collect/tag", "/collect/untag", "/triage/{sha256}/decide",
        "/matches/{match_id}/review", "/matches/{match_id}/bank", "/banks/from-confirmed",
        "/graph/node", "/audit.csv",
    } <= paths  # fmt: skip


def test_statistics_charts_and_period_in_korean(web: TestClient, loaded: App) -> None:
    """Chart titles and bar labels are pictures (SVG): checked inside them."""
    import base64

    log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    web.cookies.set(i18n.COOKIE, "ko")
    page = web.get("/stats")
    assert page.status_code == 200
    assert re.search(r"\d{4}년 1월 1일 – \d{4}년 \d+월 \d+일 \(한국 시간\)", page.text)
    charts = [
        base64.b64decode(uri).decode("utf-8")
        for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page.text)
    ]
    assert charts
    joined = "".join(charts)
    assert "월별 발생 건수" in joined and "연령대별 피해자" in joined and "14세 미만" in joined
    assert "Cases per month" not in joined and "under 14" not in joined
