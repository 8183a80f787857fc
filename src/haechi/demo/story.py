"""Who is in the demo export and what they post: five dialogs, about sixty messages.

A coffee-photo channel posts pictures; a group forwards them (the very same file) and
re-posts saved, re-compressed copies; a spam account joins the group and advertises a
fictional "AI face-compositing bot" (mild wording, no imagery), and the ad is forwarded
into the new room later; the group is renamed to a "backup room" and points its members
to a new room by invite link, where the same pictures arrive again. A bot
answers with inline buttons, some media were not downloaded, one file is missing, and the
account has left a study group of which only its own messages remain. All of it benign.

Times are written as local (KST) minutes; the seed adds the seconds.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from haechi.demo.images import DemoAssets, Encoded
from haechi.demo.tdesktop_format import (
    NOT_INCLUDED,
    TOO_LARGE,
    UNAVAILABLE,
    ChatBuilder,
    Peer,
    local_iso,
    unix_at,
)

DEMO_USER_ID = 6100000001  # the fictional exporting investigator
ME = Peer("해치 수사관", f"user{DEMO_USER_ID}")
MINJI = Peer("민지 바리스타", "user5500000011")
JUN = Peer("Jun Park", "user5500000012")
BEANS = Peer("원두러버 🫘", "user5500000013")
SORA = Peer("Sora Kim", "user5500000014")
GONE = Peer(None, "user5500000015")  # a deleted account: the name is gone, the id stays
SPAM = Peer("무료 이벤트 🎁", "user5500000016")  # a spam account that advertises a bot
AD_BOT = "@facemix_demo_bot"  # fictional: the "compositing bot" the spam advertises
BOT_NAME = "Demo Helper"
BOT = Peer(BOT_NAME, "user6200000001")

CHANNEL_TITLE = "커피 사진 채널 · Coffee Photos"
CHANNEL = Peer(CHANNEL_TITLE, "channel2087654321")
GROUP_A_OLD_TITLE = "커피 수다방 · Coffee Talk"
GROUP_A_TITLE = "커피 수다방 백업방 (backup)"  # its title at export time, after the rename
GROUP_A = Peer(GROUP_A_TITLE, "channel2012345678")
GROUP_B_TITLE = "커피 수다방 백업방 2 · Coffee Talk backup 2"  # the new room
LEFT_TITLE = "토익 스터디 · TOEIC Study"
MIGRATED = -1_000_000_000  # tdesktop's id shift for history imported from the legacy group
INVITE = "https://t.me/+Q29mZmVlVGFsazI"
CHANNEL_LINK = "https://t.me/coffee_photos_demo"
CUSTOM_EMOJI = "5368324170671202286"  # a custom-emoji reaction names its sticker document

# Captions travel with forwards, so the same text appears in several chats.
LATTE: list[Any] = ["오늘의 라떼 · Today's latte ", ("hashtag", "#latte")]
CAT = "카페 고양이 첼시가 출근했어요 🐈 Our café cat Chelsea is on duty."
SKY = "주말 출사: 밤하늘 🔭 Weekend photo walk: the night sky"


class Scene:
    """Shared state of one build: the seeded random source and the encoded media."""

    def __init__(self, seed: int, media: DemoAssets) -> None:
        self.rng = random.Random(seed)
        self.m = media

    def t(self, local_minute: str) -> int:
        """Epoch seconds of a local minute plus seeded seconds (order is kept: < 1 minute)."""
        return unix_at(local_minute + ":00") + self.rng.randrange(0, 55)

    def emoji(self, emoji: str, low: int, high: int, *recent: tuple[Peer, int]) -> dict[str, Any]:
        count = max(self.rng.randint(low, high), len(recent))
        reaction: dict[str, Any] = {"type": "emoji", "count": count, "emoji": emoji}
        if recent:  # groups show a few recent reactors; channels keep them anonymous
            reaction["recent"] = [
                {"from": p.name, "from_id": p.id, "date": local_iso(when)} for p, when in recent
            ]
        return reaction


def _pic(c: ChatBuilder, unix: int, enc: Encoded, *, write: bool = True) -> dict[str, Any]:
    return c.photo(unix, enc.data, enc.width, enc.height, write=write)


def _callback(text: str, data: bytes) -> dict[str, Any]:
    """tdesktop >= 4.16 writes callback data as unpadded base64url plus an empty ``data``."""
    encoded = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return {"type": "callback", "text": text, "dataBase64": encoded, "data": ""}


def _bot_ad() -> list[Any]:
    """The spam ad: lexicon terms of a compositing bot's pitch, kept mild and fictional."""
    return [
        "🤖 AI 얼굴 합성 봇 오픈! 사진 한 장이면 딥페이크 완성 → ",
        ("mention", AD_BOT),
        "\n첫 장 무료, 이후 다이아 충전 · AI face-swap bot, first image free"
        "\n(가상 데모 광고 · fictional demo ad)",
    ]


