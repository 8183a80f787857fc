"""Two real haechi instances per back end: ``a`` publishes (its store is empty), ``b``
holds the benign demo export, ingested and hashed, so what it imports is matched against
real stored pictures. Both are served by uvicorn on loopback ports for the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import _PG_SKIP
from tests.exchange.servers import instance, served
from tests.match.conftest import cat_photo, ingest_and_hash

from haechi.app import App
from haechi.store.keys import public_pem


@dataclass
class Pair:
    a: App
    b: App
    a_url: str
    b_url: str
    root: Path
    backend: str

    def pem(self, app: App) -> bytes:
        return public_pem(app.signer.public)

    def cat(self, name: str = "cat.jpg", **kw: object) -> Path:
        return cat_photo(self.root / name, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    if request.param == "postgresql" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    from haechi.demo.export_builder import build_demo_export

    root = tmp_path_factory.mktemp(f"exchange-{request.param}")
    with instance(root, "a", request.param) as a, instance(root, "b", request.param) as b:
        ingest_and_hash(b, build_demo_export(root / "export"))
        with served(a) as a_url, served(b) as b_url:
            yield Pair(a, b, a_url, b_url, root, request.param)
