"""Rooms ranked by risk and the lexicon in force, as ``haechi text rooms`` and ``haechi text
lexicon`` (``haechi.analyze.text.service``): each room's score, level and every line of
its explanation, with its timeline and its node on the map; the lexicon's version, files
and counts, and an analyst's extra lexicon file imported (validated by the same function
as the command line, recorded in the custody log under the person's name, once per form).

Victim-identifying words a room's title matched are redacted as ``haechi text findings``
redacts them."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from haechi.auth.roles import Perm
from haechi.domain import HaechiError, UsageError
from haechi.i18n import t_
from haechi.web.actions import acting, audited, once
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render
from haechi.web.views.api_cases import Key, _once

router = APIRouter()
NAV = [NavItem(66, "nav.rooms", "/rooms", Perm.GRAPH)]
MAX_ROOMS = 200
MAX_LEXICON_BYTES = 256 * 1024
LEXICON_CHANGE = "lexicon_change"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,80}\.toml")
_SENSITIVE = ("victim_identifying", "victim_detail")


def room_view(row: Any) -> dict[str, Any]:
    """A room as the page and the API show it: the explanation's title words redacted
    where they identify a victim."""
    from dataclasses import asdict

    from haechi.analyze.text.service import redact

    data = asdict(row)
    lines = []
    for line in data["explanation"]:
        line = dict(line)
        if line.get("category") in _SENSITIVE and isinstance(line.get("matched"), str):
            line["matched"] = redact(line["matched"])
        lines.append(line)
    data["explanation"] = lines
    data["node"] = f"chat:{row.chat_id}"
    return data


def _rooms(request: Request, limit: int, chat: int | None) -> list[dict[str, Any]]:
    from haechi.analyze.text.service import room_ranking

    rows = room_ranking(haechi(request), limit=max(1, min(limit, MAX_ROOMS)), chat_id=chat)
    return [room_view(r) for r in rows]


@router.get("/rooms", dependencies=[needs(Perm.GRAPH)])
def rooms_page(request: Request, limit: int = 50, chat: int | None = None) -> Response:
    return render(request, "rooms.html", rooms=_rooms(request, limit, chat), chat=chat)


@router.get("/api/rooms", dependencies=[needs(Perm.GRAPH)], tags=["api"])
def api_rooms(request: Request, limit: int = 50, chat: int | None = None) -> list[dict[str, Any]]:
    return _rooms(request, limit, chat)


def _info(info: dict[str, Any]) -> dict[str, Any]:
    """The lexicon's facts with file names only (the server's paths stay on the server)."""
    shown = {k: v for k, v in info.items() if k != "imported"}
    shown["files"] = [Path(f).name for f in info.get("files", [])]
    if "imported" in info:
        shown["imported"] = Path(info["imported"]).name
    return shown


def lexicon_facts(request: Request) -> dict[str, Any]:
    from haechi.analyze.text.service import lexicon_info

    return _info(lexicon_info(haechi(request)))


async def _read_upload(upload: UploadFile | None) -> tuple[str, bytes]:
    """The uploaded file's safe name and bytes, bounded; or one sentence."""
    if upload is None or not upload.filename:
        raise UsageError(t_("Choose a lexicon file (.toml) to import."))
    name = Path(upload.filename.replace("\\", "/")).name
    if not _NAME.fullmatch(name):
        raise UsageError(
            t_(
                "{name!r} is not a lexicon file name: use letters, digits, dashes, dots or "
                "underscores, ending in .toml.",
                name=name[:80],
            )
        )
    data = await upload.read(MAX_LEXICON_BYTES + 1)
    if len(data) > MAX_LEXICON_BYTES:
        raise UsageError(
            t_("{name} is larger than {kb} KB.", name=name, kb=MAX_LEXICON_BYTES // 1024)
        )
    return name, data


def import_upload(request: Request, name: str, data: bytes) -> dict[str, Any]:
    """The file validated and imported by ``import_lexicon`` (as the person), from a
    private temporary folder; the lexicon's new facts."""
    from haechi.analyze.text.service import import_lexicon

    with tempfile.TemporaryDirectory(prefix="haechi-lexicon-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            info = _info(import_lexicon(acting(request), path))
        except (ValueError, TypeError, KeyError) as exc:  # a malformed value the loader let by
            raise UsageError(
                t_("Lexicon file {name}: a value has the wrong type.", name=name)
            ) from exc
    audited(request, LEXICON_CHANGE, "lexicon_import", f"lexicon:{name}",
            file=name, version=info["version"])  # fmt: skip
    return info


@router.get("/lexicon", dependencies=[needs(Perm.GRAPH)])
def lexicon_page(request: Request) -> Response:
    return render(request, "lexicon.html", info=lexicon_facts(request),
                  max_kb=MAX_LEXICON_BYTES // 1024)  # fmt: skip


@router.post("/lexicon", dependencies=[needs(Perm.ANALYSIS)])
async def lexicon_import(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    from starlette.concurrency import run_in_threadpool

    try:
        name, data = await _read_upload(file)
    except HaechiError as exc:
        return _refused(request, exc)

    def work() -> str:
        info = import_upload(request, name, data)
        return f"/lexicon?imported={info['imported']}"

    try:
        return await run_in_threadpool(once, request, key, "lexicon_import", work)
    except HaechiError as exc:
        return _refused(request, exc)


def _refused(request: Request, exc: HaechiError) -> Response:
    return render(request, "lexicon.html", status=400, info=lexicon_facts(request),
                  max_kb=MAX_LEXICON_BYTES // 1024, error=refusal(request, exc))  # fmt: skip


@router.get("/api/lexicon", dependencies=[needs(Perm.GRAPH)], tags=["api"])
def api_lexicon(request: Request) -> dict[str, Any]:
    return lexicon_facts(request)


@router.post("/api/lexicon", dependencies=[needs(Perm.ANALYSIS)], tags=["api"])
async def api_lexicon_import(
    request: Request, file: Annotated[UploadFile | None, File()] = None, key: Key = None
) -> JSONResponse:
    """multipart/form-data with ``file``: an analyst's lexicon (.toml); ``Idempotency-Key``
    makes a retry import nothing again."""
    from starlette.concurrency import run_in_threadpool

    name, data = await _read_upload(file)

    def work() -> str:
        return f"/api/lexicon?imported={import_upload(request, name, data)['imported']}"

    return await run_in_threadpool(_once, request, key, "lexicon_import", work)