def channel(c: ChatBuilder, s: Scene) -> int:
    """The channel's posts; returns the video post's id (a group member replies to it)."""
    m, t = s.m, s.t
    c.service(t("2024-08-05 09:00"), CHANNEL, "create_channel", title=CHANNEL_TITLE)
    welcome = [
        ("bold", "커피 사진 채널"),
        "에 오신 것을 환영합니다! ☕ 매일 아침 한 잔의 사진을 올립니다.\n"
        "Welcome! One cup a day, every morning. ",
        ("hashtag", "#커피"),
        " ",
        ("hashtag", "#coffee"),
    ]
    pinned = c.message(t("2024-08-05 09:05"), CHANNEL, welcome, reactions=[s.emoji("👍", 8, 20)])
    c.service(t("2024-08-05 09:06"), CHANNEL, "pin_message", message_id=pinned)
    when = t("2024-08-06 08:30")
    likes = [s.emoji("❤", 10, 30), s.emoji("🔥", 2, 9)]
    c.message(when, CHANNEL, LATTE, author="민지", media=_pic(c, when, m.latte), reactions=likes)
    when = t("2024-08-08 10:15")
    c.message(when, CHANNEL, CAT, media=_pic(c, when, m.cat), reactions=[s.emoji("❤", 15, 40)])
    album = t("2024-08-10 21:40")  # an album is one message per picture, all with one date
    for index, pic in enumerate((m.sky, m.moon, m.coins)):
        c.message(album, CHANNEL, SKY if index == 0 else "", media=_pic(c, album, pic))
    when, v = t("2024-08-12 12:00"), m.video
    clip = c.document(
        when,
        kind_folder="video_files",
        mime_type=v.mime_type,
        data=v.data,
        extension=".mp4",
        thumb=m.video_thumb.data,
        media_type="video_file",
        duration=v.duration_seconds,
        width=v.width,
        height=v.height,
    )
    custom = {"type": "custom_emoji", "count": s.rng.randint(1, 4), "document_id": CUSTOM_EMOJI}
    video_post = c.message(
        when,
        CHANNEL,
        "로켓처럼 빠른 원두 배송 🚀 Rocket-fast bean delivery",
        media=clip,
        reactions=[s.emoji("🔥", 3, 12), custom],
    )
    when = t("2024-08-14 09:20")
    chart = c.document(
        when,
        kind_folder="files",
        mime_type="image/png",
        data=m.chart.data,
        file_name="roast_colour_chart.png",
        thumb=m.chart_thumb.data,
        width=m.chart.width,
        height=m.chart.height,
    )
    c.message(when, CHANNEL, "원두 로스팅 색상표 (원본 파일) · Roast colour chart", media=chart)
    when = t("2024-08-14 09:21")
    sticker = c.document(
        when,
        kind_folder="stickers",
        mime_type="image/webp",
        data=m.sticker.data,
        file_name="sticker.webp",
        thumb=m.sticker_thumb.data,
        media_type="sticker",
        sticker_emoji="☕",
        width=m.sticker.width,
        height=m.sticker.height,
    )
    c.message(when, CHANNEL, media=sticker)
    pick = "☕ 오늘의 추천 메뉴: 아인슈페너 · Today's pick: Einspänner"
    c.message(t("2024-08-16 08:00"), CHANNEL, pick, via_bot="@demo_helper_bot")
    when = t("2024-08-20 10:00")
    sale = [
        "8월 원두 할인은 8/31까지! · Sale until 31 August: ",
        ("link", "https://example.com/sale"),
    ]
    c.message(when, CHANNEL, sale, edited=when + 420)
    group = ["단톡방에서도 이야기 나눠요 → ", ("mention", "@coffee_talk_demo"), "\nJoin the group."]
    c.message(t("2024-08-22 19:00"), CHANNEL, group)
    bye = "다음 주는 쉬어갑니다. 좋은 한 주 보내세요! · No posts next week, have a good one!"
    c.message(t("2024-08-30 18:00"), CHANNEL, bye)
    return video_post


