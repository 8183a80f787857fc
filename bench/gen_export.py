"""Generate a large, benign, single-chat Telegram Desktop export for the ingest benchmarks.

    python bench/gen_export.py DEST --messages 1000000 --media 10000 --seed 1 [--minified]

DEST becomes the export folder itself (``DEST/result.json``, ``DEST/photos/``), in the
current tdesktop JSON format: one space per level, tdesktop's key order, ``date`` in local
(KST) time beside ``date_unixtime`` as a string, ``text`` a string or a mixed array.

Memory stays constant: messages are made one at a time and written in blocks, never
collected. Content is ~70% plain text in Korean and English, plus replies, forwards, edits,
inline-bot posts, a few service messages, reactions and media placeholders. ``--media M``
attaches M small, distinct JPEGs (drawn gradients and noise with their number written on
them; nothing else) to evenly spaced messages; no other file is written, so an export with
M media holds exactly M + 1 files. The same seed gives the same bytes.

Also importable: ``generate_export(dest, messages, media, seed) -> Path``.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C-accelerated string escaper
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from PIL import Image, ImageDraw, ImageFont

CHAT_NAME = "벤치마크 스터디 그룹 · Benchmark Study Group"
CHAT_ID = 1733000001
KST_OFFSET = 9 * 3600  # the "exporting PC" is on Korean time, which has no DST
START = 1677628800  # 2023-03-01 09:00:00 KST
BLOCK = 2000  # messages per write

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
TOO_LARGE = "(File exceeds maximum size. Change data exporting settings to download.)"
UNAVAILABLE = "(File unavailable, please try again later)"


def _phrases(table: str) -> tuple[str, ...]:
    """A phrase table written as one "|"-separated string, to keep this file short."""
    return tuple(table.split("|"))


KO = _phrases(
    "오늘 스터디 몇 시에 시작해요?|커피 한 잔 하고 올게요|자료 공유 감사합니다!|"
    "3장 다 읽으신 분 계신가요?|내일 모임 장소 바뀌었어요|점심 뭐 드셨어요?|"
    "과제 마감이 금요일이죠?|좋은 아침입니다|이 문제 풀이 이해가 안 돼요|"
    "발표 자료 올려두었습니다|주말 잘 보내세요|오늘은 여기까지 할게요|새로 오신 분 환영합니다|"
    "링크 다시 보내주실 수 있나요?|카페에서 공부 중이에요|단어장 정리 끝!|"
    "모의고사 점수 올랐어요|회의록 확인 부탁드려요|날씨가 많이 추워졌네요|"
    "로켓 발사 영상 보셨어요?|고양이 사진 귀엽네요|다음 주 일정 공지합니다|"
    "질문 있으면 편하게 물어보세요|수고하셨습니다"
)
EN = _phrases(
    "Did anyone finish chapter 3?|Thanks for sharing!|See you tomorrow.|"
    "The meeting moved to 3 pm.|Coffee break, back in 10.|Good morning everyone|"
    "Can someone resend the link?|Deadline is Friday, right?|Nice work on the slides|"
    "I uploaded the notes.|Welcome to the group!|That rocket launch was great|"
    "Let's review the vocabulary list.|Study session starts at 8.|Have a good weekend|"
    "Where is the practice test?|Same here, still reading.|Thanks, that helped a lot"
)
TAIL = ("", "", "", " ☕", " 🙂", " 👍", " 📚", " 🚀", "!!", " ㅎㅎ", " ㅋㅋ")
HASHTAGS = ("#스터디", "#study", "#커피", "#토익", "#공지", "#notes")
CHANNELS = _phrases(
    "커피 사진 채널 · Coffee Photos|오늘의 영단어 · Daily Words|우주 뉴스 · Space News"
)
BOTS = ("@study_helper_bot", "@gif", "@demo_helper_bot")
REACTIONS = ("👍", "❤", "🔥", "🎉", "👀")
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = "민서지현준우도윤하은수아예린시우주원채연유진태호"
LATIN = ("Alex", "Jun", "Sora", "Mina", "Chris", "Dana", "Eli", "Hana", "Ken", "Yuna")


def _senders(rng: random.Random, count: int = 300) -> list[tuple[str | None, str]]:
    """(display name, from_id) pairs; one is a deleted account, whose name is null."""
    people: list[tuple[str | None, str]] = []
    for i in range(count):
        if i % 4 == 3:
            name = f"{rng.choice(LATIN)} {rng.choice(SURNAMES)}"
        else:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        people.append((name, f"user{5_600_000_000 + i * 7919}"))
    people[count // 2] = (None, people[count // 2][1])
    return people


class _Clock:
    """Epoch -> tdesktop's local ``date`` string, computed once per day rather than per call."""

    def __init__(self) -> None:
        self._day = -1
        self._iso = self._file = ""

    def strings(self, unix: int) -> tuple[str, str]:
        local = unix + KST_OFFSET
        day, secs = divmod(local, 86400)
        if day != self._day:
            d = datetime.fromtimestamp(day * 86400, UTC)
            self._day, self._iso, self._file = day, d.strftime("%Y-%m-%d"), d.strftime("%d-%m-%Y")
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        return f"{self._iso}T{h:02d}:{m:02d}:{s:02d}", f"{self._file}_{h:02d}-{m:02d}-{s:02d}"


