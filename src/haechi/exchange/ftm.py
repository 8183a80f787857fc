"""Leads for investigators' tools: the store as FollowTheMoney entities (JSON lines).

``haechi exchange ftm OUT.jsonl`` writes the network map (rooms, accounts, bots,
identifiers, media groups, and every edge), the messages and the files they carried
(hashes only). Aleph / OpenAleph load it with ``alephclient write-entities`` (or
``ftm store write``); each line is one entity, checked against its schema before it is
written. Entity mapping: :mod:`haechi.exchange.ftm_entities`.

Redacted by default:
- message texts are not exported (``--with-text`` adds them, with victims' identifiers
  replaced by ``[redacted]``);
- phone numbers, e-mail addresses, Instagram and X handles are left out
  (``--include-personal`` adds them);
- victims' identifiers — every name, contact, username, Telegram id and handle recorded
  for a victim in a case — never leave: a node carrying one is dropped with its edges,
  and so are the messages its account sent;
- file names (they often name the person pictured) never leave; files are their hashes.

Incremental: every export ends with a cursor (``ftm1.<last message>``); ``--since`` that
cursor exports only the messages after it, with the rooms they were posted in, those
rooms' edges and what is at their other ends. Ids are stable, so Aleph merges the two.
Each export is a signed custody ``export`` event (file name, SHA-256, counts, cursor).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, tuple_

from haechi.app import App
from haechi.domain import UsageError
from haechi.exchange.ftm_entities import NO_TEXT, Mapper, Protected
from haechi.i18n import t_
from haechi.store.custody import EXPORT, Draft
from haechi.store.models import Account, Blob, Media, Message, SignalRow

CURSOR = re.compile(r"^ftm1\.(\d{1,15})$")
PAGE = 5000


@dataclass(frozen=True)
class FtmOptions:
    since: str | None = None
    with_text: bool = False
    include_personal: bool = False


def check(data: dict[str, Any]) -> None:
    """One entity as Aleph will read it: a known, concrete schema, known properties, valid
    values, the schema's required properties present (raises ``ValueError``)."""
    from followthemoney import model

    schema = model.get(str(data.get("schema")))
    if schema is None or schema.abstract or not data.get("id"):
        raise ValueError(f"not a concrete entity: {str(data)[:200]}")
    props = data.get("properties", {})
    unknown = [p for p in props if schema.get(p) is None]
    missing = [p for p in schema.required if not props.get(p)]
    if unknown or missing:
        raise ValueError(f"{schema.name} {data['id']}: unknown {unknown}, missing {missing}")
    schema.validate(data)  # type: ignore[arg-type]  # raises InvalidData naming bad values


def load_protected(app: App) -> Protected:
    """Everything recorded about victims in cases, to be kept out of every export."""
    from haechi.store.tables.cases import CaseSubject

    out = Protected()
    with app.db.connect() as conn:
        for name, contact, identifiers in conn.execute(
            select(CaseSubject.display_name, CaseSubject.contact, CaseSubject.identifiers_json)
        ):
            if name:
                out.names.add(name.strip().lower())
            if contact:
                out.values.add(Protected.norm(contact))
            for ident in orjson.loads(identifiers) if identifiers else []:
                value = str(ident.get("value") or "").strip()
                if not value:
                    continue
                out.values.add(Protected.norm(value))
                if ident.get("kind") == "telegram_id" and value.lstrip("-").isdigit():
                    out.tg_ids.add(int(value))
        if out.tg_ids:
            out.accounts = set(
                conn.execute(select(Account.id).where(Account.tg_id.in_(sorted(out.tg_ids))))
                .scalars()
                .all()
            )
    return out


def _since(cursor: str | None) -> int:
    if not cursor:
        return 0
    m = CURSOR.match(cursor.strip())
    if m is None:
        raise UsageError(
            t_("{cursor!r} is not an FtM export cursor (ftm1.<number>).", cursor=cursor[:40])
        )
    return int(m.group(1))


