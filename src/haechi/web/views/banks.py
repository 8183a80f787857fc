"""Banks of known items, each on its own page: what ``haechi bank create``, ``describe``,
``delete``, ``import``, ``export``, ``add --hash`` and ``add <files>`` do, through the same services
(``haechi.match.banks``, ``bank_sources``, ``lists``), acting as the logged-in person
(custody events name them) and on the audit trail (``bank_change``; a download is an
``export``). The JSON API is :mod:`haechi.web.views.banks_api`.

Nothing here is a picture: a bank holds hashes, its matches are listed by hash kind,
distance and the stored file's SHA-256. Who does what: ``matches.read`` sees the banks,
``review.write`` creates a bank, types hashes into it, hashes pictures and videos into it
(the files are hashed and deleted, as by the command line) and deletes it (with a reason, kept in
the custody log), ``exchange.manage`` imports a partner's list and writes a bank as one.
An uploaded list is untrusted input: bounded in size, written to a private temporary folder
and read by the same parsers as the command line's, whose refusal is one sentence.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError, UsageError
from haechi.i18n import t_
from haechi.services import matches
from haechi.web.actions import acting, audited, once
from haechi.web.auth import current, haechi, needs
from haechi.web.render import refusal, render
from haechi.web.uploads import Form as UploadForm
from haechi.web.uploads import read_form
from haechi.web.views.capabilities import unavailable
from haechi.web.views.matches import BANK_CHANGE

router = APIRouter()
ITEMS_SHOWN = 50  # items a page shows (``?offset=`` pages on)
MATCHES_SHOWN = 50
MAX_LIST_BYTES = 960 * 1024  # an uploaded list (the server takes form bodies up to 1 MB)
MAX_HASHES = 20  # typed hashes of one item
EXTENSION = {"te": "txt", "te-csv": "csv", "hma": "te", "stopncii": "json", "vics": "json"}
SUMMARY = ("added", "duplicates", "skipped", "withdrawn", "matched")


def split_words(text: str) -> list[str]:
    """Labels or hashes typed in one field, separated by spaces, commas or new lines."""
    return [w for w in re.split(r"[\s,]+", text) if w]


# -- the work, shared by the pages and the API ---------------------------------------------
def create(
    request: Request, name: str, *, description: str = "", origin: str = "", notes: str = "",
    labels: Sequence[str] = (),
) -> Any:  # fmt: skip
    """``haechi bank create`` as the person; audited."""
    from haechi.match.banks import create_bank

    info = create_bank(acting(request), name, description=description or None,
                       origin=origin or None, notes=notes or None,
                       labels=list(labels)[:50])  # fmt: skip
    audited(request, BANK_CHANGE, "bank_create", f"bank:{info.name}", id=info.id)
    return info


def describe(request: Request, name: str, offset: int = 0) -> dict[str, Any]:
    """``haechi bank describe``: the bank, a page of its items, its latest matches."""
    from haechi.match.banks import bank_items, get_bank
    from haechi.match.lookup import list_matches

    app = haechi(request)
    info = get_bank(app, name)
    offset = max(0, min(offset, info.items))
    return {
        "bank": info,
        "items": bank_items(app, info.name, limit=ITEMS_SHOWN, offset=offset),
        "matches": list_matches(app, bank=info.name, limit=MATCHES_SHOWN),
        "offset": offset,
    }


def delete(request: Request, name: str, reason: str) -> Any:
    """``haechi bank delete`` as the person, with the reason the custody log keeps."""
    from haechi.match.banks import delete_bank

    reason = reason.strip()
    if not reason:
        raise UsageError(t_("Give the reason for deleting the bank; the custody log keeps it."))
    info = delete_bank(acting(request), name, reason=reason)
    audited(request, BANK_CHANGE, "bank_delete", f"bank:{info.name}", items=info.items,
            reason=reason)  # fmt: skip
    return info


def add_typed(
    request: Request, name: str, hashes: Sequence[str], *, labels: Sequence[str] = (),
    note: str = "",
) -> Any:  # fmt: skip
    """``haechi bank add --hash``: one item of the typed ``kind:value`` hashes."""
    from haechi.match.bank_sources import add_hashes, parse_hash

    if len(hashes) > MAX_HASHES:
        raise UsageError(
            t_("One item holds at most {n} hashes; add the others as items of their own.",
               n=MAX_HASHES)
        )  # fmt: skip
    report = add_hashes(acting(request), name, [parse_hash(h) for h in hashes],
                        labels=list(labels)[:50], notes=note or None)  # fmt: skip
    audited(request, BANK_CHANGE, "bank_add", f"bank:{report.bank}", added=report.items_added,
            duplicates=report.duplicates, signals=report.signals_added)  # fmt: skip
    return report


MAX_FILES = 10  # files hashed into a bank at once
# An upload path (security.is_upload): the body is read in memory, never spooled to disk,
# under the server's upload limit (32 MB by default), each file and all of them bounded.
MB = 1024 * 1024
MAX_FILE_BYTES = 12 * MB
MAX_FILES_BYTES = 30 * MB
HASHED_KINDS = ("image", "animation", "video")  # what gets a PDQ or vPDQ


def add_uploaded(
    request: Request, name: str, files: Sequence[tuple[str, bytes]], *,
    labels: Sequence[str] = (), note: str = "",
) -> Any:  # fmt: skip
    """``haechi bank add <files>`` of uploaded pictures and videos, as the person: the same
    service (``bank_sources.add_files``) hashes them (md5, SHA-256, PDQ with its variants
    and regions, or vPDQ) and keeps only the hashes; the uploads are written to a private
    folder of the data directory's scratch space for the hashing and deleted with it.
    The same file again adds nothing (its hashes are in the bank already)."""
    from haechi.analyze.sniff import HEAD_BYTES, sniff
    from haechi.match.bank_sources import add_files
    from haechi.match.banks import get_bank

    files = [(n, d) for n, d in files if n or d]  # an empty file input sends an empty part
    if not files:
        raise UsageError(t_("Choose the pictures or videos to hash into the bank."))
    if len(files) > MAX_FILES:
        raise UsageError(
            t_("At most {n} files at a time; add more with haechi bank add on the server.",
               n=MAX_FILES)
        )  # fmt: skip
    if sum(len(d) for _n, d in files) > MAX_FILES_BYTES:
        raise UsageError(
            t_("The files are larger than {mb} MB together; hash larger files with haechi "
               "bank add on the server.", mb=MAX_FILES_BYTES // MB)
        )  # fmt: skip
    for filename, data in files:
        if str(sniff(data[:HEAD_BYTES])[0]) not in HASHED_KINDS:
            raise UsageError(
                t_("{name} is not a picture or a video: only pictures and videos are hashed "
                   "into a bank here.", name=filename[:100] or t_("A file"))
            )  # fmt: skip
    app = haechi(request)
    get_bank(app, name)  # refuse before writing anything
    app.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="haechi-bank-", dir=app.settings.tmp_dir) as folder:
        paths: list[Path] = []
        for n, (filename, data) in enumerate(files, 1):
            path = Path(folder) / _safe_name(filename, f"file-{n}")
            if path in paths:
                path = path.with_name(f"{n}-{path.name}")
            path.write_bytes(data)
            paths.append(path)
        report = add_files(acting(request), name, paths, labels=list(labels)[:50],
                           notes=note or None)  # fmt: skip
    audited(request, BANK_CHANGE, "bank_add_files", f"bank:{report.bank}",
            files=[p.name for p in paths],
            sha256=[hashlib.sha256(d).hexdigest() for _n, d in files],
            added=report.items_added, duplicates=report.duplicates,
            signals=report.signals_added)  # fmt: skip
    return report


def _safe_name(name: str, default: str = "list.txt") -> str:
    base = re.sub(r"[^\w.+-]", "_", Path(name.replace("\\", "/")).name, flags=re.ASCII)
    return base.lstrip(".")[:100] or default


def import_upload(
    request: Request, name: str, filename: str, data: bytes, *, fmt: str = "auto",
    kind: str = "", skip_bad: bool = False, labels: Sequence[str] = (),
) -> Any:  # fmt: skip
    """``haechi bank import`` of an uploaded list, as the person; audited."""
    from haechi.match import formats
    from haechi.match.banks import get_bank
    from haechi.match.lists import import_list

    if fmt != "auto" and fmt not in formats.FORMATS:
        raise UsageError(
            t_(
                "Choose the list's format: auto or one of {known}.",
                known=", ".join(formats.FORMATS),
            )
        )
    if not data:
        raise UsageError(t_("Choose the list file to import; the one sent is empty."))
    if len(data) > MAX_LIST_BYTES:
        raise UsageError(
            t_("The list is larger than {kb} KB; import larger lists with haechi bank import.",
               kb=MAX_LIST_BYTES // 1024)
        )  # fmt: skip
    get_bank(haechi(request), name)  # refuse before writing anything
    with tempfile.TemporaryDirectory(prefix="haechi-list-") as folder:
        path = Path(folder) / _safe_name(filename)
        path.write_bytes(data)
        report = import_list(acting(request), name, path, fmt=fmt, skip_bad=skip_bad,
                             kind=kind or None, labels=list(labels)[:50])  # fmt: skip
    audited(request, BANK_CHANGE, "bank_import", f"bank:{report.bank}", file=path.name,
            sha256=hashlib.sha256(data).hexdigest(), format=fmt, added=report.items_added,
            duplicates=report.duplicates, skipped=len(report.skipped))  # fmt: skip
    return report


def export_list(request: Request, name: str, fmt: str, kind: str = "") -> Response:
    """``haechi bank export`` as a download, recorded as the command line records it: one
    signed ``export`` custody event on ``bank:<id>`` with the list's SHA-256, format, items
    and where it went (``download:<name>``), here the custody event of the person's
    ``export`` audit entry, so the download is one audit entry and one custody event, not
    the bank's event beside the audit entry's."""
    from haechi.match import formats
    from haechi.match.banks import bank_items, get_bank

    if fmt not in formats.WRITABLE:
        raise UsageError(
            t_("A bank is written as one of {known}, not {fmt}.",
               known=", ".join(formats.WRITABLE), fmt=repr(fmt[:20]))
        )  # fmt: skip
    app = haechi(request)
    info = get_bank(app, name)
    filename = f"bank-{_safe_name(info.name)}.{fmt}.{EXTENSION[fmt]}"
    items = bank_items(app, info.name)
    text = io.StringIO(newline="")
    counts = formats.write(text, fmt, items, bank=info.name, kind=kind or None)
    body = text.getvalue().encode("utf-8")
    # What export_bank records for the command line, with the download's name for the file.
    sha = hashlib.sha256(body).hexdigest()
    result = {"bank": info.name, "format": fmt, "file": f"download:{filename}", "sha256": sha,
              "items": len(items), **counts}  # fmt: skip
    audit.record(app, current(request).actor, audit.EXPORT, f"bank:{info.id}",
                 {"kind": "bank_list", "name": filename, **result})  # fmt: skip
    media = "application/json" if EXTENSION[fmt] == "json" else "text/plain; charset=utf-8"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''"
                               f"{quote(filename)}",
        "Cache-Control": "no-store",
    })  # fmt: skip


def summary_of(report: Any) -> dict[str, int]:
    return {"added": report.items_added, "duplicates": report.duplicates,
            "skipped": len(report.skipped), "withdrawn": report.withdrawn,
            "matched": report.matches_found}  # fmt: skip


# -- pages ---------------------------------------------------------------------------------
def bank_url(name: str, **query: int) -> str:
    url = "/banks/" + quote(name, safe="")
    url = f"{url}?{urlencode(query)}" if query else url
    return url if len(url) <= 255 else "/banks"  # the once-store keeps 255 characters


def _list_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    return render(request, "banks.html", status=status, banks=matches.banks(haechi(request)),
                  error=error)  # fmt: skip


def _bank_page(
    request: Request, name: str, *, status: int = 200, error: str | None = None,
    offset: int = 0, done: dict[str, int] | None = None,
) -> Response:  # fmt: skip
    from haechi.match import formats

    try:
        shown = describe(request, name, offset)
    except HaechiError as exc:
        return _list_page(request, status=404 if error is None else status,
                          error=error or refusal(request, exc))  # fmt: skip
    return render(request, "bank.html", status=status, error=error, done=done,
                  readable=formats.FORMATS, writable=formats.WRITABLE,
                  shown_items=ITEMS_SHOWN, max_files=MAX_FILES,
                  max_files_mb=MAX_FILES_BYTES // MB, **shown)  # fmt: skip


def _on_bank(request: Request, name: str, work: Callable[[], Response]) -> Response:
    """Run a bank action; a refusal shows the bank's page with the sentence (400)."""
    if not matches.available():
        return unavailable(request, "matches")
    try:
        return work()
    except HaechiError as exc:
        return _bank_page(request, name, status=400, error=refusal(request, exc))


