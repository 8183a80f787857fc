"""Making bank items: from hashes typed in, from files on disk, from stored media.

A file added to a bank (a victim's own photo, brought to a support centre) is hashed
and forgotten: only md5, SHA-256 and PDQ (with its dihedral variants and its anchored
region hashes, for crops and captioned re-posts) or vPDQ are kept, never the picture.
PDQ is computed with the exact decode, bit-identical with python-threatexchange,
because bank hashes may be exported to partners (exports carry the PDQ only).
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from haechi.analyze.hashes.decode import EXACT, DecodeError
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.vpdq import digest, hash_video
from haechi.analyze.sniff import HEAD_BYTES, sniff
from haechi.app import App
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisError, MediaKind
from haechi.i18n import t_
from haechi.match.banks import AddReport, add_items
from haechi.match.formats.base import MD5, PDQ, SHA256, VPDQ, ParsedItem, ParsedSignal, normalize
from haechi.run.analysis_worker import harden_decoders
from haechi.store.models import Analysis, Blob, SignalRow

READ = 1 << 20
HASHED_KEPT = 64  # stored files whose hashes made now are kept (see _hashed_now)
_hashed: OrderedDict[tuple[str, str], list[ParsedSignal]] = OrderedDict()
_hashed_lock = threading.Lock()


def file_digests(path: Path) -> tuple[str, str, int]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(READ):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha.hexdigest(), size


def perceptual_signals(source: Any, kind: MediaKind) -> list[ParsedSignal]:
    """PDQ (exact decode) of a picture, every visibly different frame of an animation,
    or the vPDQ of a video; [] for anything else."""
    harden_decoders()
    if kind in (MediaKind.IMAGE, MediaKind.ANIMATION):
        frames = 16 if kind == MediaKind.ANIMATION else 1
        out = []
        for h in hash_picture(source, decode=EXACT, frames=frames, regions=True):
            data = {"dihedral": h.pdq.dihedral}
            for key in ("frame", "regions"):
                if key in h.data:
                    data[key] = h.data[key]
            out.append(ParsedSignal(PDQ, h.pdq.hex, h.pdq.quality, data))
        return out
    if kind == MediaKind.VIDEO:
        video = hash_video(source)
        if video:
            return [ParsedSignal(VPDQ, digest(video), None, {"frames": [list(f) for f in video]})]
    return []


def item_from_file(path: Path, max_bytes: int) -> ParsedItem:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"No such file: {path}.")
    if path.stat().st_size > max_bytes:
        raise UsageError(f"{path.name} is larger than the {max_bytes // 2**20} MB limit.")
    md5, sha, _ = file_digests(path)
    with open(path, "rb") as fh:
        kind, _mime = sniff(fh.read(HEAD_BYTES))
    signals = [ParsedSignal(MD5, md5), ParsedSignal(SHA256, sha)]
    try:
        signals += perceptual_signals(path, kind)
    except (DecodeError, AnalysisError) as exc:
        raise UsageError(f"{path.name} could not be hashed: {exc}.") from exc
    return ParsedItem(0, signals, origin=f"file:{path.name}")


def add_files(
    app: App, bank: str, paths: Sequence[Path], *, labels: Sequence[str] = (),
    notes: str | None = None,
) -> AddReport:  # fmt: skip
    items = []
    for path in paths:
        item = item_from_file(path, app.settings.max_file_bytes)
        item.notes = notes
        items.append(item)
    source = {"how": "files", "files": [Path(p).name for p in paths]}
    return add_items(app, bank, items, source=source, labels=labels)


def _stored_perceptual(app: App, sha: str) -> list[ParsedSignal]:
    """The newest ok PDQ/vPDQ signals of a stored file."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(SignalRow.kind, SignalRow.value, SignalRow.score, SignalRow.data_json,
                   Analysis.analyzer, Analysis.id)
            .join(Analysis, Analysis.id == SignalRow.analysis_id)
            .where(SignalRow.blob_sha256 == sha, SignalRow.kind.in_([PDQ, VPDQ]),
                   Analysis.status == "ok")
            .order_by(Analysis.id.desc(), SignalRow.id)
        ).all()  # fmt: skip
    newest: dict[str, int] = {}
    out = []
    for kind, value, score, data, analyzer, analysis_id in rows:
        if newest.setdefault(analyzer, analysis_id) != analysis_id:
            continue  # an older version of the same analyzer
        parsed = orjson.loads(data) if data else {}
        kept = {k: parsed[k] for k in ("dihedral", "frame", "frames", "regions") if k in parsed}
        quality = int(score) if kind == PDQ and score is not None else None
        if value:
            out.append(ParsedSignal(kind, value, quality, kept or None))
    return out


