"""Identifiers in messages: Telegram links and usernames, bots, URLs, wallets, e-mails,
Korean phone numbers, KakaoTalk open chats, Discord invites, Instagram and X handles.

Each is normalised to one spelling (``value``) so the same wallet, room or handle written
three ways is one node of the graph, and validated (checksums, Telegram's username rules,
Korean numbering plan). Sources: the text itself, the export's entity objects (a
``text_link`` hides its URL behind other words) and inline URL buttons, as Telegram Desktop
exports them (``inline_bot_buttons``) and as live capture keeps them (the TL message's
``reply_markup``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from haechi.analyze.text import checksums as ck

# e2: URL buttons of live-captured messages (TL ``reply_markup``) are read too.
EXTRACTOR_VERSION = "e2"
# A stored message's raw JSON is parsed for buttons only when it holds one of these.
BUTTON_MARKERS = ('"inline_bot_buttons"', '"KeyboardButtonUrl"', '"InlineButtonTypeUrl"')

TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me", "www.telegram.me"})
# Every kind this module produces: lexicon rules may name only these (or a group), so a
# misspelt "entity:" condition is refused when the lexicon loads instead of never firing.
KINDS = frozenset(
    {
        "tg_username",  # t.me/name, t.me/s/name, @name (public rooms and accounts)
        "tg_bot",
        "tg_invite",  # t.me/+hash, t.me/joinchat/hash
        "tg_message",  # t.me/name/123
        "tg_private_message",  # t.me/c/id[/123]
        "tg_folder",
        "tg_user_id",
        "btc",
        "eth",
        "tron",
        "ton",
        "email",
        "phone",
        "kakao_openchat",
        "discord_invite",
        "instagram",
        "x_handle",
        "url",
    }
)
# Kinds and the groups rules can name ("entity:telegram").
GROUPS: dict[str, frozenset[str]] = {
    "telegram": frozenset(
        {
            "tg_username",
            "tg_bot",
            "tg_invite",
            "tg_message",
            "tg_private_message",
            "tg_folder",
            "tg_user_id",
        }
    ),
    "bot": frozenset({"tg_bot"}),
    "crypto": frozenset({"btc", "eth", "tron", "ton"}),
    "contact": frozenset(
        {"email", "phone", "kakao_openchat", "discord_invite", "instagram", "x_handle"}
    ),
}
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_T_PATHS_RESERVED = frozenset(
    {
        "joinchat",
        "addstickers",
        "addemoji",
        "share",
        "proxy",
        "socks",
        "setlanguage",
        "addtheme",
        "login",
        "confirmphone",
        "iv",
        "boost",
        "invoice",
        "giftcode",
        "contact",
        "bg",
        "addlist",
        "c",
        "s",
        "m",
        "a",
        "k",
        "z",
    }
)
_IG_RESERVED = frozenset({"p", "reel", "reels", "explore", "stories", "accounts", "tv", "direct"})
_X_RESERVED = frozenset(
    {
        "i",
        "home",
        "search",
        "intent",
        "share",
        "hashtag",
        "explore",
        "settings",
        "messages",
        "notifications",
        "login",
        "signup",
        "tos",
        "privacy",
    }
)

_URL = r"(?:https?://|www\.)[^\s<>\"'`「」『』\[\]{}|\\^]+"
_BARE = (
    r"(?<![\w@./-])(?:t\.me|telegram\.me|telegram\.dog|open\.kakao\.com|discord\.gg|"
    r"discord(?:app)?\.com/invite|instagram\.com|instagr\.am|x\.com|twitter\.com)"
    r"/[^\s<>\"'`「」『』\[\]{}|\\^]+"
)
_SCAN = re.compile(
    "|".join(
        [
            rf"(?P<url>{_URL}|{_BARE})",
            r"(?P<tg>tg://[^\s<>\"']+)",
            r"(?P<email>(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})",
            r"(?P<mention>(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@]))",
            r"(?P<eth>(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![0-9a-zA-Z]))",
            r"(?P<bech>(?<![A-Za-z0-9])(?:bc1|tb1|BC1|TB1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}(?![A-Za-z0-9]))",
            r"(?P<b58>(?<![A-Za-z0-9])[13T][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9]))",
            r"(?P<ton>(?<![A-Za-z0-9_+/-])[EUk0]Q[A-Za-z0-9_+/-]{46}(?![A-Za-z0-9_+/=-]))",
            r"(?P<tonraw>(?<![\w:-])(?:-1|0):[0-9a-fA-F]{64}(?![0-9a-fA-F]))",
            r"(?P<phone>(?<![\d+])(?:\+82[-.\s]?\(?0?|0)(?:1[016789]|2|[3-6][1-5]|70|50[2-8])\)?[-.\s]?\d{3,4}[-.\s]?\d{4}(?!\d))",
        ]
    )
)
# Every pattern above needs one of these; one cheap scan skips ordinary sentences.
_MAYBE = re.compile(
    r"@|://|www\.|\.(?:me|dog|com|gg|am|kr|net|org|io)\b|[0-9A-Za-z_+/-]{25}|:[0-9a-fA-F]{64}"
    r"|\d{2,4}\)?[-.\s]?\d{3,4}[-.\s]?\d{4}"
)
# An @handle right after these words is an Instagram or X account, not a Telegram one.
_IG_MARK = re.compile(r"(?:인스타(?:그램)?|instagram|insta|ig)\s*(?:id|아이디)?\s*[:：]?\s*$", re.I)
_X_MARK = re.compile(r"(?:트위터|트윗|twitter|(?<![a-z])x)\s*(?:id|아이디)?\s*[:：]?\s*$", re.I)
_TRAILING = ".,;:!?)]}>'\"…。、，！？）"


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str
    value: str  # normalised
    raw: str  # as written
    start: int | None  # span in the message text; None when it came from an entity/button
    end: int | None
    source: str  # text / link / text_link / mention / mention_name / email / phone / button
    valid: bool = True
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def group_of(kind: str) -> set[str]:
    return {g for g, kinds in GROUPS.items() if kind in kinds}


def _username_entity(
    name: str,
    raw: str,
    span: tuple[int | None, int | None],
    source: str,
    detail: dict[str, Any] | None = None,
) -> Entity | None:
    if not USERNAME.fullmatch(name) or name.endswith("_") or "__" in name:
        return None
    low = name.lower()
    kind = "tg_bot" if low.endswith("bot") else "tg_username"
    return Entity(kind, low, raw, span[0], span[1], source, True, detail or {})


def telegram_link(url: str, span: tuple[int | None, int | None], source: str) -> Entity | None:
    """t.me/name, t.me/+hash, t.me/joinchat/hash, t.me/c/id/msg, t.me/s/name, t.me/name/123,
    t.me/addlist/hash, t.me/name?start=ref: one entity, normalised."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    path = unquote(parts.path).strip("/")
    segs = [s for s in path.split("/") if s]
    if not segs:
        return None
    head = segs[0]
    query = parse_qs(parts.query)
    if head.startswith("+") or head.lower() == "joinchat":
        code = head[1:] if head.startswith("+") else (segs[1] if len(segs) > 1 else "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", code):
            return None
        return Entity("tg_invite", f"+{code}", url, span[0], span[1], source, True, {})
    if head.lower() == "c" and len(segs) >= 2 and segs[1].isdigit():
        msg = segs[-1] if len(segs) >= 3 and segs[-1].isdigit() else None
        value = f"c/{segs[1]}" + (f"/{msg}" if msg else "")
        detail: dict[str, Any] = {"channel_id": int(segs[1])}
        if msg:
            detail["message_id"] = int(msg)
        return Entity("tg_private_message", value, url, span[0], span[1], source, True, detail)
    if head.lower() == "addlist" and len(segs) >= 2:
        return Entity("tg_folder", f"addlist/{segs[1]}", url, span[0], span[1], source, True, {})
    if head.lower() == "s" and len(segs) >= 2:
        segs = segs[1:]
        head = segs[0]
    if head.lower() in _T_PATHS_RESERVED:
        return None
    detail = {}
    if "start" in query:
        detail["start"] = query["start"][0][:64]  # bot deep link: often a referral code
    if len(segs) >= 2 and segs[-1].isdigit():
        ent = _username_entity(head, url, span, source, {**detail, "message_id": int(segs[-1])})
        if ent is None:
            return None
        return Entity(
            "tg_message",
            f"{ent.value}/{segs[-1]}",
            url,
            span[0],
            span[1],
            source,
            True,
            {**ent.detail, "username": ent.value},
        )
    return _username_entity(head, url, span, source, detail)


