"""A small, benign Telegram export for the face demo: one public-domain portrait re-posted.

The picture is scikit-image's ``astronaut``: NASA's official portrait of astronaut Eileen
Collins (a US-government work in the public domain). A space-photo channel posts it; two
groups re-post altered copies (cropped, resized, recompressed, mirrored, greyscale), as
re-posted pictures travel on Telegram. Other posts carry pictures without people. The
demo then enrols a *fictional* consenting subject from a different crop of the portrait
(:func:`reference_photo`, never part of the export) and finds her in every re-post.

The main demo export shows no people on purpose; this one exists only for the face step.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from skimage import data

from haechi.demo.tdesktop_format import (
    ABOUT_CHATS,
    ABOUT_LEFT_CHATS,
    ABOUT_TELEGRAM,
    ChatBuilder,
    Peer,
    chat_folder,
    dumps,
    unix_at,
)

EXPORT_FOLDER = "DataExport_faces_demo"
USER_ID = 6100000002  # the fictional exporting investigator of this export
ME = Peer("해치 수사관 2", f"user{USER_ID}")
POSTER = Peer("우주 사진 채널 · Space Photos", "channel2087650001")
TAEO = Peer("Taeo", "user5500000101")
HANA = Peer("하나", "user5500000102")

CHATS = (
    ("우주 사진 채널 · Space Photos", "public_channel", 2087650001),
    ("사진 공유방 · Photo Swap", "public_supergroup", 2012340001),
    ("백업방 · Backup Room", "private_supergroup", 2012340002),
)


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, subsampling=2, optimize=False)
    return buf.getvalue()


def _portrait() -> Image.Image:
    return Image.fromarray(data.astronaut())


def variants() -> dict[str, tuple[bytes, int, int]]:
    """The re-posts: name -> (JPEG bytes, width, height). Deterministic."""
    im = _portrait()
    out: dict[str, Image.Image] = {
        "original": im,
        "cropped": im.crop((60, 0, 380, 320)).resize((400, 400), Image.Resampling.BICUBIC),
        "small": im.resize((256, 256), Image.Resampling.BILINEAR),
        "mirrored": ImageOps.mirror(im),
        "greyscale": ImageOps.grayscale(im.crop((40, 10, 440, 410))).resize(
            (300, 300), Image.Resampling.BICUBIC
        ),
    }
    quality = {"original": 92, "cropped": 80, "small": 45, "mirrored": 35, "greyscale": 60}
    return {k: (_jpeg(v, quality[k]), v.width, v.height) for k, v in out.items()}


def reference_photo() -> bytes:
    """The fictional subject's own reference photo: another, tighter crop, a little
    brighter, as PNG. Not in the export."""
    arr = data.astronaut()[20:260, 110:330].astype(np.float32) * 1.08
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).resize(
        (330, 360), Image.Resampling.LANCZOS
    )
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _other(name: str) -> tuple[bytes, int, int]:
    im = Image.fromarray(getattr(data, name)())
    return _jpeg(im, 85), im.width, im.height


def build_faces_export(dest: Path) -> Path:
    """Write ``dest/DataExport_faces_demo/`` and return it (replacing an earlier one)."""
    folder = Path(dest) / EXPORT_FOLDER
    if folder.exists():
        previous = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        if previous.get("personal_information", {}).get("user_id") != USER_ID:
            raise FileExistsError(f"{folder} exists and is not the haechi face demo export")
        shutil.rmtree(folder)
    files: dict[str, bytes] = {}
    chats = [
        ChatBuilder(name, kind, bare_id, chat_folder(n, len(CHATS)), files)
        for n, (name, kind, bare_id) in enumerate(CHATS, start=1)
    ]
    channel, swap, backup = chats
    v = variants()

    def post(c: ChatBuilder, when: str, who: Peer, text: str, pic: tuple[bytes, int, int]) -> None:
        unix = unix_at(when)
        c.message(unix, who, text, media=c.photo(unix, pic[0], pic[1], pic[2]))

    post(channel, "2024-08-01 10:00:00", POSTER, "Official crew portrait (NASA)", v["original"])
    post(channel, "2024-08-01 11:00:00", POSTER, "Launch day", _other("rocket"))
    post(channel, "2024-08-02 09:30:00", POSTER, "Coffee before the countdown", _other("coffee"))
    post(swap, "2024-08-03 21:10:00", TAEO, "saved this one", v["cropped"])
    post(swap, "2024-08-03 21:12:00", HANA, "smaller copy", v["small"])
    swap.message(unix_at("2024-08-03 21:15:00"), TAEO, "moving to the backup room")
    post(backup, "2024-08-05 08:00:00", HANA, "re-up", v["mirrored"])
    post(backup, "2024-08-05 08:05:00", TAEO, "b/w version", v["greyscale"])
    post(backup, "2024-08-05 08:20:00", HANA, "the office cat", _other("chelsea"))
    root = {
        "about": ABOUT_TELEGRAM,
        "personal_information": {
            "user_id": USER_ID,
            "first_name": "해치",
            "last_name": "수사관",
            "phone_number": "+99966 1 0002",  # Telegram's reserved test range: nobody's
            "username": "@haechi_demo_faces",
            "bio": "데모용 가상 계정 · fictional demo account",
        },
        "chats": {"about": ABOUT_CHATS, "list": [c.to_dict() for c in chats]},
        "left_chats": {"about": ABOUT_LEFT_CHATS, "list": []},
    }
    folder.mkdir(parents=True)
    for rel, blob in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    (folder / "result.json").write_text(dumps(root), encoding="utf-8")
    return folder
