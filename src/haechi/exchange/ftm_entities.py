"""How the network map, messages and files become FollowTheMoney entities.

- chat, account, bot, @username, invite, t.me/c link, forward name: ``UserAccount``
  (service Telegram), owned by a ``LegalEntity`` (whoever runs it, named as it shows
  itself; a ``Message`` needs a sender);
- wallet (btc, eth, tron, ton): ``CryptoWallet``; KakaoTalk open chat, Discord invite:
  ``UserAccount`` of that service; phone, e-mail, Instagram, X handle (only with
  ``include_personal``): ``UserAccount``; a shared URL: ``HyperText`` (its address);
- file or media group: ``Image`` / ``Video`` / ``Audio`` / ``Document`` with its hashes
  (SHA-256, MD5, PDQ) as keywords — never the file, never its name;
- message: ``Message`` (sender, the room as recipient account, reply, date; the text only
  on request);
- edge of the map: ``UnknownLink`` (role = forward, mention, link, identifier,
  shared media, via bot, posted in, successor; first and last time; how many messages).

Ids are made by FtM's ``make_id`` from a namespace of this data directory's key and the
map's own node ids, so the same lead keeps its id in every export and Aleph merges an
incremental export into the earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.util import make_entity_id

ACCOUNT_NODES = {"chat", "account", "bot", "username", "invite", "private_chat", "name"}
WALLETS = {"btc": "BTC", "eth": "ETH", "tron": "TRX", "ton": "TON"}
ROOM_LINKS = {"kakao_openchat": "KakaoTalk", "discord_invite": "Discord"}
PERSONAL = {"phone": "phone", "email": "e-mail", "instagram": "Instagram", "x_handle": "X"}
FILE_SCHEMA = {"image": "Image", "photo": "Image", "video": "Video", "animation": "Video",
               "audio": "Audio", "voice": "Audio"}  # fmt: skip
PHONE = re.compile(r"\+?[\d\s().-]{7,}")
WITHHELD = "[text not exported: haechi exchange ftm --with-text]"
NO_TEXT = "[no text]"  # FtM requires a body: a picture without a caption, a service message


def iso(ts: int | float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Protected:
    """Victims' identifiers (from their cases): never exported, never shown in a text."""

    values: set[str] = field(default_factory=set)  # normalised usernames, phones, e-mails
    names: set[str] = field(default_factory=set)  # display names, lower-cased
    tg_ids: set[int] = field(default_factory=set)
    accounts: set[int] = field(default_factory=set)  # account ids with a victim's Telegram id

    @staticmethod
    def norm(value: str) -> str:
        """Usernames without @ and case; phone numbers as their digits."""
        value = value.strip().lower().lstrip("@")
        return re.sub(r"\D", "", value) if PHONE.fullmatch(value) else value

    def hit(self, *values: str | None) -> bool:
        for v in values:
            if v and (self.norm(v) in self.values or v.strip().lower() in self.names):
                return True
        return False

    def redact(self, text: str) -> str:
        for needle in sorted(self.values | self.names, key=len, reverse=True):
            if len(needle) >= 3:
                low = text.lower()
                start = low.find(needle)
                while start >= 0:
                    text = text[:start] + "[redacted]" + text[start + len(needle) :]
                    low = text.lower()
                    start = low.find(needle, start + 10)
        return text


