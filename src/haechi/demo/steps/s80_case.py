"""Open a case on the sample export, draft Korean and English notices, follow one to its
removal and the re-upload, write an evidence package and verify it with its own script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from haechi.demo.steps import DemoContext

ORDER = 80
TITLE = "case"
REF = "DEMO-2024-001"
CHANNEL = "channel:2087654321"
CHANNEL_URL = "https://t.me/coffee_photos_demo"


def _open_case(ctx: DemoContext) -> bool:
    """Create the demo case once; True when it was created now."""
    from haechi.cases import items, people, service
    from haechi.cases.model import CaseError

    app = ctx.app
    try:
        service.get_summary(app, REF)
        return False
    except CaseError:
        pass
    service.create_case(
        app, "커피 사진 채널 유포 (demo)", ref=REF, reported_on="2024-08-20", tags=["demo"]
    )
    items.add_chat(app, REF, CHANNEL, url=CHANNEL_URL)
    items.add_message(app, REF, chat=CHANNEL, message_id=4)  # the latte photo
    items.add_message(app, REF, url=f"{CHANNEL_URL}/5")  # the café cat
    label = people.add_victim(app, REF, display_name="(fictional) 홍길순", age=24)
    people.record_consent(app, REF, label, "takedown")
    people.add_suspect(
        app, REF, identifiers=[("telegram_id", "5500000013")], account="user:5500000013"
    )
    from haechi.cases.notices.profiles import set_profile

    set_profile(
        app, "demo-unit", person_name="해치 수사관", email="cyber-unit@police.example",
        organisation="Demo Cyber Investigation Unit",
    )  # fmt: skip
    return True


def _notices(ctx: DemoContext) -> None:
    from haechi.cases.detail import case_detail
    from haechi.cases.notices.service import draft_notice
    from haechi.cases.notices.status import mark
    from haechi.cases.watch import scan

    app = ctx.app
    ko = draft_notice(app, REF, "kcsc", "ko").notice
    en = draft_notice(app, REF, "telegram", "en").notice
    for n in (ko, en):
        ctx.out.print(
            f"drafted notice N{n.id}: {n.subject} → {n.to_address or n.recipient}", highlight=False
        )
    first_line = en.body.splitlines()[4:7]
    ctx.out.print("  " + "\n  ".join(first_line), highlight=False, markup=False)
    photos = [i.id for i in case_detail(app, REF).items if i.kind == "media"]  # latte and cat
    one = draft_notice(app, REF, "telegram", "en", item_ids=photos).notice
    mark(app, one.id, "sent", at="2024-08-08T11:00+09:00")  # after both photos were posted
    done = mark(app, one.id, "removed", at="2024-08-08T15:30+09:00")
    ctx.out.print(f"notice N{one.id}: removed {done.hours_to_removal:.1f} hours after it was sent")
    for hit in scan(app).hits:
        ctx.out.print(
            f"re-upload watch ({hit.method}): {hit.kind} of a removed photo in {hit.chat_key} "
            f"message {hit.message_id} → item {hit.new_item_id}",
            highlight=False,
        )


def _package(ctx: DemoContext) -> None:
    from haechi.report.package import PackageOptions, create_package

    folder = ctx.home / "packages"
    folder.mkdir(exist_ok=True)
    n = 1
    while (folder / f"{REF}-{n}").exists():
        n += 1
    result = create_package(ctx.app, REF, folder / f"{REF}-{n}", PackageOptions())
    ctx.out.print(
        f"evidence package {result.path}: {result.files} files, {result.events} custody events",
        highlight=False,
    )
    ok = _verify(ctx, result.path)
    ctx.ok &= ok
    ctx.facts["case_ref"] = REF
    ctx.facts["package"] = str(result.path)


def _verify(ctx: DemoContext, path: Path) -> bool:
    proc = subprocess.run(
        [sys.executable, str(path / "verify_package.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    verdict = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    colour = "green" if proc.returncode == 0 else "red"
    ctx.out.print(f"standalone verifier: [{colour}]{verdict}[/]", highlight=False)
    return proc.returncode == 0


def run(ctx: DemoContext) -> None:
    if _open_case(ctx):
        ctx.out.print(f"opened case {REF} with the channel and two of its posts")
        _notices(ctx)
    else:
        ctx.out.print(f"case {REF} is already open (demo data reused)")
    _package(ctx)
    ctx.out.print(
        f"Try: haechi case show {REF} --home {ctx.home}   ·   haechi notice list --home {ctx.home}"
        f"   ·   haechi verify-package {ctx.facts['package']}",
        highlight=False,
    )