class _Writer:
    """Checks and writes entities; counts them by schema and remembers ids written."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.counts: Counter[str] = Counter()
        self.written: set[str] = set()
        self.digest = hashlib.sha256()

    def __call__(self, entity: Any, *, again: bool = False) -> None:
        if entity.id in self.written and not again:
            return
        data = entity.to_dict()
        check(data)
        line = orjson.dumps(data) + b"\n"
        self.fh.write(line)
        self.digest.update(line)
        self.written.add(str(entity.id))
        self.counts[data["schema"]] += 1


def export_ftm(app: App, path: Path, opts: FtmOptions | None = None) -> dict[str, Any]:
    """Write the FtM entities to ``path`` (see the module doc); returns what was written."""
    from haechi.graph.build import BuildOptions, build_graph

    opts = opts or FtmOptions()
    since = _since(opts.since)
    path = Path(path)
    if path.is_dir():
        raise UsageError(t_("{path} is a folder; give a file name (OUT.jsonl).", path=path))
    protected = load_protected(app)
    mapper = Mapper(f"haechi:{app.signer.key_id}", protected, opts.include_personal)
    g = build_graph(app, BuildOptions(accounts=True))
    with app.db.connect() as conn:
        last = conn.execute(select(func.max(Message.id))).scalar() or 0
        touched = None if not since else set(
            conn.execute(select(Message.chat_id).where(Message.id > since).distinct()).scalars()
        )  # fmt: skip
    ids = {n: mapper.entity_id(n, a) for n, a in g.nodes(data=True)}
    dropped = {n for n, a in g.nodes(data=True) if not mapper.allowed(n, a)
               or (a.get("account_id") in protected.accounts)}  # fmt: skip
    tmp = path.with_name(f".{path.name}.part")
    redacted = Counter({"nodes": len(dropped)})
    with open(tmp, "wb") as fh:
        write = _Writer(fh)
        wanted = _nodes(g, touched)
        for u, v, data in g.edges(data=True):
            if (touched is None or {u, v} & wanted) and not {u, v} & dropped:
                for end in (u, v):
                    for entity in mapper.node(end, g.nodes[end]):
                        write(entity)
                write(mapper.edge(ids[u], ids[v], data))
        for node in wanted - dropped:
            for entity in mapper.node(node, g.nodes[node]):
                write(entity)
        with app.db.connect() as conn:
            for page in _messages(conn, since):
                _page(conn, page, g, mapper, write, opts, dropped, redacted)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    result = {
        "format": "ftm", "file": str(path), "sha256": write.digest.hexdigest(),
        "entities": sum(write.counts.values()), "by_schema": dict(sorted(write.counts.items())),
        "since": opts.since, "cursor": f"ftm1.{last}", "with_text": opts.with_text,
        "include_personal": opts.include_personal, "redacted": dict(redacted),
        "text_version": g.graph.get("text_version", ""),
    }  # fmt: skip
    with app.db.begin() as conn:
        app.custody.append_many(conn, [Draft(EXPORT, f"ftm:{path.name}", result)])
    return result


def _nodes(g: Any, touched: set[int] | None) -> set[str]:
    """Every node (a full export), or the touched rooms and their neighbours."""
    if touched is None:
        return set(g.nodes)
    rooms = {n for n, a in g.nodes(data=True) if a.get("type") == "chat"
             and a.get("chat_id") in touched}  # fmt: skip
    return rooms | {m for r in rooms for m in (*g.successors(r), *g.predecessors(r))}


def _messages(conn: Connection, since: int) -> Iterator[list[Any]]:
    last = since
    while True:
        rows = conn.execute(
            select(Message.id, Message.chat_id, Message.message_id, Message.date_unix,
                   Message.sender_account_id, Message.text, Message.reply_to_message_id,
                   Message.via_bot, Message.forwarded_from)
            .where(Message.id > last).order_by(Message.id).limit(PAGE)
        ).all()  # fmt: skip
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def _senders(g: Any) -> tuple[dict[int, str], dict[str, str]]:
    by_account = {int(a["account_id"]): n for n, a in g.nodes(data=True) if "account_id" in a}
    by_key = {str(a["key"]): n for n, a in g.nodes(data=True) if a.get("type") == "chat"}
    return by_account, by_key


def _page(
    conn: Connection, rows: list[Any], g: Any, mapper: Mapper, write: _Writer,
    opts: FtmOptions, dropped: set[str], redacted: Counter[str],
) -> None:  # fmt: skip
    by_account, chat_by_key = _senders(g)
    account_keys = dict(conn.execute(
        select(Account.id, Account.key).where(
            Account.id.in_({r.sender_account_id for r in rows if r.sender_account_id}))
    ).all())  # fmt: skip
    replies = {
        (c, m): pk for pk, c, m in conn.execute(
            select(Message.id, Message.chat_id, Message.message_id).where(
                tuple_(Message.chat_id, Message.message_id).in_(
                    {(r.chat_id, r.reply_to_message_id) for r in rows if r.reply_to_message_id}
                ) if any(r.reply_to_message_id for r in rows) else Message.id < 0)
        )
    }  # fmt: skip
    kept: set[int] = set()
    for row in rows:
        chat = f"chat:{row.chat_id}"
        sender = None
        if row.sender_account_id:
            key = account_keys.get(row.sender_account_id, "")
            sender = chat_by_key.get(key) or by_account.get(row.sender_account_id)
        if chat in dropped or (sender and sender in dropped):
            redacted["messages"] += 1
            continue
        for node in (chat, sender):
            if node and node in g:
                for entity in mapper.node(node, g.nodes[node]):
                    write(entity)
        text = None
        if opts.with_text:
            text = mapper.protected.redact(row.text) if row.text else NO_TEXT
        reply = replies.get((row.chat_id, row.reply_to_message_id))
        msg = mapper.message(row, chat, sender if sender in g else None, text, reply)
        write(msg)
        kept.add(row.id)
    _files(conn, mapper, write, kept)


def _files(conn: Connection, mapper: Mapper, write: _Writer, kept: set[int]) -> None:
    parents: dict[str, list[str]] = {}
    for pk, sha in conn.execute(
        select(Media.message_pk, Media.blob_sha256).where(
            Media.message_pk.in_(sorted(kept)), Media.blob_sha256.is_not(None),
            Media.role != "thumbnail")
    ):  # fmt: skip
        parents.setdefault(str(sha), []).append(mapper.message_id(pk))
    if not parents:
        return
    pdq: dict[str, list[str]] = {}
    for sha, value in conn.execute(
        select(SignalRow.blob_sha256, SignalRow.value).where(
            SignalRow.blob_sha256.in_(sorted(parents)), SignalRow.kind == "pdq")
    ):  # fmt: skip
        if value:
            pdq.setdefault(sha, []).append(value)
    for sha, md5, size, kind, mime in conn.execute(
        select(Blob.sha256, Blob.md5, Blob.size, Blob.kind, Blob.mime).where(
            Blob.sha256.in_(sorted(parents)))
    ):  # fmt: skip
        write(mapper.file(sha, md5, size, kind, mime, sorted(set(pdq.get(sha, []))),
                          parents[sha]), again=True)  # fmt: skip
