"""Fetch public pages and record every HTTP exchange byte for byte, for the WARC.

Plain ``http.client`` with a connection that records what it sends and a response whose
stream copies what it reads: the WARC gets the bytes that crossed the wire (status line,
headers, body, chunk framing included), as ``warcio.capture_http`` would record them, but
without patching a global class (a capture may run beside a web server's threads).

Everything a server says is untrusted: sizes are bounded (an announced ``Content-Length``
over the limit is not even read), each read has a timeout and each resource a deadline (a
server that dribbles bytes), redirects are followed by hand (loops and hops to another host
are refused unless asked), and a host other than the one being captured must not resolve
to this machine or a private network (a page cannot make haechi fetch internal addresses).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from haechi import __version__
from haechi.collect.web_capture.errors import (
    BadResponse,
    BadUrl,
    ConnectFailed,
    OffHostRedirect,
    RedirectLoop,
    RefusedAddress,
    TimedOut,
    TlsFailed,
    TooLarge,
)
from haechi.i18n import t_

USER_AGENT = f"haechi/{__version__} (evidence capture; +https://github.com/haechi)"
MAX_URL = 2048
REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    page_bytes: int = 16 * 1024**2
    media_bytes: int = 50 * 1024**2
    total_bytes: int = 512 * 1024**2
    max_media: int = 200
    timeout: float = 20.0  # seconds: connect, and each read
    deadline: float = 120.0  # seconds: one whole resource
    max_redirects: int = 10


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    url: str
    date: datetime  # when the request was sent (WARC-Date)
    request: bytes
    response: bytes  # raw: status line, headers and body as read
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes  # de-chunked and content-decoded
    ip: str | None = None
    truncated: str | None = None  # WARC-Truncated reason: "length", "time", "disconnect"
    final: bool = True  # False for a redirect that was followed

    def header(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    @property
    def content_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()


def check_url(url: str) -> str:
    """A URL haechi will fetch: http(s), a host, no credentials, no control characters."""
    url = url.strip()
    if url.startswith(("t.me/", "telegram.me/")):
        url = "https://" + url
    if len(url) > MAX_URL:
        raise BadUrl(
            t_("The URL is longer than {max_url} characters.", max_url=MAX_URL), url=url[:100]
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise BadUrl(t_("A URL cannot contain spaces or control characters."), url=url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl(t_("{url!r} is not an http(s) address with a host.", url=url), url=url)
    if parts.username or parts.password:
        raise BadUrl(t_("A URL with a user name or password is refused."), url=url)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise BadUrl(t_("{url!r} has an invalid port.", url=url), url=url) from None
    return url


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class _Tee:
    """The response's socket stream, copying every byte read into ``sink``."""

    def __init__(self, fp: Any, sink: bytearray) -> None:
        self.fp = fp
        self.sink = sink

    def read(self, amt: int | None = None) -> bytes:
        data = self.fp.read(amt)
        self.sink += data
        return data

    def read1(self, amt: int = -1) -> bytes:
        data = self.fp.read1(amt)
        self.sink += data
        return data

    def readinto(self, buf: Any) -> int:
        n = self.fp.readinto(buf)
        if n:
            self.sink += memoryview(buf)[:n]
        return n

    def readline(self, limit: int = -1) -> bytes:
        line = self.fp.readline(limit)
        self.sink += line
        return line

    def close(self) -> None:
        self.fp.close()

    def flush(self) -> None:
        self.fp.flush()


