"""``[capture]`` in haechi.toml: the timestamp authority and the limits of a page capture."""

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
    )