def _clean_url(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if url.count("(") < url.count(")"):
        url = url.rstrip(")")
    return url


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing slash."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.lower().startswith(("utm_", "fbclid="))
    )
    host = (parts.hostname or "").lower()
    if parts.port:
        host += f":{parts.port}"
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower() or "https", host, path, query, ""))


def _url_entity(url: str, span: tuple[int | None, int | None], source: str) -> Entity | None:
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    if host.startswith("www.") and host[4:] in TELEGRAM_HOSTS:
        host = host[4:]
    segs = [s for s in parts.path.split("/") if s]
    if host in TELEGRAM_HOSTS:
        return telegram_link(url, span, source)
    if host == "open.kakao.com" and len(segs) >= 2 and segs[0] in ("o", "me"):
        code = segs[1]
        if re.fullmatch(r"[A-Za-z0-9_-]{4,40}", code):
            return Entity("kakao_openchat", f"{segs[0]}/{code}", url, span[0], span[1], source)
    if host in ("discord.gg", "www.discord.gg") and segs:
        return Entity("discord_invite", segs[0], url, span[0], span[1], source)
    if host.endswith(("discord.com", "discordapp.com")) and len(segs) >= 2 and segs[0] == "invite":
        return Entity("discord_invite", segs[1], url, span[0], span[1], source)
    if host in ("instagram.com", "www.instagram.com", "instagr.am", "m.instagram.com") and segs:
        handle = segs[1] if segs[0] == "stories" and len(segs) > 1 else segs[0]
        if handle.lower() not in _IG_RESERVED and re.fullmatch(r"[A-Za-z0-9_.]{1,30}", handle):
            return Entity("instagram", handle.lower(), url, span[0], span[1], source)
    x_hosts = ("x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "www.x.com")
    if (
        host in x_hosts
        and segs
        and segs[0].lower() not in _X_RESERVED
        and re.fullmatch(r"\w{1,15}", segs[0])
    ):
        return Entity("x_handle", segs[0].lower(), url, span[0], span[1], source)
    if not host or "." not in host:
        return None
    return Entity("url", normalise_url(url), url, span[0], span[1], source, True, {"host": host})


def _tg_scheme(url: str, span: tuple[int | None, int | None], source: str) -> Entity | None:
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    if parts.netloc == "resolve" and "domain" in q:
        return _username_entity(q["domain"][0], url, span, source)
    if parts.netloc == "join" and "invite" in q:
        code = q["invite"][0]
        if re.fullmatch(r"[A-Za-z0-9_-]{6,64}", code):
            return Entity("tg_invite", f"+{code}", url, span[0], span[1], source)
    return None


def korean_phone(raw: str) -> str | None:
    """E.164 (+82...) of a valid Korean number, else None."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("82"):
        digits = digits[2:]
        digits = digits[1:] if digits.startswith("0") else digits
    elif digits.startswith("0"):
        digits = digits[1:]
    else:
        return None
    n = len(digits)
    if digits.startswith("10"):
        ok = n == 10  # 010-XXXX-XXXX
    elif digits[:2] in ("11", "16", "17", "18", "19"):
        ok = n in (9, 10)  # legacy mobile prefixes
    elif digits.startswith("2"):
        ok = n in (8, 9)  # Seoul 02-XXX(X)-XXXX
    elif digits.startswith("70"):
        ok = n == 10  # VoIP 070-XXXX-XXXX
    elif digits.startswith("50"):
        ok = n in (10, 11)  # 050X safe numbers
    elif digits[0] in "3456" and digits[1] in "12345":
        ok = n in (9, 10)  # regional 0XX-XXX(X)-XXXX
    else:
        ok = False
    return f"+82{digits}" if ok else None


def _crypto(kind: str, raw: str, s: int, e: int) -> Entity | None:
    if kind == "eth":
        state = ck.eth_checksum_state(raw)
        return Entity(
            "eth",
            "0x" + raw[2:].lower(),
            raw,
            s,
            e,
            "text",
            state != "invalid",
            {"checksum": state},
        )
    if kind == "bech":
        if ck.segwit_ok(raw):
            net = "testnet" if raw.lower().startswith("tb1") else "mainnet"
            return Entity("btc", raw.lower(), raw, s, e, "text", True, {"network": net})
        return None
    if kind == "b58":
        if raw[0] == "T":
            return Entity("tron", raw, raw, s, e, "text") if ck.tron_ok(raw) else None
        return (
            Entity("btc", raw, raw, s, e, "text", True, {"network": "mainnet"})
            if (ck.btc_base58_ok(raw))
            else None
        )
    if kind == "ton":
        dec = ck.ton_friendly(raw)
        if dec is None:
            return None
        wc, acct, testnet = dec
        return Entity("ton", f"{wc}:{acct}", raw, s, e, "text", True, {"testnet": testnet})
    if kind == "tonraw":
        chain, _, acct = raw.partition(":")
        return Entity("ton", f"{int(chain)}:{acct.lower()}", raw, s, e, "text", True, {})
    return None


def from_text(text: str) -> list[Entity]:
    out: list[Entity] = []
    if not _MAYBE.search(text):
        return out  # no "@", no dotted host, no long token, no phone-shaped digits
    for m in _SCAN.finditer(text):
        kind = m.lastgroup or ""
        raw = m.group()
        s, e = m.span()
        ent: Entity | None
        if kind == "url":
            raw = _clean_url(raw)
            ent = _url_entity(raw, (s, s + len(raw)), "text")
        elif kind == "tg":
            raw = _clean_url(raw)
            ent = _tg_scheme(raw, (s, s + len(raw)), "text")
        elif kind == "email":
            ent = Entity("email", raw.lower(), raw, s, e, "text")
        elif kind == "mention":
            before = text[max(0, s - 24) : s]
            handle = raw[1:]
            if _IG_MARK.search(before):
                full = re.match(r"[A-Za-z0-9_.]{1,30}", text[s + 1 :])
                handle = full.group().rstrip(".") if full else handle
                raw, e = "@" + handle, s + 1 + len(handle)
                ent = Entity("instagram", handle.lower(), raw, s, e, "text", True, {"marker": True})
            elif _X_MARK.search(before) and len(handle) <= 15:
                ent = Entity("x_handle", handle.lower(), raw, s, e, "text", True, {"marker": True})
            else:
                ent = _username_entity(handle, raw, (s, e), "text")
        elif kind == "phone":
            value = korean_phone(raw)
            ent = Entity("phone", value, raw, s, e, "text") if value else None
        else:
            ent = _crypto(kind, raw, s, e)
        if ent is not None:
            out.append(ent)
    return out


def from_entities(entities: Iterable[dict[str, Any]]) -> list[Entity]:
    """What the export's entity objects add: hidden link targets, mention_name ids."""
    out: list[Entity] = []
    for obj in entities:
        kind = obj.get("type")
        text = obj.get("text") if isinstance(obj.get("text"), str) else ""
        ent: Entity | None = None
        if kind == "text_link" and isinstance(obj.get("href"), str):
            href = obj["href"][:2048]
            ent = (
                _tg_scheme(href, (None, None), "text_link")
                if href.startswith("tg://")
                else _url_entity(href, (None, None), "text_link")
            )
        elif kind == "mention_name" and str(obj.get("user_id", "")).isdigit():
            uid = str(obj["user_id"])
            ent = Entity(
                "tg_user_id", uid, text or uid, None, None, "mention_name", True, {"name": text}
            )
        if ent is not None:
            out.append(ent)
    return out


def _button_urls(raw_json: dict[str, Any]) -> list[object]:
    """The targets of a message's URL buttons (at most 50 rows), in either shape:

    * Telegram Desktop's export: ``inline_bot_buttons`` = rows of
      ``{"type": "url", "data": URL}``;
    * live capture (the TL message as JSON): ``reply_markup.rows[].buttons[]``, each
      ``{"_": "KeyboardButtonUrl", "url": URL}`` (layers before 2xx) or
      ``{"_": "KeyboardInlineButton", "type": {"_": "InlineButtonTypeUrl", "url": URL}}``.

    Only plain URL buttons, in both: the kinds a Desktop export writes as ``url``."""
    urls: list[object] = []
    rows = raw_json.get("inline_bot_buttons")
    if isinstance(rows, list):
        for row in rows[:50]:
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict) and button.get("type") == "url":
                    urls.append(button.get("data", ""))
    markup = raw_json.get("reply_markup")
    rows = markup.get("rows") if isinstance(markup, dict) else None
    if isinstance(rows, list):
        for row in rows[:50]:
            buttons = row.get("buttons") if isinstance(row, dict) else None
            for button in buttons if isinstance(buttons, list) else []:
                if not isinstance(button, dict):
                    continue
                inner = button.get("type")
                if button.get("_") == "KeyboardButtonUrl":
                    urls.append(button.get("url", ""))
                elif isinstance(inner, dict) and inner.get("_") == "InlineButtonTypeUrl":
                    urls.append(inner.get("url", ""))
    return urls


def from_buttons(raw_json: dict[str, Any]) -> list[Entity]:
    out: list[Entity] = []
    for target in _button_urls(raw_json):
        url = str(target)[:2048] if isinstance(target, str) else ""
        ent = _url_entity(url, (None, None), "button") if url else None
        if ent is not None:
            out.append(ent)
    return out


def extract(
    text: str, entities: Iterable[dict[str, Any]] = (), raw_json: dict[str, Any] | None = None
) -> list[Entity]:
    """Every identifier of one message, each (kind, value) once, text spans first."""
    found = from_text(text) if text else []
    found += from_entities(entities)
    if raw_json is not None:
        found += from_buttons(raw_json)
    seen: set[tuple[str, str]] = set()
    unique = []
    for ent in found:
        key = (ent.kind, ent.value)
        if key not in seen:
            seen.add(key)
            unique.append(ent)
    return unique
