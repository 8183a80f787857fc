"""RFC 3161 timestamps: ask a timestamp authority (TSA) to sign a digest and the time.

The request and the token are read and written with asn1crypto (it reads every TSA's
tokens, including ones whose certificate sets are not in DER order, which OpenSSL's own
``ts -reply`` writes and stricter parsers refuse). The token is *verified* by OpenSSL
(``openssl ts -verify``): the tool a court's expert will also use, so the two cannot
disagree, and nothing of ours re-implements CMS signature checks.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asn1crypto import core, tsp

from haechi.collect.web_capture.errors import TimestampFailed
from haechi.i18n import t_

MAX_REPLY = 1024 * 1024


@dataclass(frozen=True)
class TokenInfo:
    """What a granted TimeStampResp says, for the custody event and the report."""

    gen_time: str  # ISO 8601 UTC
    serial: int
    policy: str
    hash_algorithm: str
    imprint: str  # hex of the timestamped digest
    nonce: int | None
    tsa: str | None
    sha256: str  # of the whole TimeStampResp (the .tsr file)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["serial"] = str(self.serial)  # may exceed 64 bits
        data["nonce"] = None if self.nonce is None else str(self.nonce)
        return data


def build_request(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq over a SHA-256 digest, asking for the TSA's certificate."""
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return bytes(req.dump())


def _name(value: Any) -> str | None:
    if value is None:
        return None
    try:
        native = value.native
    except (ValueError, TypeError):
        return None
    if isinstance(native, dict):
        return ", ".join(f"{k}={v}" for k, v in native.items())
    return str(native) if native else None


def read_token(reply: bytes) -> TokenInfo:
    """Parse a TimeStampResp; refuse one that is not granted or not a token."""
    try:
        resp = tsp.TimeStampResp.load(reply)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native
            raise TimestampFailed(
                t_(
                    "The timestamp authority refused the request ({status}{detail}).",
                    status=status,
                    detail=": " + "; ".join(text) if text else "",
                )
            )
        content = resp["time_stamp_token"]["content"]
        info = content["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        gen_time = info["gen_time"].native
        return TokenInfo(
            gen_time=gen_time.isoformat().replace("+00:00", "Z"),
            serial=int(info["serial_number"].native),
            policy=str(info["policy"].native),
            hash_algorithm=str(imprint["hash_algorithm"]["algorithm"].native),
            imprint=bytes(imprint["hashed_message"].native).hex(),
            nonce=info["nonce"].native if isinstance(info["nonce"], core.Integer) else None,
            tsa=_name(info["tsa"].chosen if info["tsa"].native is not None else None),
            sha256=hashlib.sha256(reply).hexdigest(),
        )
    except TimestampFailed:
        raise
    except Exception as exc:  # asn1crypto raises many types on damaged DER
        raise TimestampFailed(
            t_(
                "The timestamp authority's answer is not a valid RFC 3161 token ({error}).",
                error=type(exc).__name__,
            )
        ) from None


def obtain(url: str, digest: bytes, *, timeout: float = 30.0) -> tuple[bytes, TokenInfo]:
    """Ask the TSA at ``url`` to timestamp ``digest`` (SHA-256); check the answer matches."""
    if not url.startswith(("http://", "https://")):
        raise TimestampFailed(
            t_("The timestamp authority's address must be http(s), not {url!r}.", url=url)
        )
    nonce = secrets.randbits(63)
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=build_request(digest, nonce),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - configured URL
            reply = answer.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampFailed(
            t_("The timestamp authority {url} answered HTTP {code}.", url=url, code=exc.code)
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampFailed(
            t_(
                "The timestamp authority {url} could not be reached ({reason}).",
                url=url,
                reason=reason,
            )
        ) from None
    if len(reply) > MAX_REPLY:
        raise TimestampFailed(
            t_(
                "The timestamp authority {url} sent more than {max_reply:,} bytes.",
                url=url,
                max_reply=MAX_REPLY,
            )
        )
    info = read_token(reply)
    if info.imprint != digest.hex() or info.nonce != nonce:
        raise TimestampFailed(
            t_("The timestamp authority {url} answered for another digest or request.", url=url)
        )
    return reply, info


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    detail: str  # a sentence: what was checked, or why it failed


def verify_token(reply: bytes, digest: bytes, ca_file: Path | None) -> TokenCheck:
    """Check a token offline: it is granted, it covers ``digest``, and (with ``ca_file``)
    OpenSSL verifies its signature and certificate chain up to that trusted root."""
    try:
        info = read_token(reply)
    except TimestampFailed as exc:
        return TokenCheck(False, str(exc))
    if info.imprint != digest.hex():
        return TokenCheck(False, "the timestamp covers another digest (the file was altered)")
    if ca_file is None:
        return TokenCheck(
            False,
            f"the timestamp ({info.gen_time}) covers this file, but its signature was not "
            "checked: give the TSA's root certificate (--tsa-ca or [capture] tsa_ca_file)",
        )
    if shutil.which("openssl") is None:
        return TokenCheck(False, "the openssl command is needed to check the timestamp's signature")
    with tempfile.TemporaryDirectory() as tmp:
        tsr = Path(tmp) / "token.tsr"
        tsr.write_bytes(reply)
        done = subprocess.run(
            ["openssl", "ts", "-verify", "-digest", digest.hex(), "-in", str(tsr),
             "-CAfile", str(ca_file)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
    if done.returncode == 0 and "Verification: OK" in done.stdout:
        return TokenCheck(
            True, f"timestamp {info.gen_time} by {info.tsa or 'the TSA'} verified by OpenSSL"
        )
    lines = [ln for ln in done.stderr.splitlines() if "error" in ln.lower()]
    why = lines[-1].split(":")[-1].strip() if lines else done.stdout.strip() or "unknown reason"
    return TokenCheck(False, f"OpenSSL could not verify the timestamp ({why})")