def _hashed_now(app: App, sha: str, kind: str) -> list[ParsedSignal]:
    """PDQ/vPDQ of a stored file the analyzers have not hashed, made from the vault's copy
    (exact decode). The hashes of a file are a function of its bytes, so the last
    ``HASHED_KEPT`` are kept by SHA-256: adding the same file again (to another bank, or
    the same one: nothing new) decrypts and hashes it once, not per request (~50 ms of a
    photo's ~60 ms add in issue 13's web benchmark)."""
    key = (sha, kind)
    with _hashed_lock:
        kept = _hashed.get(key)
        if kept is not None:
            _hashed.move_to_end(key)
            return copy.deepcopy(kept)
    try:
        with app.vault.local_plaintext(sha, app.settings.tmp_dir) as path:
            made = perceptual_signals(path, MediaKind(kind))
    except (DecodeError, AnalysisError):
        made = []  # md5 and SHA-256 still identify it
    with _hashed_lock:
        _hashed[key] = copy.deepcopy(made)
        while len(_hashed) > HASHED_KEPT:
            _hashed.popitem(last=False)
    return made


def add_blobs(
    app: App, bank: str, shas: Sequence[str], *, labels: Sequence[str] = (),
    notes: str | None = None,
) -> AddReport:  # fmt: skip
    """Items from stored files: their md5/SHA-256 and their PDQ/vPDQ signals (hashed
    now, exactly, when the analyzers have not run on them)."""
    items = []
    for raw in shas:
        sha = raw.strip().lower()
        with app.db.connect() as conn:
            blob = conn.execute(select(Blob).where(Blob.sha256 == sha)).first()
        if blob is None:
            raise UsageError(f"No stored file has the SHA-256 {sha}.")
        signals = [ParsedSignal(MD5, blob.md5), ParsedSignal(SHA256, blob.sha256)]
        perceptual = _stored_perceptual(app, sha)
        if not perceptual and blob.kind:
            perceptual = _hashed_now(app, sha, blob.kind)
        items.append(
            ParsedItem(0, signals + perceptual, origin=f"blob:{sha}", notes=notes, blob_sha256=sha)
        )
    return add_items(app, bank, items, source={"how": "stored", "sha256": list(shas)},
                     labels=labels)  # fmt: skip


def parse_hash(text: str) -> tuple[str, str]:
    """``kind:value`` as typed (``pdq:<64 hex digits>``): the pair, or the sentence why not."""
    kind, sep, value = text.strip().partition(":")
    if not sep:
        raise UsageError(
            t_("Write hashes as kind:value (e.g. pdq:<64 hex digits>), not {text}.",
               text=repr(text.strip()[:80]))
        )  # fmt: skip
    return kind, value


def add_hashes(
    app: App, bank: str, pairs: Sequence[tuple[str, str]], *, labels: Sequence[str] = (),
    notes: str | None = None, external_id: str | None = None,
) -> AddReport:  # fmt: skip
    """One item holding the given ``(kind, value)`` hashes (e.g. a PDQ and an md5)."""
    signals = []
    for kind, value in pairs:
        try:
            signals.append(normalize(kind, value))
        except ValueError as exc:
            raise UsageError(f"{kind}:{value[:70]}: {exc}.") from None
    if not signals:
        raise UsageError("Give at least one hash, e.g. --hash pdq:<64 hex digits>.")
    item = ParsedItem(0, signals, external_id=external_id, notes=notes, origin="typed")
    return add_items(app, bank, [item], source={"how": "hashes"}, labels=labels)
