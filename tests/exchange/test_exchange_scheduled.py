"""The scheduled sync (`haechi exchange serve --every`, the command a service runs) picks up a
partner's additions and withdrawals on its own; what a partner receives carries the hashes,
labels and times only, never the notes, references or origin a bank item holds here."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from tests.exchange.servers import instance, served

from haechi.exchange.partners import add_partner
from haechi.exchange.publish import serve_page
from haechi.exchange.subscriptions import add_haechi, get_subscription
from haechi.match.bank_sources import add_hashes
from haechi.match.banks import bank_items, create_bank, remove_items
from haechi.store.keys import public_pem


def _until(check: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")


def test_exchange_serve_syncs_additions_and_withdrawals_on_its_schedule(tmp_path: Path) -> None:
    with instance(tmp_path, "a", "sqlite") as a, instance(tmp_path, "b", "sqlite") as b:
        create_bank(a, "scheduled", labels=["reported"])
        add_hashes(a, "scheduled", [("md5", "8" * 32)])
        token, _ = add_partner(a, "b", banks=["scheduled"])
        b_home = b.settings.home
        with served(a) as url:
            add_haechi(b, "a", url=url, token=token, public_key_pem=public_pem(a.signer.public))
            bank = get_subscription(b, "a").bank_name

            def held() -> set[str]:
                return {v for item in bank_items(b, bank) for _, v, _ in item.signals}

            env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
            env["HAECHI_HOME"] = str(b_home)
            proc = subprocess.Popen(
                [sys.executable, "-m", "haechi.cli.main", "exchange", "serve", "--every", "1s"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                _until(lambda: held() == {"8" * 32}, "the first item")
                add_hashes(a, "scheduled", [("sha256", "9" * 64)])
                _until(lambda: held() == {"8" * 32, "9" * 64}, "an item added later")
                [first] = [i for i in bank_items(a, "scheduled") if i.signals[0][0] == "md5"]
                remove_items(a, "scheduled", [first.id], reason="consent withdrawn")
                _until(lambda: held() == {"9" * 64}, "the withdrawal")
                assert proc.poll() is None  # still serving
            finally:
                proc.terminate()
                out, err = proc.communicate(timeout=30)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 3 and "Traceback" not in err
    assert any("1 withdrawn" in line for line in lines), lines


def test_a_published_page_holds_hashes_labels_and_times_only(tmp_path: Path) -> None:
    """Notes, external references and the origin of a bank item (where a victim's name, a
    phone number or a case reference may be written) never leave in a page."""
    secrets = ("Kim Sora", "+82 10-1234-5678", "FTM-7 victim report", "support centre Seoul")
    with instance(tmp_path, "a", "sqlite") as a:
        create_bank(a, "reports", origin=secrets[3], labels=["reported"])
        add_hashes(a, "reports", [("pdq", "c" * 64), ("md5", "c" * 32)],
                   notes=f"sent by {secrets[0]}, {secrets[1]}", external_id=secrets[2])  # fmt: skip
        token, _ = add_partner(a, "b", banks=["reports"])
        body = serve_page(a, token).body
    envelope = orjson.loads(body)
    payload = orjson.loads(envelope["payload"])
    [item] = payload["items"]
    assert set(item) == {"change", "op", "item", "labels", "added_at", "signals"}
    assert item["labels"] == ["reported"]
    assert {(s["kind"], s["value"]) for s in item["signals"]} == {("pdq", "c" * 64),
                                                                   ("md5", "c" * 32)}  # fmt: skip
    text = body.decode()
    assert not [s for s in secrets if s in text]
