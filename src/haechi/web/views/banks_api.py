"""The banks' JSON API, beside their pages (:mod:`haechi.web.views.banks`): the same work
with the same permissions, acting as the token's (or session's) person.

A POST that changes a bank takes an ``Idempotency-Key`` header (16 to 64 letters, digits,
``-`` and ``_``): a retry with the same key changes nothing and answers ``"repeat": true``
with the location of what the first one did. A list is imported as
``multipart/form-data`` (``file``, ``format``, ``kind``, ``skip_bad``, ``labels``), and
pictures or videos are hashed into a bank the same way (``files``, ``labels``, ``note``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from haechi.auth.roles import Perm
from haechi.jobs import once as once_store
from haechi.web.auth import current, haechi, needs
from haechi.web.views import banks

router = APIRouter(prefix="/api/banks", tags=["api"])
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


def keyed(
    request: Request, key: str | None, action: str, work: Callable[[], tuple[str, dict[str, Any]]]
) -> JSONResponse:
    """``work`` (returning where its result is and what it did) once per key."""
    if key is None:
        location, done = work()
        return JSONResponse({**done, "location": location, "repeat": False}, status_code=201)
    app, auth = haechi(request), current(request)
    claim = once_store.claim(app, auth.user.id, key, action)
    if not claim.fresh:
        return JSONResponse({"location": claim.result, "repeat": True},
                            status_code=200 if claim.result else 409)  # fmt: skip
    try:
        location, done = work()
    except BaseException:
        once_store.release(app, auth.user.id, key)
        raise
    once_store.done(app, auth.user.id, key, location)
    return JSONResponse({**done, "location": location, "repeat": False}, status_code=201)


def _api_url(name: str) -> str:
    return "/api" + banks.bank_url(name)


def _bank(info: Any) -> dict[str, Any]:
    return dict(vars(info))


@router.get("", dependencies=[needs(Perm.MATCHES)])
def api_banks(request: Request) -> list[dict[str, Any]]:
    from haechi.match.banks import list_banks

    return [_bank(b) for b in list_banks(haechi(request))]


class CreateBody(BaseModel):
    name: str = Field(max_length=128)
    description: str = Field(default="", max_length=500)
    origin: str = Field(default="", max_length=500)
    notes: str = Field(default="", max_length=2000)
    labels: list[str] = Field(default_factory=list, max_length=50)


@router.post("", dependencies=[needs(Perm.REVIEW)])
def api_create(request: Request, body: CreateBody, key: Key = None) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        info = banks.create(request, body.name, description=body.description,
                            origin=body.origin, notes=body.notes, labels=body.labels)  # fmt: skip
        return _api_url(info.name), {"bank": _bank(info)}

    return keyed(request, key, "bank_create", work)


@router.get("/{name}", dependencies=[needs(Perm.MATCHES)])
def api_describe(request: Request, name: str, offset: int = 0) -> dict[str, Any]:
    shown = banks.describe(request, name, offset)
    return {"bank": _bank(shown["bank"]), "offset": shown["offset"],
            "items": [asdict(i) for i in shown["items"]],
            "matches": [m.as_dict() for m in shown["matches"]]}  # fmt: skip


class DeleteBody(BaseModel):
    reason: str = Field(max_length=500)


@router.post("/{name}/delete", dependencies=[needs(Perm.REVIEW)])
def api_delete(request: Request, name: str, body: DeleteBody, key: Key = None) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        return "/api/banks", {"deleted": _bank(banks.delete(request, name, body.reason))}

    return keyed(request, key, "bank_delete", work)


class HashesBody(BaseModel):
    hashes: list[str] = Field(max_length=banks.MAX_HASHES, description="kind:value")
    labels: list[str] = Field(default_factory=list, max_length=50)
    note: str = Field(default="", max_length=2000)


@router.post("/{name}/hashes", dependencies=[needs(Perm.REVIEW)])
def api_hashes(request: Request, name: str, body: HashesBody, key: Key = None) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        report = banks.add_typed(request, name, body.hashes, labels=body.labels, note=body.note)
        return _api_url(report.bank), report.as_dict()

    return keyed(request, key, "bank_add", work)


@router.post("/{name}/files", dependencies=[needs(Perm.REVIEW)])
async def api_files(
    request: Request,
    name: str,
    key: Key = None,
) -> JSONResponse:
    """multipart/form-data: ``files`` (pictures or videos, hashed and not kept), ``labels``,
    ``note``; as ``haechi bank add <files>``. Read in memory (an upload path)."""
    uploaded, form = await banks.read_uploads(request)
    labels, note = form.get("labels"), form.get("note")

    def work() -> tuple[str, dict[str, Any]]:
        report = banks.add_uploaded(request, name, uploaded, labels=banks.split_words(labels),
                                    note=note)  # fmt: skip
        return _api_url(report.bank), report.as_dict()

    return await run_in_threadpool(keyed, request, key, "bank_add_files", work)


@router.post("/{name}/import", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
async def api_import(
    request: Request,
    name: str,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=16)] = "auto",
    kind: Annotated[str, Form(max_length=16)] = "",
    skip_bad: Annotated[bool, Form()] = False,
    labels: Annotated[str, Form(max_length=2000)] = "",
    key: Key = None,
) -> JSONResponse:
    data = await file.read(banks.MAX_LIST_BYTES + 1)

    def work() -> tuple[str, dict[str, Any]]:
        report = banks.import_upload(request, name, file.filename or "", data, fmt=format,
                                     kind=kind, skip_bad=skip_bad,
                                     labels=banks.split_words(labels))  # fmt: skip
        return _api_url(report.bank), report.as_dict()

    return await run_in_threadpool(keyed, request, key, "bank_import", work)


@router.get("/{name}/export", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_export(request: Request, name: str, format: str = "te", kind: str = "") -> Response:
    return banks.export_list(request, name, format, kind)
