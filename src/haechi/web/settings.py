"""Settings of the web application (``haechi serve`` options; wellness limits from
``HOME/web.toml`` when present)."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from haechi.domain import DataDirError
from haechi.i18n import Msg, t_
from haechi.services.exposure import Thresholds

WEB_CONFIG = "web.toml"


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8470
    # None: Secure cookies exactly when the request came over HTTPS.
    cookie_secure: bool | None = None
    idle_seconds: int = 60 * 60
    absolute_seconds: int = 12 * 60 * 60
    max_body_bytes: int = 1024 * 1024  # forms and API bodies
    # reference photos at enrolment and bank uploads (security.is_upload only), read into memory
    max_upload_bytes: int = 32 * 1024 * 1024
    run_jobs: bool = True  # start the background-job runner with the server
    job_concurrency: int = 1  # jobs running at once per server process
    workers: int = 1  # server processes sharing the port (haechi serve --workers)
    wellness: Thresholds = field(default_factory=Thresholds)
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks); none by
    # default: the TCP peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Who may read /metrics besides the loopback (haechi.web.monitoring): networks, and
    # the SHA-256 of a bearer token ([metrics] in web.toml).
    metrics_networks: tuple[str, ...] = ()
    metrics_token_sha256: str | None = None

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)


def parse_proxies(values: object, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DataDirError(t_("{where} must be a list of addresses or networks.", where=where))
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise DataDirError(
                t_("{where}: {value!r} is not an address or network.", where=where, value=value)
            ) from None
    return tuple(values)


def _metrics(section: dict[str, object], path: Path) -> dict[str, object]:
    """[metrics] networks = ["10.0.0.0/8"], token_sha256 = "<64 hex digits>"."""
    values: dict[str, object] = {}
    rest = dict(section)
    if "networks" in rest:
        values["metrics_networks"] = parse_proxies(
            rest.pop("networks"), t_("{name} in {path}", name="metrics.networks", path=path)
        )
    if "token_sha256" in rest:
        digest = rest.pop("token_sha256")
        if (
            not isinstance(digest, str)
            or len(digest) != 64
            or not all(c in "0123456789abcdef" for c in digest.lower())
        ):
            raise DataDirError(
                t_("metrics.token_sha256 in {path} must be 64 hex digits.", path=path)
            )
        values["metrics_token_sha256"] = digest.lower()
    if rest:
        raise DataDirError(_unknown(rest, "metrics", path))
    return values


def _unknown(rest: dict[str, object], section: str, path: Path) -> Msg:
    return t_(
        "Unknown setting(s) {names} in [{section}] of {path}.",
        names=sorted(rest),
        section=section,
        path=path,
    )


def _not_positive(setting: str, path: Path) -> Msg:
    return t_("{setting} in {path} must be a positive whole number.", setting=setting, path=path)


def load_web_settings(home: Path, **overrides: object) -> WebSettings:
    """Defaults < ``HOME/web.toml`` ([session], [wellness]) < ``overrides``."""
    values: dict[str, object] = {}
    path = home / WEB_CONFIG
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataDirError(
                t_("The web settings file {path} is not valid TOML: {exc}.", path=path, exc=exc)
            ) from exc
        session = data.pop("session", {})
        wellness = data.pop("wellness", {})
        proxy = data.pop("proxy", {})
        values.update(_metrics(data.pop("metrics", {}), path))
        if data:
            raise DataDirError(
                t_(
                    "Unknown section(s) {names} in {path}: use [session], [wellness], [proxy], "
                    "[metrics].",
                    names=sorted(data),
                    path=path,
                )
            )
        if "trusted" in proxy:
            values["trusted_proxies"] = parse_proxies(
                proxy.pop("trusted"), t_("{name} in {path}", name="proxy.trusted", path=path)
            )
        if proxy:
            raise DataDirError(_unknown(proxy, "proxy", path))
        for key, name in (("idle_minutes", "idle_seconds"), ("hours", "absolute_seconds")):
            if key in session:
                value = session.pop(key)
                if not isinstance(value, int) or value < 1:
                    raise DataDirError(_not_positive(f"session.{key}", path))
                values[name] = value * (60 if key == "idle_minutes" else 3600)
        if session:
            raise DataDirError(_unknown(session, "session", path))
        limits = {}
        for key in ("previews", "reveals", "minutes"):
            if key in wellness:
                value = wellness.pop(key)
                if not isinstance(value, int) or value < 1:
                    raise DataDirError(_not_positive(f"wellness.{key}", path))
                limits[key] = value
        if wellness:
            raise DataDirError(_unknown(wellness, "wellness", path))
        values["wellness"] = Thresholds(**limits)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WebSettings(**values)  # type: ignore[arg-type]
