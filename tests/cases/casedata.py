"""Shared set-up for the cases and report tests: the benign demo export, ingested for real."""

from __future__ import annotations

from pathlib import Path

from haechi.app import App
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run.ingest import Ingestor

CHANNEL = "channel:2087654321"  # public channel (posts the pictures)
GROUP_A = "channel:2012345678"  # supergroup: forwards the pictures (t.me/c/ links)
GROUP_B = "chat:987654321"  # legacy basic group: messages have no link
BOT = "user:6200000001"  # bot chat: no link
CHANNEL_URL = "https://t.me/coffee_photos_demo"
LATTE_POST = 4  # channel message 4: the latte photo
CAT_POST = 5


def ingest(app: App, export: Path) -> None:
    Ingestor(app, TelegramExportCollector(export)).run()


def demo_case(app: App, *, minor: bool = False, consent: bool = True, name: str = "김서연") -> str:
    """A case with the channel, two of its posts, a victim (with consent) and a suspect."""
    from haechi.cases import items, people, service

    case = service.create_case(app, "Deepfake channel", reported_on="2024-08-20", tags=["demo"])
    items.add_chat(app, case.ref, CHANNEL, url=CHANNEL_URL)
    items.add_message(app, case.ref, chat=CHANNEL, message_id=LATTE_POST)
    items.add_message(app, case.ref, url=f"{CHANNEL_URL}/{CAT_POST}")
    label = people.add_victim(app, case.ref, display_name=name, age=16 if minor else 24)
    if consent:
        people.record_consent(
            app, case.ref, label, "takedown", given_by="guardian" if minor else "subject"
        )
    people.add_suspect(app, case.ref, identifiers=[("telegram_username", "maker_bot_owner")])
    return case.ref