def group_a(c: ChatBuilder, s: Scene, video_post: int) -> None:
    """The first group: migrated from a basic group, forwards, re-posts, then the rename."""
    m, t = s.m, s.t
    # History from the legacy basic group, imported when it became a supergroup.
    members = [MINJI.name, JUN.name]
    old = dict(title=GROUP_A_OLD_TITLE, members=members)
    c.service(t("2024-08-01 20:00"), MINJI, "create_group", mid=101 + MIGRATED, **old)
    hello = "방 만들었어요! 커피 얘기 편하게 해요 · Room is up, let's talk coffee!"
    c.message(t("2024-08-01 20:01"), MINJI, hello, mid=102 + MIGRATED)
    migrated = t("2024-08-02 09:00")
    c.service(migrated, MINJI, "migrate_to_supergroup", mid=103 + MIGRATED)
    c.service(migrated, GROUP_A, "migrate_from_group", mid=1, title=GROUP_A_OLD_TITLE)
    invited = [BEANS.name, SORA.name, GONE.name]
    c.service(t("2024-08-02 09:05"), MINJI, "invite_members", members=invited)
    c.message(t("2024-08-02 09:10"), JUN, "안녕하세요! 라떼 좋아하는 준입니다 · Hi, Jun here")
    c.service(t("2024-08-03 14:00"), ME, "join_group_by_link", inviter=MINJI.name)
    when = t("2024-08-06 08:45")  # a true forward: Telegram re-sends the very same file
    hearts = [s.emoji("❤", 2, 3, (SORA, when + 300), (JUN, when + 360))]
    fwd = c.message(
        when,
        BEANS,
        LATTE,
        forwarded_from=CHANNEL_TITLE,
        media=_pic(c, when, m.latte),
        reactions=hearts,
    )
    c.message(t("2024-08-06 08:50"), SORA, "와 라떼아트 예쁘다 · Beautiful latte art", reply_to=fwd)
    when = t("2024-08-08 10:30")
    cat = c.message(
        when, BEANS, CAT, forwarded_from=CHANNEL_TITLE, media=_pic(c, when, m.cat_small)
    )
    c.message(t("2024-08-08 10:31"), GONE, "고양이 너무 귀여워요 · So cute", reply_to=cat)
    when = t("2024-08-09 09:00")
    c.message(when, JUN, "저장해둔 사진 다시 올려요 (repost)", media=_pic(c, when, m.latte_crop))
    when = t("2024-08-09 11:00")
    moved = "토요일 모임 2시 → 3시로 변경 · Saturday meetup moved to 3 pm"
    notice = c.message(when, BEANS, moved, edited=when + 240)
    c.service(t("2024-08-09 11:05"), MINJI, "pin_message", message_id=notice)
    when = t("2024-08-10 13:00")  # voice messages were not selected for download
    voice = c.document(
        when,
        kind_folder="voice_messages",
        mime_type="audio/ogg",
        placeholder=NOT_INCLUDED,
        server_size=18234,
        media_type="voice_message",
        duration=4,
    )
    c.message(when, SORA, media=voice)
    when = t("2024-08-10 21:45")  # the path is written but the file is absent: a missing file
    sky = _pic(c, when, m.sky, write=False)
    c.message(when, MINJI, SKY, forwarded_from=CHANNEL_TITLE, media=sky)
    where = "이 영상 어디서 찍은 거예요? · Where was this filmed?"  # a reply across chats
    c.message(t("2024-08-12 12:30"), SORA, where, reply_to=video_post, reply_peer=CHANNEL.id)
    when = t("2024-08-13 08:00")
    lost = c.photo(when, None, 1280, 853, placeholder=UNAVAILABLE, server_size=154321)
    c.message(when, JUN, "아침 커피 ☕ morning cup", media=lost)
    c.unsupported()
    c.message(t("2024-08-15 09:00"), ME, "안녕하세요, 커피 입문자입니다 · Hi, new to coffee here")
    tip = [
        "입문자라면 이 글 추천해요 · A good start: ",
        ("text_link", "핸드드립 가이드", "https://example.com/pour-over-guide"),
        " (",
        ("italic", "초보용 · for beginners"),
        ")",
    ]
    c.message(t("2024-08-15 09:20"), JUN, tip)
    c.service(t("2024-08-20 03:12"), SPAM, "join_group_by_link", inviter="Group")
    c.message(t("2024-08-20 03:13"), SPAM, _bot_ad())
    c.service(t("2024-08-31 22:00"), MINJI, "edit_group_title", title=GROUP_A_TITLE)
    announcement = [
        ("bold", "📢 공지 · Notice"),
        "\n이 방은 백업방이 되었어요. ",
        ("text_link", "새 방", INVITE),
        "으로 옮겨 주세요.\nThis room is now the backup. Please move to the new room: ",
        ("link", INVITE),
        "\n채널 · Channel: ",
        ("link", "t.me/coffee_photos_demo"),
    ]
    move = c.message(t("2024-08-31 22:01"), MINJI, announcement)
    c.service(t("2024-08-31 22:02"), MINJI, "pin_message", message_id=move)
    c.message(t("2024-08-31 22:10"), JUN, "넵 이동할게요 · OK, moving over", reply_to=move)