class _Photos:
    """Small distinct JPEGs: a random two-colour gradient, noise, and the number drawn on."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        # One noise tile cut at random offsets: much cheaper than fresh noise per picture.
        self.noise = self.rng.integers(-14, 15, (320, 320, 3), dtype=np.int16)
        self.font = ImageFont.load_default()

    def make(self, k: int) -> tuple[bytes, int, int]:
        w, h = 64 + (k * 37) % 65, 64 + (k * 53) % 65  # 64..128 px, varied aspect
        c0, c1 = self.rng.integers(0, 256, (2, 3)).astype(np.int16)
        gx = (np.arange(w, dtype=np.int16) * 64 // w)[None, :, None]
        gy = (np.arange(h, dtype=np.int16) * 64 // h)[:, None, None]
        ox, oy = self.rng.integers(0, 320 - 128, 2)
        pixels = (c0 * (64 - gx) + c1 * gy) // 64 + self.noise[oy : oy + h, ox : ox + w]
        # Bits of k as a row of squares: distinct pixels even if two gradients coincide.
        for bit in range(16):
            pixels[h - 6 : h - 2, 2 + bit * 4 : 5 + bit * 4] = 255 if (k >> bit) & 1 else 0
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        ImageDraw.Draw(image).text((4, 4), f"#{k}", fill=(255, 255, 255), font=self.font)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=85)
        return buf.getvalue(), w, h


def _text(parts: list[Any]) -> tuple[Any, list[dict[str, str]]]:
    """tdesktop's ``text`` (string when one plain run, else mixed array) + ``text_entities``."""
    objects = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in parts]
    if len(objects) == 1 and objects[0]["type"] == "plain":
        return objects[0]["text"], objects
    return [o["text"] if o["type"] == "plain" else o for o in objects], objects


