"""C2PA manifests through ``c2pa-python`` (the Content Authenticity Initiative's c2pa-rs).

Read offline and quietly: fetching *remote* manifests and OCSP responses is switched off
(evidence must never make the workstation contact an address chosen by whoever made the
file); a file that points to a remote manifest is reported with the URL, unfetched.
Trust: without a configured trust list every signer is ``signingCredential.untrusted``,
which says nothing about integrity; ``[analyzers.provenance] trust_anchors`` names a PEM
file of roots the agency trusts (e.g. the C2PA trust list).

Outcome per file: no manifest (None), a :class:`C2paFinding` (validation state and codes,
claim generator, signer, actions with their ``digitalSourceType``, ingredients, the whole
manifest-store JSON as raw evidence) or a finding with ``error`` when a manifest is
present but cannot be read (damaged JUMBF, unsupported algorithm).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from haechi.analyze.synthetic.tags import dst_term
from haechi.domain import UsageError

RAW_LIMIT = 512 << 10  # characters of manifest-store JSON kept in the signal


def trust_only(code: str) -> bool:
    """Status codes about *trust*, not integrity: a valid signature by a signer (or an
    identity credential) that is not on a configured trust list, an OCSP check skipped."""
    return code.endswith(".untrusted") or code.endswith("ocsp.skipped")


MIME_FOR = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/webp": "image/webp",
    "image/tiff": "image/tiff",
    "image/avif": "image/avif",
    "image/heic": "image/heic",
    "image/gif": "image/gif",
    "video/mp4": "video/mp4",
    "video/quicktime": "video/quicktime",
    "audio/mp4": "audio/mp4",
    "audio/mpeg": "audio/mpeg",
    "audio/wav": "audio/wav",
    "application/pdf": "application/pdf",
}


@dataclass
class C2paFinding:
    validation_state: str | None = None  # Invalid / Valid / Trusted (c2pa-rs's words)
    failures: list[str] = field(default_factory=list)  # integrity codes (not trust)
    status_codes: list[str] = field(default_factory=list)  # every validation_status code
    trusted: bool = False
    claim_generator: str | None = None
    title: str | None = None
    signer: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    digital_source_types: list[str] = field(default_factory=list)  # active manifest
    all_digital_source_types: list[str] = field(default_factory=list)  # every manifest
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[str] = field(default_factory=list)
    manifests: int = 0
    remote_url: str | None = None
    error: str | None = None
    raw_sha256: str | None = None
    raw: str | None = None
    raw_truncated: bool = False

    @property
    def broken(self) -> bool:
        """The manifest does not match the file, or cannot be read: tampering or damage."""
        return bool(self.error) or self.validation_state == "Invalid" or bool(self.failures)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, [], {}, False)}
        out["broken"] = self.broken
        out["trusted"] = self.trusted
        return out


@cache
def _context(trust_pem: str) -> Any:
    import c2pa

    settings: dict[str, Any] = {
        "version": 1,
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    if trust_pem:
        settings["trust"] = {"trust_anchors": trust_pem}
    return c2pa.Context.from_dict(settings)


def _generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    info = manifest.get("claim_generator_info") or []
    names = [
        " ".join(str(i[k]) for k in ("name", "version") if i.get(k))
        for i in info
        if isinstance(i, dict)
    ]
    return "; ".join(n for n in names if n) or None


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            agent = action.get("softwareAgent")
            if isinstance(agent, dict):
                agent = " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k))
            entry = {
                "action": action.get("action"),
                "digitalSourceType": action.get("digitalSourceType"),
                "softwareAgent": agent,
                "when": action.get("when"),
            }
            out.append({k: v for k, v in entry.items() if v})
    return out


def _dsts(manifest: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for action in _actions(manifest):
        if action.get("digitalSourceType"):
            term = dst_term(str(action["digitalSourceType"]))
            if term not in out:
                out.append(term)
    return out


def summarise(store: dict[str, Any], state: str | None, raw: str) -> C2paFinding:
    """The facts a report needs, from c2pa-rs's manifest-store JSON."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) or {}
    codes = [str(s.get("code")) for s in store.get("validation_status") or []]
    failures: list[str] = []
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    for code in [str(s.get("code")) for s in results.get("failure") or []] + codes:
        if not trust_only(code) and code not in failures:
            failures.append(code)
    success = [str(s.get("code")) for s in results.get("success") or []]
    sig = active.get("signature_info") or {}
    ingredients = []
    for ing in active.get("ingredients") or []:
        entry = {k: ing.get(k) for k in ("title", "format", "relationship", "active_manifest")}
        status = [str(s.get("code")) for s in ing.get("validation_status") or []]
        if status:
            entry["validation_status"] = status
        ingredients.append({k: v for k, v in entry.items() if v})
    all_dsts: list[str] = []
    for m in manifests.values():
        for term in _dsts(m):
            if term not in all_dsts:
                all_dsts.append(term)
    return C2paFinding(
        validation_state=state,
        failures=failures,
        status_codes=codes,
        trusted=state == "Trusted" or "signingCredential.trusted" in success,
        claim_generator=_generator(active),
        title=active.get("title"),
        signer={
            k: sig[k]
            for k in ("issuer", "common_name", "alg", "time", "cert_serial_number")
            if sig.get(k)
        },
        actions=_actions(active),
        digital_source_types=_dsts(active),
        all_digital_source_types=all_dsts,
        ingredients=ingredients,
        assertions=[str(a.get("label")) for a in active.get("assertions") or []],
        manifests=len(manifests),
        raw_sha256=hashlib.sha256(raw.encode()).hexdigest(),
        raw=raw[:RAW_LIMIT],
        raw_truncated=len(raw) > RAW_LIMIT,
    )


def read_c2pa(path: Path, mime: str | None, trust_pem: str = "") -> C2paFinding | None:
    """The C2PA finding of one file, or None when it carries no manifest at all."""
    import c2pa

    fmt = MIME_FOR.get(mime or "")
    if fmt is None:
        return None
    try:
        with open(path, "rb") as fh:
            reader = c2pa.Reader.try_create(fmt, fh, context=_context(trust_pem))
            if reader is None:
                return None
            with reader:
                raw = reader.json()
                state = reader.get_validation_state()
                remote = None if reader.is_embedded() else reader.get_remote_url()
    except c2pa.C2paError as exc:
        message = str(exc)
        if "remote manifest" in message.lower():
            url = message.rsplit(" ", 1)[-1] if "http" in message else None
            return C2paFinding(remote_url=url, error=f"remote manifest not fetched: {message}")
        return C2paFinding(error=message[:2000])
    try:
        store = json.loads(raw)
    except ValueError as exc:
        return C2paFinding(error=f"c2pa returned unreadable JSON: {exc}")
    finding = summarise(store, state, raw)
    finding.remote_url = remote
    return finding


def trust_pem(path: str) -> str:
    """The PEM text of a trust-anchor file named in the settings ("" when none)."""
    if not path:
        return ""
    try:
        text = Path(path).expanduser().read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"analyzers.provenance.trust_anchors: cannot read {path} as a PEM file ({exc})."
        ) from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise UsageError(f"analyzers.provenance.trust_anchors: {path} holds no PEM certificate.")
    return text
