"""Write the capture's WARC (ISO 28500, WARC/1.1) with warcio, and its CDXJ index lines.

One gzip member per record (what replay tools seek to), a ``warcinfo`` record first, then a
``request``/``response`` pair per exchange with its WARC-Date, WARC-IP-Address and SHA-256
block and payload digests, and ``resource`` records for what haechi made itself (the
screenshot). While writing, each response's offset and length go into a CDXJ line, so the
WACZ needs no second pass over the WARC.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

import surt
from warcio.warcwriter import WARCWriter

from haechi import __version__
from haechi.collect.web_capture.fetch import Exchange
from haechi.store.custody import utc_now

WARC_NAME = "data.warc.gz"
_TRUNCATED = {"length": "length", "total": "length", "time": "time", "disconnect": "disconnect"}


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 digests (SHA-1, its default, is no longer for courts)."""

    @staticmethod
    def _create_digester() -> Any:
        from warcio.utils import Digester

        return Digester("sha256")


def warc_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp14(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


@dataclass
class IndexLine:
    key: str  # SURT
    ts: str  # 14 digits
    data: dict[str, Any]

    def text(self) -> str:
        return f"{self.key} {self.ts} {json.dumps(self.data, sort_keys=True)}"


@dataclass
class WarcBuilder:
    path: Path
    index: list[IndexLine] = field(default_factory=list)
    records: int = 0

    def __post_init__(self) -> None:
        self._fh: BinaryIO = self.path.open("xb")
        self._writer = _Sha256Writer(self._fh, gzip=True, warc_version="1.1")

    def warcinfo(self, info: dict[str, str]) -> None:
        record = self._writer.create_warcinfo_record(WARC_NAME, info)
        self._write(record)

    def exchange(self, ex: Exchange) -> None:
        """A request and its response; the response is indexed."""
        headers = {
            "WARC-Date": warc_date(ex.date),
            **({"WARC-IP-Address": ex.ip} if ex.ip else {}),
            **(
                {"WARC-Truncated": _TRUNCATED.get(ex.truncated, "unspecified")}
                if ex.truncated
                else {}
            ),
        }
        response = self._writer.create_warc_record(
            ex.url, "response", payload=BytesIO(ex.response), length=len(ex.response),
            warc_headers_dict=dict(headers),
        )  # fmt: skip
        request = self._writer.create_warc_record(
            ex.url, "request", payload=BytesIO(ex.request), length=len(ex.request),
            warc_headers_dict={"WARC-Date": headers["WARC-Date"]},
        )  # fmt: skip
        offset, length = self._write(response)
        self._write_concurrent(request, response)
        digest = response.rec_headers.get_header("WARC-Payload-Digest") or ""
        self._index(ex.url, ex.date, offset, length, ex.content_type, ex.status, digest, ex)

    def resource(self, uri: str, when: datetime, content_type: str, data: bytes) -> None:
        record = self._writer.create_warc_record(
            uri, "resource", payload=BytesIO(data), length=len(data),
            warc_content_type=content_type, warc_headers_dict={"WARC-Date": warc_date(when)},
        )  # fmt: skip
        offset, length = self._write(record)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self._index(uri, when, offset, length, content_type, 200, digest, None)

    def close(self) -> None:
        self._fh.flush()
        self._fh.close()

    # -- internals -------------------------------------------------------------------------
    def _write(self, record: Any) -> tuple[int, int]:
        start = self._fh.tell()
        self._writer.write_record(record)
        self.records += 1
        return start, self._fh.tell() - start

    def _write_concurrent(self, request: Any, response: Any) -> None:
        rid = response.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", rid)
        self._write(request)

    def _index(
        self,
        url: str,
        when: datetime,
        offset: int,
        length: int,
        mime: str,
        status: int,
        digest: str,
        ex: Exchange | None,
    ) -> None:
        data: dict[str, Any] = {
            "url": url,
            "mime": mime or "unk",
            "status": str(status),
            "digest": digest,
            "length": str(length),
            "offset": str(offset),
            "filename": WARC_NAME,
        }
        if ex is not None and ex.status in (301, 302, 303, 307, 308) and ex.header("location"):
            data["redirect"] = ex.header("location")
        self.index.append(IndexLine(surt_key(url), timestamp14(when), data))


def surt_key(url: str) -> str:
    if url.startswith("urn:"):
        return url
    try:
        return str(surt.surt(url))
    except Exception:  # a URL surt cannot canonicalise is indexed as it is
        return url


def warcinfo_fields(url: str, operator: str) -> dict[str, str]:
    return {
        "software": f"haechi/{__version__} (warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": url,
        "operator": operator,
        "created": utc_now(),
    }