@router.get("/banks", dependencies=[needs(Perm.MATCHES)])
def banks_page(request: Request) -> Response:
    if not matches.available():
        return unavailable(request, "matches")
    return _list_page(request)


@router.post("/banks", dependencies=[needs(Perm.REVIEW)])
def create_form(
    request: Request,
    name: Annotated[str, Form(max_length=128)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    origin: Annotated[str, Form(max_length=500)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    labels: Annotated[str, Form(max_length=2000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if not matches.available():
        return unavailable(request, "matches")

    def work() -> str:
        made = create(request, name, description=description, origin=origin, notes=notes,
                      labels=split_words(labels))  # fmt: skip
        return bank_url(made.name)

    try:
        return once(request, key, "bank_create", work)
    except HaechiError as exc:
        return _list_page(request, status=400, error=refusal(request, exc))


@router.get("/banks/{name}", dependencies=[needs(Perm.MATCHES)])
def bank_page(request: Request, name: str, offset: int = 0) -> Response:
    if not matches.available():
        return unavailable(request, "matches")
    done = {k: int(v) for k in SUMMARY if (v := request.query_params.get(k, "")).isdigit()}
    return _bank_page(request, name, offset=offset, done=done or None)


@router.post("/banks/{name}/delete", dependencies=[needs(Perm.REVIEW)])
def delete_form(
    request: Request,
    name: str,
    reason: Annotated[str, Form(max_length=500)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def work() -> str:
        delete(request, name, reason)
        return "/banks"

    return _on_bank(request, name, lambda: once(request, key, "bank_delete", work))


@router.post("/banks/{name}/hashes", dependencies=[needs(Perm.REVIEW)])
def hashes_form(
    request: Request,
    name: str,
    hashes: Annotated[str, Form(max_length=4000)] = "",
    labels: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def work() -> str:
        report = add_typed(request, name, split_words(hashes), labels=split_words(labels),
                           note=note)  # fmt: skip
        return bank_url(report.bank, **summary_of(report))

    return _on_bank(request, name, lambda: once(request, key, "bank_add", work))


async def read_uploads(request: Request) -> tuple[list[tuple[str, bytes]], UploadForm]:
    """The uploaded files' names and bytes and the form, read in memory (never spooled to
    disk) and bounded in number and size per file (a ``UsageError`` sentence)."""
    form = await read_form(
        request, max_files=MAX_FILES, max_file_bytes=MAX_FILE_BYTES, photos=False
    )
    return [(f.name, f.data) for f in form.files.get("files", [])], form


@router.post("/banks/{name}/files", dependencies=[needs(Perm.REVIEW)])
async def files_form(request: Request, name: str) -> Response:
    # An upload path: the CSRF token came in the header (the form is sent by htmx) and the
    # body is read here, not by the form parser, which would spool the files to disk.
    try:
        uploaded, form = await read_uploads(request)
    except UsageError as exc:

        def refuse(error: UsageError = exc) -> Response:
            raise error

        return await run_in_threadpool(_on_bank, request, name, refuse)
    labels, note, key = form.get("labels"), form.get("note"), form.get("key")

    def work() -> str:
        report = add_uploaded(request, name, uploaded, labels=split_words(labels), note=note)
        return bank_url(report.bank, **summary_of(report))

    return await run_in_threadpool(
        _on_bank, request, name, lambda: once(request, key, "bank_add_files", work)
    )


@router.post("/banks/{name}/import", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
async def import_form(
    request: Request,
    name: str,
    file: Annotated[UploadFile | None, File()] = None,
    format: Annotated[str, Form(max_length=16)] = "auto",
    kind: Annotated[str, Form(max_length=16)] = "",
    skip_bad: Annotated[str, Form(max_length=8)] = "",
    labels: Annotated[str, Form(max_length=2000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    data = await file.read(MAX_LIST_BYTES + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""

    def work() -> str:
        report = import_upload(request, name, filename, data, fmt=format, kind=kind,
                               skip_bad=skip_bad == "1", labels=split_words(labels))  # fmt: skip
        return bank_url(report.bank, **summary_of(report))

    return await run_in_threadpool(
        _on_bank, request, name, lambda: once(request, key, "bank_import", work)
    )


@router.get("/banks/{name}/export", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def export_download(request: Request, name: str, format: str = "te", kind: str = "") -> Response:
    return _on_bank(request, name, lambda: export_list(request, name, format, kind))
