"""Entry point for ``uvicorn`` with several worker processes (``haechi serve --workers``):
each worker builds its application from the environment ``haechi serve`` set."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from haechi.services.exposure import Thresholds
from haechi.web.settings import WebSettings

ENV = "HAECHI_WEB_SETTINGS"


def settings_to_env(settings: WebSettings) -> str:
    return json.dumps(asdict(settings))


def settings_from_env() -> WebSettings:
    data: dict[str, Any] = json.loads(os.environ.get(ENV) or "{}")
    wellness = Thresholds(**data.pop("wellness", {}))
    proxies = tuple(data.pop("trusted_proxies", ()))
    metrics = tuple(data.pop("metrics_networks", ()))
    return WebSettings(**data, wellness=wellness, trusted_proxies=proxies, metrics_networks=metrics)


def create_from_env() -> FastAPI:
    from haechi.app import open_app
    from haechi.web.app import create_app

    home = os.environ.get("HAECHI_HOME")
    return create_app(open_app(Path(home) if home else None), settings_from_env())
