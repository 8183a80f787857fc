"""``[capture]`` in haechi.toml: the timestamp authority, the limits of a page capture and
the pace of following a channel's older pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haechi.collect.web_capture.fetch import Limits
from haechi.config import Settings, read_config_file
from haechi.domain import DataDirError
from haechi.i18n import t_

MB = 1024 * 1024


@dataclass(frozen=True)
class CaptureSettings:
    tsa_url: str | None = None
    tsa_ca_file: Path | None = None
    limits: Limits = field(default_factory=Limits)
    chromium: str | None = None
    screenshot: bool = True
    pages: int = 1  # preview pages per capture: 1 is the newest page alone
    page_delay: float = 2.0  # seconds between two pages of a channel's history
    retry_wait_max: float = 60.0  # the longest Retry-After waited for; longer stops paging


def _positive(data: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DataDirError(
            t_(
                "Setting capture.{key} in {path} must be a whole number of at least 1.",
                key=key,
                path=path,
            )
        )
    return value


def _seconds(data: dict[str, Any], key: str, default: float, path: Path) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 3600:
        raise DataDirError(
            t_(
                "Setting capture.{key} in {path} must be a number of seconds from 0 to 3600.",
                key=key,
                path=path,
            )
        )
    return float(value)


def load(settings: Settings) -> CaptureSettings:
    """Read ``[capture]`` (types were checked by :func:`haechi.config.read_config_file`)."""
    path = settings.config_path
    data = read_config_file(path).get("capture", {})
    base = Limits()
    limits = Limits(
        page_bytes=_positive(data, "max_page_mb", base.page_bytes // MB, path) * MB,
        media_bytes=_positive(data, "max_media_mb", base.media_bytes // MB, path) * MB,
        total_bytes=_positive(data, "max_total_mb", base.total_bytes // MB, path) * MB,
        max_media=_positive(data, "max_media", base.max_media, path),
        timeout=float(_positive(data, "timeout_seconds", int(base.timeout), path)),
    )
    ca = data.get("tsa_ca_file")
    ca_path = Path(ca).expanduser() if ca else None
    if ca_path is not None and not ca_path.is_absolute():
        ca_path = settings.home / ca_path
    return CaptureSettings(
        tsa_url=data.get("tsa_url") or None,
        tsa_ca_file=ca_path,
        limits=limits,
        chromium=data.get("chromium") or None,
        screenshot=bool(data.get("screenshot", True)),
        pages=_positive(data, "pages", 1, path),  # its upper bound is checked per capture
        page_delay=_seconds(data, "page_delay_seconds", 2.0, path),
        retry_wait_max=_seconds(data, "retry_after_max_seconds", 60.0, path),
    )
