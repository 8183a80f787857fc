"""python-threatexchange on both sides, with its own code as the oracle.

- Its ``threatexchange`` CLI (HOME in a temporary folder) loads our extension, fetches from
  a running haechi on loopback and matches a re-compressed copy of a banked picture;
  a withdrawal reaches it on the next fetch; a narrowed scope makes it start over.
- haechi subscribes through threatexchange's own ``SignalExchangeAPI``s: the local file
  and sample APIs run here; NCMEC, StopNCII and ThreatExchange configs are checked.

threatexchange's PDQ index finds nothing when it holds a single hash
(facebook/ThreatExchange#1318, open), so the bank holds three pictures (two after the
withdrawal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from skimage import data as samples
from tests.exchange.servers import instance, served
from tests.match.conftest import cat_photo

from haechi.app import App
from haechi.domain import UsageError
from haechi.exchange.partners import add_partner, set_scope
from haechi.exchange.subscriptions import add_threatexchange, get_subscription
from haechi.exchange.sync import sync
from haechi.match.bank_sources import add_files
from haechi.match.banks import bank_items, create_bank, remove_items
from haechi.store.keys import public_pem

TX = str(Path(sys.executable).with_name("threatexchange"))


@dataclass
class Publisher:
    app: App
    url: str
    root: Path
    pem: Path
    cat: Path
    coffee: Path
    rocket: Path


def _sample(name: str, path: Path) -> Path:
    Image.fromarray(np.asarray(getattr(samples, name)())).save(path, "JPEG", quality=88)
    return path


@pytest.fixture(scope="module")
def publisher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Publisher]:
    root = tmp_path_factory.mktemp("tx")
    with instance(root, "a", "sqlite") as app, served(app) as url:
        pem = root / "a.pem"
        pem.write_bytes(public_pem(app.signer.public))
        yield Publisher(app, url, root, pem, cat_photo(root / "cat.jpg", size=600, quality=92),
                        _sample("coffee", root / "coffee.jpg"),
                        _sample("rocket", root / "rocket.jpg"))  # fmt: skip


class TxCli:
    """The ``threatexchange`` command with its state in a folder of its own."""

    def __init__(self, home: Path, token: str) -> None:
        home.mkdir()
        self.env = {**os.environ, "HOME": str(home), "TX_HAECHI_TOKEN": token}

    def __call__(self, *args: str, ok: bool = True) -> str:
        proc = subprocess.run([TX, *args], env=self.env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        if ok:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr[-3000:])
        return proc.stdout + proc.stderr


@pytest.mark.slow
def test_threatexchange_cli_fetches_from_haechi_and_matches(
    publisher: Publisher, tmp_path: Path
) -> None:
    app = publisher.app
    create_bank(app, "for hma", labels=["reported"])
    add_files(app, "for hma", [publisher.cat, publisher.coffee, publisher.rocket])
    token, _ = add_partner(app, "hma", banks=["for hma"])
    tx = TxCli(tmp_path / "txhome", token)
    assert "HaechiSignalExchangeAPI" in tx("config", "extensions", "add",
                                           "haechi.exchange.tx_extension")  # fmt: skip
    tx("config", "collab", "edit", "haechi", "haechi-a", "--create", "--url", publisher.url,
       "--public-key-file", str(publisher.pem))  # fmt: skip
    assert "Up to date" in tx("fetch")
    counts = tx("dataset")
    assert "pdq: 3" in counts and "video_md5: 3" in counts and "video_sha256: 3" in counts
    # a smaller, re-compressed copy of the cat: threatexchange's own PDQ finds it
    copy = cat_photo(tmp_path / "copy.jpg", size=300, quality=60)
    found = tx("match", "photo", str(copy))
    assert "(haechi-a)" in found and "reported" in found and "POSITIVE_CLASS" in found
    distance = int(found.split()[1])
    assert 0 < distance <= 31
    # the victim withdraws consent at the publisher: gone at the next fetch
    [cat] = [i for i in bank_items(app, "for hma") if i.origin == "file:cat.jpg"]
    remove_items(app, "for hma", [cat.id], reason="consent withdrawn")
    tx("fetch")
    assert "(haechi-a)" not in tx("match", "photo", str(copy))
    assert "(haechi-a)" in tx("match", "photo", str(publisher.coffee))
    # the partner's scope changes: the checkpoint turns stale, the next fetch starts over
    create_bank(app, "empty for hma")
    set_scope(app, "hma", banks=["empty for hma"])
    tx("fetch")
    tx("fetch")
    assert "pdq" not in tx("dataset")
    # a page signed by another key, then a wrong token: refused, nothing fetched
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    set_scope(app, "hma", banks=["for hma"])
    tx("config", "collab", "edit", "haechi", "wrong-key", "--create", "--url", publisher.url,
       "--public-key-file", str(wrong))  # fmt: skip
    out = tx("--verbose", "fetch", "--only-collab", "wrong-key", ok=False)
    assert "failed to fetch" in out and "not by the partner's key" in out
    tx.env["TX_HAECHI_TOKEN"] = "hxp_" + "0" * 43
    tx("config", "collab", "edit", "haechi", "wrong-key", "--url", publisher.url,
       "--public-key-file", str(publisher.pem))  # fmt: skip
    assert "HTTP 401" in tx("--verbose", "fetch", "--only-collab", "wrong-key", ok=False)
    assert "pdq" not in tx("dataset")


def test_haechi_subscribes_through_threatexchange_file_and_sample_apis(tmp_path: Path) -> None:
    signals = tmp_path / "partner.txt"
    signals.write_text(f"pdq {'d' * 64}\nvideo_md5 {'6' * 32}\n", encoding="utf-8")
    with instance(tmp_path, "b", "sqlite") as app:
        config = {"name": "partner-file", "api": "local_file", "enabled": True,
                  "filename": str(signals)}  # fmt: skip
        add_threatexchange(app, "file", config=config)
        bank = get_subscription(app, "file").bank_name
        [first] = sync(app, "file")
        assert first.error is None and first.added == 2
        assert {v for i in bank_items(app, bank) for _, v, _ in i.signals} == {"d" * 64, "6" * 32}
        [item] = [i for i in bank_items(app, bank) if i.signals[0][0] == "pdq"]
        assert item.external_id == f"pdq:{'d' * 64}"
        assert item.attributes["exchange"]["partner"] == "file"
        signals.write_text(signals.read_text() + f"video_sha256 {'7' * 64}\n")
        [second] = sync(app, "file")
        assert (second.added, second.unchanged) == (1, 2)
        signals.write_text(signals.read_text() + "pdq not-a-hash\n")
        [bad] = sync(app, "file")
        assert bad.error and "malformed pdq hash" in bad.error
        assert len(bank_items(app, bank)) == 3

        add_threatexchange(app, "sample", config={"name": "s", "api": "sample", "enabled": True})
        [one] = sync(app, "sample")
        assert one.error is None and one.added > 0
        [two] = sync(app, "sample")  # no checkpoint: a restart, nothing changed
        assert (two.added, two.withdrawn, two.swept) == (0, 0, 0) and two.unchanged == one.added


def test_threatexchange_configs_and_credentials_are_checked(tmp_path: Path) -> None:
    with instance(tmp_path, "b", "sqlite") as app:
        ncmec = {"name": "ncmec", "api": "ncmec", "enabled": True, "environment":
                 "https://report.cybertip.org/hashsharing"}  # fmt: skip
        sub = add_threatexchange(app, "ncmec", config=ncmec, credentials="user:secret")
        assert sub.tx_api == "ncmec" and sub.tx_config and sub.tx_config["only_esp_ids"] == []
        stopncii = {"name": "stopncii", "api": "stop_ncii", "enabled": True}
        assert add_threatexchange(app, "stopncii", config=stopncii, credentials="key,sub").tx_api
        te = {"name": "te", "api": "fb_threatexchange", "enabled": True, "privacy_group": 1234}
        assert add_threatexchange(app, "te", config=te).tx_api == "fb_threatexchange"
        for config, creds, why in (
            ({**ncmec, "name": "n2"}, "no-colon", "incomplete"),
            ({**ncmec, "name": "n3", "environment": "https://example.invalid"}, None, "not valid"),
            ({"name": "x", "api": "iwf", "enabled": True}, None, "Unknown threatexchange API"),
            ({"name": "f", "api": "local_file", "enabled": True, "filename": "rel.txt"}, None,
             "not an absolute file path"),
            ({**stopncii, "name": "s2"}, "only-one-part", "not valid"),
        ):  # fmt: skip
            with pytest.raises(UsageError, match=why):
                add_threatexchange(app, f"bad-{config['name']}", config=config, credentials=creds)
        creds_file = app.settings.keys_dir / "exchange" / f"sub-{sub.id}.credentials"
        assert creds_file.read_text() == "user:secret" and creds_file.stat().st_mode & 0o077 == 0
        assert "secret" not in json.dumps(sub.as_dict())