class Mapper:
    """Makes the entities; ``None`` where redaction says a node must not leave."""

    def __init__(self, namespace: str, protected: Protected, include_personal: bool) -> None:
        self.ns = namespace
        self.protected = protected
        self.include_personal = include_personal

    def make(self, schema: str, *key: Any) -> EntityProxy:
        entity = model.make_entity(schema)
        entity.make_id(self.ns, *[str(k) for k in key])
        return entity

    def _id(self, *key: Any) -> str:
        return str(make_entity_id(self.ns, *[str(k) for k in key]))

    def entity_id(self, node: str, attrs: dict[str, Any]) -> str:
        """The id of a map node's entity (a media group is the file of its group key)."""
        if attrs.get("type") == "media":
            return self._id("file", attrs["sha256"])
        return self._id(node)

    def allowed(self, node: str, attrs: dict[str, Any]) -> bool:
        kind = attrs.get("type", "")
        if kind in PERSONAL and not self.include_personal:
            return False
        if kind == "url" or kind == "media":
            return True
        return not self.protected.hit(attrs.get("label"), attrs.get("username"),
                                      node.split(":", 1)[-1])  # fmt: skip

    def node(self, node: str, attrs: dict[str, Any]) -> list[EntityProxy]:
        """The entities of one node of the map (with its owner for accounts)."""
        kind = attrs.get("type", "")
        label = str(attrs.get("label") or node)
        if kind == "media":
            return [self.file(str(attrs["sha256"]), None, None, None, None)]
        if kind in WALLETS:
            wallet = self.make("CryptoWallet", node)
            wallet.add("publicKey", label)
            wallet.add("currency", WALLETS[kind])
            wallet.add("name", label)
            return [wallet]
        if kind == "url":
            page = self.make("HyperText", node)
            page.add("title", label[:500])
            page.add("sourceUrl", label, quiet=True)
            return [page]
        account = self.make("UserAccount", node)
        if kind in ROOM_LINKS or kind in PERSONAL:
            account.add("service", ROOM_LINKS.get(kind) or PERSONAL[kind])
            account.add("username", label)
            if kind == "phone":
                account.add("phone", label, quiet=True)
            if kind == "email":
                account.add("email", label, quiet=True)
            return [account]
        account.add("service", "Telegram")
        username = attrs.get("username") or ""
        account.add("username", f"@{username}" if username else (attrs.get("key") or label))
        account.add("name", label)
        titles = [t for t in str(attrs.get("titles") or "").split(" | ") if t and t != label]
        account.add("previousName", titles)
        what = attrs.get("dialog_type") or kind
        account.add("description", f"Telegram {what}".replace("_", " "))
        if attrs.get("risk_level") and attrs["risk_level"] != "unscored":
            account.add("summary", f"room risk {attrs['risk_level']} ({attrs.get('risk', 0):.2f})")
        if username:
            account.add("sourceUrl", f"https://t.me/{username}", quiet=True)
        owner = self.make("LegalEntity", "holder", node)
        owner.add("name", label)
        account.add("owner", owner.id)
        return [account, owner]

    def message_id(self, pk: int) -> str:
        return self._id("message", pk)

    def holder_id(self, node: str) -> str:
        return self._id("holder", node)

    def edge(self, u: str, v: str, data: dict[str, Any]) -> EntityProxy:
        """``u`` and ``v`` are entity ids (:meth:`entity_id`)."""
        link = self.make("UnknownLink", "edge", u, v, data.get("kind"))
        link.add("subject", u)
        link.add("object", v)
        link.add("role", str(data.get("kind", "link")).replace("_", " "))
        link.add("startDate", iso(data.get("first")))
        link.add("endDate", iso(data.get("last")))
        if data.get("weight"):
            link.add("description", f"{int(data['weight'])} message(s)")
        if data.get("reasons"):
            link.add("summary", str(data["reasons"])[:2000])
        return link

    def file(
        self, sha256: str, md5: str | None, size: int | None, kind: str | None, mime: str | None,
        pdq: Iterable[str] = (), parents: Iterable[str] = (),
    ) -> EntityProxy:  # fmt: skip
        schema = FILE_SCHEMA.get((kind or "").lower(), "Document")
        entity = self.make(schema, "file", sha256)
        if schema == "Document":
            entity.add("fileName", sha256)  # the real name may name a victim: not exported
        entity.add("title", f"file {sha256[:12]}")
        entity.add("keywords", [f"sha256:{sha256}", *([f"md5:{md5}"] if md5 else []),
                                *(f"pdq:{h}" for h in pdq)])  # fmt: skip
        entity.add("mimeType", mime, quiet=True)
        entity.add("fileSize", size)
        entity.add("parent", list(parents))
        return entity

    def message(
        self, row: Any, chat_node: str, sender_node: str | None, text: str | None,
        reply_pk: int | None,
    ) -> EntityProxy:  # fmt: skip
        msg = self.make("Message", "message", row.id)
        msg.add("messageId", str(row.message_id))
        msg.add("date", iso(row.date_unix))
        msg.add("recipientAccount", self._id(chat_node))
        who = sender_node or chat_node
        msg.add("senderAccount", self._id(who))
        msg.add("sender", self.holder_id(who))
        msg.add("bodyText", text if text else WITHHELD)
        if reply_pk is not None:
            msg.add("inReplyToMessage", self._id("message", reply_pk))
        if row.via_bot:
            msg.add("keywords", f"via @{row.via_bot}")
        if row.forwarded_from:
            msg.add("keywords", "forwarded")
        return msg
