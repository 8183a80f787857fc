"""Multipart form bodies read in memory: reference photos never touch the disk unencrypted.

Starlette's own form parser spools every file over 1 MB to a temporary file. A victim's
reference photo must not lie in ``/tmp`` in clear, so the routes that take photos
(``security.is_upload``: reference photos and a bank's pictures, whose body size the
middleware bounds) read the body here with
python-multipart's streaming parser into bytes, bounded per file and in number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from haechi.domain import UsageError
from haechi.i18n import t_

MAX_FIELDS = 50
MAX_FIELD_BYTES = 4096


@dataclass
class UploadedFile:
    name: str  # the file name the browser gave (for messages only)
    data: bytes


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return (self.fields.get(name) or [default])[0]

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def read_form(
    request: Request, *, max_files: int, max_file_bytes: int, photos: bool = True
) -> Form:
    """The form in the request body; a ``UsageError`` sentence for anything out of bounds
    (about photos, or with ``photos=False`` about files: a bank's pictures and videos)."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UsageError(t_("Send the form as multipart/form-data."))
    form = Form()
    headers: dict[bytes, bytes] = {}
    field_name: list[bytes] = []
    field_value: list[bytes] = []
    parts: list[tuple[str, str | None, bytearray]] = []

    def on_part_begin() -> None:
        headers.clear()
        parts.append(("", None, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        field_value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field_name).lower()] = b"".join(field_value)
        field_name.clear()
        field_value.clear()

    def on_headers_finished() -> None:
        _disp, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        shown = filename.decode("utf-8", "replace") if filename is not None else None
        parts[-1] = (name, shown, parts[-1][2])
        if filename is not None:
            count = sum(1 for p in parts if p[1] is not None)
            if count > max_files:
                raise UsageError(
                    t_("At most {max_files} photos at a time.", max_files=max_files)
                    if photos
                    else t_("At most {max_files} files at a time.", max_files=max_files)
                )
        elif len(parts) > MAX_FIELDS:
            raise UsageError(t_("The form has too many fields."))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        name, filename, buf = parts[-1]
        buf += data[start:end]
        limit = max_file_bytes if filename is not None else MAX_FIELD_BYTES
        if len(buf) > limit:
            if filename is not None:
                mb = limit // (1024 * 1024)
                if not photos:
                    raise UsageError(
                        t_("{name} is larger than {mb} MB.", name=filename or t_("A file"), mb=mb)
                    )
                raise UsageError(
                    t_(
                        "{name} is larger than {mb} MB: use a smaller photo (a "
                        "face needs no more than a few hundred pixels).",
                        name=filename or t_("A photo"),
                        mb=mb,
                    )
                )
            raise UsageError(
                t_("The field {name!r} is longer than {limit} bytes.", name=name, limit=limit)
            )

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    async for chunk in request.stream():
        parser.write(chunk)
    parser.finalize()
    for name, filename, buf in parts:
        if filename is None:
            form.fields.setdefault(name, []).append(bytes(buf).decode("utf-8", "replace"))
        elif filename or buf:  # an empty file input sends a part with no name and no bytes
            form.files.setdefault(name, []).append(UploadedFile(filename[:200], bytes(buf)))
    return form
