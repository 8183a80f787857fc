"""Ingest fidelity on the real Telegram Desktop exports of ``../shared/data/telegram``.

Each export is ingested by the real pipeline (collector, vault, SQLite, custody log) into a
throw-away data directory; then every stored message is compared, field by field, with an
independent reading of the same file by Python's ``json`` module. A court relies on the
store saying exactly what the export said, so the target is 100 % on every field.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from common import Section
from haechi.app import init_home
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify

MEDIA_KEYS = ("photo", "file", "thumbnail", "contact_vcard")


def _chats(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" in data:
        return [data]
    return [c for s in ("chats", "left_chats") for c in data.get(s, {}).get("list", [])]


def _plain(text: Any) -> str:
    if isinstance(text, str):
        return text
    return "".join(p if isinstance(p, str) else p.get("text", "") for p in text)


def _expected(m: dict[str, Any]) -> dict[str, Any]:
    sender = m.get("from_id", m.get("actor_id"))
    return {
        "kind": m["type"],
        "date_raw": m.get("date"),
        "date_unix": int(m["date_unixtime"]) if "date_unixtime" in m else None,
        "edited_unix": int(m["edited_unixtime"]) if "edited_unixtime" in m else None,
        "sender_raw": None if sender is None else str(sender),
        "sender_name": m.get("from", m.get("actor")),
        "forwarded_from": m.get("forwarded_from"),
        "saved_from": m.get("saved_from"),
        "reply_to_message_id": m.get("reply_to_message_id"),
        "via_bot": m.get("via_bot"),
        "action": m.get("action"),
        "text": _plain(m.get("text", "")),
        "media_refs": sum(1 for k in MEDIA_KEYS if isinstance(m.get(k), str)),
        "raw": m,
    }


FIELDS = [k for k in _expected({"type": "message"}) if k != "raw"]


def _stored(db: Path) -> dict[int, dict[str, Any]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        """SELECT m.id, m.message_id, m.kind, m.date_raw, m.date_unix, m.edited_unix,
                  m.sender_raw, m.sender_name, m.forwarded_from, m.saved_from,
                  m.reply_to_message_id, m.via_bot, m.action, m.text, m.raw,
                  (SELECT count(*) FROM media WHERE media.message_pk = m.id)
           FROM messages m ORDER BY m.id"""
    ).fetchall()
    conn.close()
    out = {}
    for r in rows:
        out[r[1]] = {
            "kind": r[2], "date_raw": r[3], "date_unix": r[4], "edited_unix": r[5],
            "sender_raw": r[6], "sender_name": r[7], "forwarded_from": r[8],
            "saved_from": r[9], "reply_to_message_id": r[10], "via_bot": r[11],
            "action": r[12], "text": r[13], "raw": json.loads(r[14]), "media_refs": r[15],
        }  # fmt: skip
    return out


def _one(path: Path, work: Path) -> tuple[int, Counter[str], Counter[str], bool, int]:
    export = work / "export"
    export.mkdir()
    shutil.copyfile(path, export / "result.json")
    app = init_home(work / "home")
    try:
        collector = TelegramExportCollector(export, fallback_key_prefix="eval")
        Ingestor(app, collector).run()
        ok = verify(app, record=False).ok
        unknown = sum(collector.unknown_fields.values())
    finally:
        app.close()
    expected = [_expected(m) for c in _chats(json.loads(path.read_bytes())) for m in c["messages"]]
    stored = _stored(work / "home" / "haechi.db")
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    # message ids are unique per chat; these samples hold one chat each, or distinct ids
    for exp in expected:
        got = stored.get(exp["raw"]["id"])
        for f in [*FIELDS, "raw"]:
            total[f] += 1
            if got is not None and got[f] == exp[f]:
                agree[f] += 1
    return len(expected), agree, total, ok, unknown


def run(data: Path) -> Section:
    section = Section(
        "Telegram Desktop export ingest fidelity",
        intro=__doc__.strip().split("\n\n")[0].replace("\n", " "),
    )
    folder = data / "telegram"
    files = sorted(folder.glob("tdesktop_*.json")) if folder.is_dir() else []
    if not files:
        section.skipped = f"no exports in {folder}"
        return section
    section.header = ["export", "messages", "fields agreeing", "raw JSON kept", "verify", "unknown"]
    grand_agree: Counter[str] = Counter()
    grand_total: Counter[str] = Counter()
    for path in files:
        with tempfile.TemporaryDirectory() as tmp:
            n, agree, total, ok, unknown = _one(path, Path(tmp))
        grand_agree.update(agree)
        grand_total.update(total)
        field_ok = sum(agree[f] for f in FIELDS)
        field_all = sum(total[f] for f in FIELDS)
        section.rows.append(
            [f"`{path.name}`", str(n), f"{field_ok}/{field_all}",
             f"{agree['raw']}/{total['raw']}", "pass" if ok else "FAIL", str(unknown)]
        )  # fmt: skip
        section.passed &= ok and field_ok == field_all and agree["raw"] == total["raw"]
    worst = sorted(FIELDS, key=lambda f: grand_agree[f] / max(1, grand_total[f]))
    section.notes.append(
        "per field, all exports: "
        + ", ".join(f"{f} {grand_agree[f]}/{grand_total[f]}" for f in worst)
    )
    section.notes.append("target: every field of every message equal to the source (100 %)")
    return section