def group_b(c: ChatBuilder, s: Scene) -> None:
    """The new room: joined through the invite link, receives the same pictures again."""
    m, t = s.m, s.t
    founders = [MINJI.name, JUN.name, BEANS.name]
    c.service(t("2024-08-31 21:50"), MINJI, "create_group", title=GROUP_B_TITLE, members=founders)
    c.service(t("2024-09-01 09:00"), ME, "join_group_by_link", inviter=MINJI.name)
    c.service(t("2024-09-01 09:05"), SORA, "join_group_by_link", inviter=MINJI.name)
    batch = t("2024-09-01 10:00")  # forwarded together: one timestamp for the batch
    for caption, pic in ((LATTE, m.latte), (CAT, m.cat_small), (SKY, m.sky_small)):
        c.message(batch, MINJI, caption, forwarded_from=CHANNEL_TITLE, media=_pic(c, batch, pic))
    when = t("2024-09-01 10:30")  # larger than the export's size limit
    vlog = c.document(
        when,
        kind_folder="video_files",
        mime_type="video/mp4",
        placeholder=TOO_LARGE,
        server_size=73400320,
        thumb_server_size=9876,
        extension=".mp4",
        media_type="video_file",
        duration=184,
        width=1280,
        height=720,
    )
    c.message(when, BEANS, "카페 브이로그 · café vlog", media=vlog)
    question = [
        "여기가 새 방 맞죠? ",
        ("mention", "@coffee_photos_demo"),
        " 채널도 구독했어요 · This is the new room, right? Subscribed to the channel too.",
    ]
    asked = c.message(t("2024-09-01 11:00"), JUN, question)
    when = t("2024-09-01 11:02")
    thumbs = [s.emoji("👍", 1, 1, (JUN, when + 60))]
    c.message(when, MINJI, "네 맞아요 👍 · Yes, this is it", reply_to=asked, reactions=thumbs)
    c.message(t("2024-09-01 11:30"), BEANS, _bot_ad(), forwarded_from=SPAM.name)
    when = t("2024-09-01 12:00")
    c.message(
        when, SORA, "첼시 사진 저장본 · my saved Chelsea pic", media=_pic(c, when, m.cat_crop)
    )
    c.message(t("2024-09-01 12:05"), ME, "감사합니다 · Thanks!")


def bot_chat(c: ChatBuilder, s: Scene) -> None:
    """A private chat with an inline-keyboard bot."""
    t = s.t
    channel_button = {"type": "url", "text": "📷 채널 · Channel", "data": CHANNEL_LINK}
    menu = [
        [_callback("☕ 오늘의 원두 · Today's beans", b"menu:beans")],
        [_callback("🍰 디저트 · Dessert", b"menu:dessert")],
        [channel_button],
    ]
    c.message(t("2024-09-01 21:00"), ME, [("bot_command", "/start")])
    hello = "안녕하세요! 커피 추천 봇입니다 ☕\nHello! I'm a coffee recommendation bot."
    c.message(t("2024-09-01 21:01"), BOT, hello, buttons=menu)
    beans = "오늘의 원두: 에티오피아 예가체프 (산뜻한 산미)\nToday's beans: Ethiopia Yirgacheffe"
    back = [[_callback("◀ 메뉴 · Menu", b"menu:root")]]
    c.message(t("2024-09-01 21:02"), BOT, beans, buttons=back)
    c.message(t("2024-09-01 21:03"), ME, [("bot_command", "/help")])
    usage = [
        "명령어 · Commands:\n",
        ("bot_command", "/start"),
        " — 메뉴 · menu\n",
        ("bot_command", "/help"),
        " — 도움말 · help",
    ]
    c.message(t("2024-09-01 21:04"), BOT, usage)


def left_chat(c: ChatBuilder, s: Scene) -> None:
    """Only the account's own messages survive in a left chat: ids have gaps, and the last
    reply points at a message that is not in the export."""
    t = s.t
    c.message(t("2024-07-20 20:00"), ME, "스터디 참여하고 싶어요 · I'd like to join", mid=41)
    when = t("2024-07-21 22:00")
    c.message(when, ME, "오늘 공부한 부분 · today's notes", mid=57, media=_pic(c, when, s.m.notes))
    last = "저는 이번 주까지만 참여할게요 · This week is my last"
    c.message(t("2024-07-28 21:00"), ME, last, mid=88, reply_to=86)
