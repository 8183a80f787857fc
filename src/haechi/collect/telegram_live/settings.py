"""Settings of live capture: ``[live]`` in ``haechi.toml`` (types checked by
:mod:`haechi.config`), ranges and meaning checked here, environment last.

Every limit a unit may need to set for its own authorisation (how many targets, how much
media, how fast) is a setting, bounded so that a typo cannot ask Telegram for a flood.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from haechi.domain import DataDirError
from haechi.i18n import t_

MEDIA_KINDS = (
    "photo",
    "video",
    "animation",
    "audio",
    "voice",
    "video_message",
    "sticker",
    "document",
)


@dataclass(frozen=True)
class LiveSettings:
    api_id: int | None = None
    api_hash: str | None = None
    max_targets: int = 200  # scope: how many rooms one data directory watches
    max_media_mb: int = 2048  # a larger file is recorded (too_large), not downloaded
    media: tuple[str, ...] = MEDIA_KINDS  # which kinds of media are downloaded at all
    backfill_limit: int = 0  # newest N messages per target on first back-fill (0: all)
    requests_per_second: float = 1.0  # history and download requests, for the account
    concurrent_downloads: int = 2
    flush_messages: int = 1000  # captures per segment (one ingest run)
    flush_seconds: float = 5.0  # ... or the oldest waiting capture is this old
    backoff_max_seconds: int = 300  # network drops: exponential, jittered, up to this
    recheck_recent: int = 100  # newest messages re-read per target per recheck
    recheck_minutes: int = 30  # edits and deletions missed while disconnected
    follow_successors: bool = False  # watch a public room announced by a vanished one
    analyze_every_seconds: int = 120  # analyzers and after-ingest hooks, while running

    @property
    def max_media_bytes(self) -> int:
        return self.max_media_mb * 1024 * 1024


_BOUNDS: dict[str, tuple[float, float]] = {
    "max_targets": (1, 10_000),
    "max_media_mb": (0, 4096),
    "backfill_limit": (0, 10**9),
    "requests_per_second": (0.05, 30),
    "concurrent_downloads": (1, 16),
    "flush_messages": (1, 5000),
    "flush_seconds": (0.05, 600),
    "backoff_max_seconds": (1, 86_400),
    "recheck_recent": (0, 1000),
    "recheck_minutes": (1, 10_080),
    "analyze_every_seconds": (10, 86_400),
}


def parse_live_settings(values: dict[str, Any]) -> LiveSettings:
    """``[live]`` as read by :func:`haechi.config.load_settings`, checked; then the
    ``HAECHI_TELEGRAM_API_ID``/``_HASH`` environment variables."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in _BOUNDS:
            low, high = _BOUNDS[key]
            if not low <= value <= high:
                raise DataDirError(
                    t_(
                        "Setting live.{key} must be between {low:g} and {high:g}.",
                        key=key,
                        low=low,
                        high=high,
                    )
                )
        out[key] = value
    media = out.get("media")
    if media is not None:
        unknown = [m for m in media if m not in MEDIA_KINDS]
        if unknown or not all(isinstance(m, str) for m in media):
            raise DataDirError(
                t_(
                    "Setting live.media names unknown kinds {unknown}; known: {media_kinds}.",
                    unknown=unknown,
                    media_kinds=", ".join(MEDIA_KINDS),
                )
            )
        out["media"] = tuple(media)
    env = os.environ
    if env.get("HAECHI_TELEGRAM_API_ID"):
        try:
            out["api_id"] = int(env["HAECHI_TELEGRAM_API_ID"])
        except ValueError:
            raise DataDirError(t_("HAECHI_TELEGRAM_API_ID must be a whole number.")) from None
    if env.get("HAECHI_TELEGRAM_API_HASH"):
        out["api_hash"] = env["HAECHI_TELEGRAM_API_HASH"].strip()
    if out.get("api_hash") is not None and not _is_hex(out["api_hash"]):
        raise DataDirError(
            t_("The Telegram api_hash must be the 32 hex digits my.telegram.org gives.")
        )
    if "requests_per_second" in out:
        out["requests_per_second"] = float(out["requests_per_second"])
    if "flush_seconds" in out:
        out["flush_seconds"] = float(out["flush_seconds"])
    return LiveSettings(**out)


def _is_hex(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdefABCDEF" for c in value)


def require_api(settings: LiveSettings) -> tuple[int, str]:
    if settings.api_id is None or not settings.api_hash:
        raise DataDirError(
            t_(
                "haechi watch needs a Telegram application: set api_id and "
                "api_hash under [live] in haechi.toml (or "
                "HAECHI_TELEGRAM_API_ID / HAECHI_TELEGRAM_API_HASH), from "
                "https://my.telegram.org > API development tools."
            )
        )
    return settings.api_id, settings.api_hash