class _Response(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, sink: bytearray, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = _Tee(self.fp, sink)  # type: ignore[assignment]


class _Connection(http.client.HTTPSConnection):
    """One connection to a checked address; records what it sends and receives."""

    def __init__(self, host: str, port: int, ip: str, tls: bool, timeout: float) -> None:
        context = ssl.create_default_context() if tls else None
        super().__init__(host, port, timeout=timeout, context=context)
        self.ip = ip
        self.tls = tls
        self.sent = bytearray()
        self.received = bytearray()
        received = self.received

        def response(sock: socket.socket, *args: Any, **kwargs: Any) -> _Response:
            return _Response(sock, *args, sink=received, **kwargs)

        self.response_class = response  # type: ignore[assignment]

    def connect(self) -> None:
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        if self.tls:
            assert self._context is not None  # type: ignore[attr-defined]
            sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        self.sock = sock

    def send(self, data: Any) -> None:
        if isinstance(data, bytes | bytearray):
            self.sent += data
        super().send(data)


def _is_internal(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return not addr.is_global or addr.is_multicast


def _decode(body: bytes, encoding: str | None, limit: int, url: str) -> bytes:
    """Undo a Content-Encoding, bounded (a gzip bomb stops at ``limit``)."""
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc not in ("gzip", "x-gzip", "deflate"):
        raise BadResponse(
            t_(
                "{url} was sent with the content encoding {enc!r}, which "
                "haechi cannot decode; the raw bytes are in the WARC.",
                url=url,
                enc=enc,
            ),
            url=url,
        )
    wbits = 16 + zlib.MAX_WBITS if "gzip" in enc else zlib.MAX_WBITS
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(body, limit + 1)
        if len(out) > limit:
            raise TooLarge(
                t_("{url} decompresses to more than {limit:,} bytes.", url=url, limit=limit),
                url=url,
            )
        return out
    except zlib.error as exc:
        raise BadResponse(
            t_("{url} has a damaged {enc} body ({exc}).", url=url, enc=enc, exc=exc), url=url
        ) from None


@dataclass
class Fetcher:
    """Fetches resources for one capture; ``record`` gets every exchange, redirects too."""

    target_host: str
    record: Callable[[Exchange], None]
    limits: Limits = field(default_factory=Limits)
    follow_offhost: bool = False
    user_agent: str = USER_AGENT
    bytes_read: int = 0

    def fetch(self, url: str, *, limit: int, accept: str = "*/*") -> Exchange:
        """GET ``url`` following redirects (as allowed); the last exchange is returned."""
        url = check_url(url)
        seen = [url]
        for _ in range(self.limits.max_redirects + 1):
            ex = self._one(url, limit, accept)
            location = ex.header("location")
            if ex.status not in REDIRECTS or not location:
                return ex
            ex.final = False
            nxt = check_url(urljoin(url, location))
            if nxt in seen:
                chain = " → ".join([*seen[seen.index(nxt) :], nxt])
                raise RedirectLoop(
                    t_("{seen} redirects in a loop ({chain}).", seen=seen[0], chain=chain),
                    url=seen[0],
                )
            if host_of(nxt) != host_of(url) and not self.follow_offhost:
                raise OffHostRedirect(
                    t_(
                        "{url} redirects to another host ({nxt}); it was not "
                        "followed (use --follow-offhost to follow it). The redirect "
                        "itself is recorded.",
                        url=url,
                        nxt=nxt,
                    ),
                    url=url,
                )
            seen.append(nxt)
            url = nxt
        raise RedirectLoop(
            t_(
                "{seen} redirects more than {max_redirects} times.",
                seen=seen[0],
                max_redirects=self.limits.max_redirects,
            ),
            url=seen[0],
        )

    # -- one request -------------------------------------------------------------------
    def _address(self, host: str, port: int, url: str) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConnectFailed(
                t_("Could not resolve {host} ({strerror}).", host=host, strerror=exc.strerror),
                url=url,
            ) from None
        ips = [str(info[4][0]) for info in infos]
        if host != self.target_host and any(_is_internal(ip) for ip in ips):
            raise RefusedAddress(
                t_(
                    "{url} points at an internal address ({ips}); only the "
                    "captured host itself may be on this machine or a private "
                    "network.",
                    url=url,
                    ips=ips[0],
                ),
                url=url,
            )
        return ips[0]

    def _one(self, url: str, limit: int, accept: str) -> Exchange:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        ip = self._address(host, port, url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = _Connection(host, port, ip, tls, self.limits.timeout)
        date = datetime.now(UTC)
        started = time.monotonic()
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)
            for name, value in (
                ("User-Agent", self.user_agent),
                ("Accept", accept),
                ("Accept-Encoding", "identity"),  # keep bodies comparable byte for byte
                ("Connection", "close"),
            ):
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            headers = [(k, v) for k, v in resp.getheaders()]
            body, truncated = self._read(resp, url, limit, started)
        except ssl.SSLCertVerificationError as exc:
            raise TlsFailed(
                t_(
                    "The TLS certificate of {host} could not be verified "
                    "({reason}); haechi does not capture over an unverified "
                    "connection.",
                    host=host,
                    reason=exc.verify_message or exc.reason,
                ),
                url=url,
            ) from None
        except ssl.SSLError as exc:
            raise TlsFailed(
                t_(
                    "The TLS handshake with {host} failed ({reason}).", host=host, reason=exc.reason
                ),
                url=url,
            ) from None
        except TimeoutError:
            raise TimedOut(
                t_(
                    "{url} did not answer within {timeout:g} seconds.",
                    url=url,
                    timeout=self.limits.timeout,
                ),
                url=url,
            ) from None
        except (http.client.HTTPException, ValueError) as exc:
            raise BadResponse(
                t_(
                    "{url} sent a malformed HTTP response ({error}).",
                    url=url,
                    error=type(exc).__name__,
                ),
                url=url,
            ) from None
        except OSError as exc:
            raise ConnectFailed(
                t_(
                    "Could not connect to {host}:{port} ({error}).",
                    host=host,
                    port=port,
                    error=exc.strerror or exc,
                ),
                url=url,
            ) from None
        finally:
            conn.close()
        self.bytes_read += len(conn.received)
        ex = Exchange(
            url=url,
            date=date,
            request=bytes(conn.sent),
            response=bytes(conn.received),
            status=resp.status,
            reason=resp.reason or "",
            headers=headers,
            body=b"",
            ip=ip,
            truncated=truncated,
        )
        self.record(ex)  # recorded before anything can refuse it: the WARC keeps it all
        if truncated == "length":
            raise TooLarge(
                t_("{url} is larger than the limit of {limit:,} bytes.", url=url, limit=limit),
                url=url,
            )
        if truncated == "total":
            raise TooLarge(
                t_(
                    "{url} was not downloaded: the capture reached its total "
                    "limit of {total_bytes:,} bytes ([capture] max_total_mb).",
                    url=url,
                    total_bytes=self.limits.total_bytes,
                ),
                url=url,
            )
        if truncated == "time":
            raise TimedOut(
                t_(
                    "{url} was still downloading after {deadline:g} seconds.",
                    url=url,
                    deadline=self.limits.deadline,
                ),
                url=url,
            )
        ex.body = _decode(body, ex.header("content-encoding"), limit, url)
        return ex

    def _read(
        self, resp: http.client.HTTPResponse, url: str, limit: int, started: float
    ) -> tuple[bytes, str | None]:
        declared = resp.getheader("content-length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            return b"", "length"
        if self.bytes_read > self.limits.total_bytes:
            return b"", "total"
        body = bytearray()
        while True:
            if time.monotonic() - started > self.limits.deadline:
                return bytes(body), "time"
            try:
                chunk = resp.read(_CHUNK)
            except http.client.IncompleteRead as exc:
                body += exc.partial
                return bytes(body), "disconnect"
            if not chunk:  # http.client ends quietly when the server closes early
                short = declared and declared.strip().isdigit() and len(body) < int(declared)
                return bytes(body), "disconnect" if short else None
            body += chunk
            if len(body) > limit:
                return bytes(body[:limit]), "length"


def save_body(ex: Exchange, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(ex.body)
    return path