class _Content:
    """Picks what each message says and who says it; all randomness comes from one seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people = _senders(rng)

    def sentence(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            core = self.rng.choice(KO)
        elif r < 0.7:
            core = self.rng.choice(EN)
        else:
            core = f"{self.rng.choice(KO)} {self.rng.choice(EN)}"
        return core + self.rng.choice(TAIL)

    def parts(self) -> list[Any]:
        """Mostly one plain run; about one in six gets a link, mention, hashtag or styling."""
        rng = self.rng
        text = self.sentence()
        if rng.random() >= 0.16:
            return [text]
        kind = rng.randrange(5)
        if kind == 0:
            url = f"https://example.com/notes/{rng.randrange(1, 500)}"
            return [text + " ", {"type": "link", "text": url}]
        if kind == 1:
            mention = f"@study_buddy_{rng.randrange(1, 40)}"
            return [{"type": "mention", "text": mention}, " " + text]
        if kind == 2:
            return [text + " ", {"type": "hashtag", "text": rng.choice(HASHTAGS)}]
        if kind == 3:
            return [{"type": "bold", "text": "공지 · Notice"}, "\n" + text]
        href = f"https://example.com/doc/{rng.randrange(1, 900)}"
        return [text + " (", {"type": "text_link", "text": "자료 · notes", "href": href}, ")"]


_PADS = ["\n" + " " * n for n in range(12)]


def _pretty(value: Any, level: int) -> str:
    """tdesktop layout: one space per nesting level, ``"key": value``, no trailing newline.

    Scalars are handled inline rather than by recursion: this function dominates the
    generator's run time, and a million messages make ~14 million values.
    """
    pad = _PADS[level + 1]
    items: list[str] = []
    if type(value) is dict:
        for key, v in value.items():
            t = type(v)
            if t is str:
                items.append(f'{pad}"{key}": {encode_basestring(v)}')
            elif t is int:
                items.append(f'{pad}"{key}": {v}')
            elif v is None:
                items.append(f'{pad}"{key}": null')
            elif t is bool:
                items.append(f'{pad}"{key}": {"true" if v else "false"}')
            elif v == []:
                items.append(f'{pad}"{key}": []')
            else:
                items.append(f'{pad}"{key}": {_pretty(v, level + 1)}')
        return "{" + ",".join(items) + _PADS[level] + "}"
    for v in value:
        if type(v) is str:
            items.append(pad + encode_basestring(v))
        elif v is None:
            items.append(pad + "null")
        else:
            items.append(pad + _pretty(v, level + 1))
    return "[" + ",".join(items) + _PADS[level] + "]"


def _message(
    i: int, unix: int, clock: _Clock, content: _Content, photo: dict[str, Any] | None
) -> dict[str, Any]:
    """Message number ``i`` (id i + 1); ``photo`` holds the media keys when it carries one."""
    rng = content.rng
    mid = i + 1
    date, _ = clock.strings(unix)
    msg: dict[str, Any] = {"id": mid, "type": "message", "date": date, "date_unixtime": str(unix)}
    r = rng.random()
    if photo is None and mid == 1:  # a supergroup's history opens with its creation
        msg["type"] = "service"
        msg.update(actor=CHAT_NAME, actor_id=f"channel{CHAT_ID}", action="create_channel")
        msg.update(title=CHAT_NAME, text="", text_entities=[])
        return msg
    if photo is None and r < 0.005:
        return _service(msg, mid, content)
    if photo is None and r < 0.0052:
        return {"id": mid, "type": "unsupported"}
    if rng.random() < 0.04:
        edited = unix + rng.randint(20, 3600)
        msg["edited"], _ = clock.strings(edited)
        msg["edited_unixtime"] = str(edited)
    msg["from"], msg["from_id"] = rng.choice(content.people)
    r2 = rng.random()
    if r2 < 0.08:
        msg["forwarded_from"] = rng.choice(CHANNELS)
    elif r2 < 0.20 and mid > 2:
        msg["reply_to_message_id"] = max(1, mid - rng.randint(1, 60))
    elif r2 < 0.21:
        msg["via_bot"] = rng.choice(BOTS)
    parts: list[Any] = content.parts()
    if photo is not None:
        msg.update(photo)
        if rng.random() < 0.7:
            parts = []
    elif r < 0.008:
        msg.update(_placeholder(rng, mid))
        parts = []
    msg["text"], msg["text_entities"] = _text(parts) if parts else ("", [])
    if rng.random() < 0.03:
        msg["reactions"] = [
            {"type": "emoji", "count": rng.randint(1, 25), "emoji": rng.choice(REACTIONS)}
        ]
    return msg


def _service(msg: dict[str, Any], mid: int, content: _Content) -> dict[str, Any]:
    rng = content.rng
    msg["type"] = "service"
    msg["actor"], msg["actor_id"] = rng.choice(content.people)
    kind = rng.randrange(4)
    if kind == 0:
        msg["action"] = "invite_members"
        msg["members"] = [rng.choice(content.people)[0] for _ in range(rng.randint(1, 3))]
    elif kind == 1:
        msg["action"], msg["inviter"] = "join_group_by_link", rng.choice(content.people)[0]
    elif kind == 2:
        msg["action"], msg["message_id"] = "pin_message", max(1, mid - rng.randint(1, 200))
    else:
        msg["action"], msg["title"] = "edit_group_title", CHAT_NAME
    msg["text"], msg["text_entities"] = "", []
    return msg


def _placeholder(rng: random.Random, mid: int) -> dict[str, Any]:
    """Media that tdesktop did not download: no file is written for these."""
    kind = mid % 3
    if kind == 0:
        out = {"file": NOT_INCLUDED, "file_name": "sticker.webp", "file_size": 24816}
        out.update(thumbnail=NOT_INCLUDED, thumbnail_file_size=5120, media_type="sticker")
        out.update(sticker_emoji="☕", mime_type="image/webp", width=512, height=512)
        return out
    if kind == 1:
        out = {"file": TOO_LARGE, "file_size": rng.randint(60, 900) * 1_048_576}
        out.update(thumbnail=TOO_LARGE, thumbnail_file_size=9000, media_type="video_file")
        out.update(mime_type="video/mp4", duration_seconds=rng.randint(30, 900))
        out.update(width=1280, height=720)
        return out
    size = rng.randint(50_000, 300_000)
    return {"photo": UNAVAILABLE, "photo_file_size": size, "width": 1280, "height": 960}


def _prepare(dest: Path) -> None:
    """Make ``dest`` empty, deleting only what an earlier run of this generator wrote there."""
    if dest.exists() and any(dest.iterdir()):
        result = dest / "result.json"
        head = result.read_bytes()[:300] if result.is_file() else b""
        if CHAT_NAME.encode() not in head or not {p.name for p in dest.iterdir()} <= {
            "result.json",
            "photos",
        }:
            raise FileExistsError(f"{dest} is not empty and not an earlier generated export")
        for photo in (dest / "photos").glob("*") if (dest / "photos").is_dir() else []:
            photo.unlink()
        result.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def generate_export(
    dest: Path | str, messages: int, media: int = 0, seed: int = 1, *, minified: bool = False
) -> Path:
    """Write the export into ``dest`` and return ``dest``."""
    if messages < 1 or not 0 <= media <= messages:
        raise ValueError("need messages >= 1 and 0 <= media <= messages")
    dest = Path(dest)
    _prepare(dest)
    if media:
        (dest / "photos").mkdir(exist_ok=True)
    rng = random.Random(seed)
    content, clock, photos = _Content(rng), _Clock(), _Photos(seed)
    head: dict[str, Any] = {"name": CHAT_NAME, "type": "private_supergroup", "id": CHAT_ID}
    if minified:
        opening = orjson.dumps(head)[:-1].decode() + ',"messages":['
        sep, closing = ",", "]}"
    else:
        opening = _pretty(head, 0)[:-2] + ',\n "messages": ['
        sep, closing = ",\n  ", "\n ]\n}"
    unix, k = START, 0
    next_media = (messages // (2 * media)) if media else -1  # evenly spaced, centred slots
    first_sep = "" if minified else "\n  "
    with open(dest / "result.json", "wb", buffering=1 << 20) as out:
        out.write(opening.encode())
        block: list[str] = []
        for i in range(messages):
            unix += rng.randint(5, 120)
            photo = None
            if i == next_media:
                data, w, h = photos.make(k)
                name = f"photo_{k + 1}@{clock.strings(unix)[1]}.jpg"
                (dest / "photos" / name).write_bytes(data)
                photo = {
                    "photo": f"photos/{name}",
                    "photo_file_size": len(data),
                    "width": w,
                    "height": h,
                }
                k += 1
                next_media = (2 * k + 1) * messages // (2 * media) if k < media else -1
            msg = _message(i, unix, clock, content, photo)
            block.append(orjson.dumps(msg).decode() if minified else _pretty(msg, 2))
            if len(block) == BLOCK or i == messages - 1:
                out.write(((first_sep if i < BLOCK else sep) + sep.join(block)).encode())
                block = []
        out.write(closing.encode())
    return dest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dest", type=Path, help="export folder to create (result.json + photos/)")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--media", type=int, default=0, help="number of JPEG photos to attach")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minified", action="store_true", help="one-line JSON (parser fallback tests)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    try:
        out = generate_export(
            args.dest, args.messages, args.media, args.seed, minified=args.minified
        )
    except (ValueError, FileExistsError) as exc:
        ap.error(str(exc))
    size = (out / "result.json").stat().st_size
    print(
        f"{out}: {args.messages:,} messages, {args.media:,} photos, result.json "
        f"{size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
