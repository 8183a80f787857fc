"""``bot_conversation``: an investigator's conversation with a suspect bot (``haechi watch
bot``) from the live-capture page or ``POST /api/jobs``. The commands are checked when the
job is submitted (text only, at most twenty, nothing that asks for generation: a refused
one means no job); the worker process opens the sealed Telegram session exactly as the
command does and runs the same service (:mod:`haechi.collect.telegram_live.bot_run`). The
job's page shows what was sent, the replies, the buttons and links found, the profile's
SHA-256 and a link to the bot's chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.collect.telegram_live.bot_run import ClientFactory, check_request, talk_to_bot
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.jobs.kinds._case import optional_case
from haechi.jobs.model import JobContext, JobKind, JobOutput
from haechi.store.models import Chat
from haechi.store.textsafe import clean_json

# Where the worker gets its Telegram client: None is Telethon over the sealed session; the
# tests put the fake Telegram (tests/live/fake_telegram.py) here.
make_client: ClientFactory | None = None
SHOWN = 50  # buttons and links listed on the job's page (all are in the stored messages)


def _commands(value: object) -> list[Any]:
    """The commands as a list: one a line from a form, or a JSON list from the API."""
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(t_("Give the commands as text, one a line, or as a list of texts."))
    return value


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.collect.telegram_live.account import settings_for
    from haechi.collect.telegram_live.sessionbox import session_path

    request = check_request(
        str(params.get("bot") or ""), _commands(params.get("commands")),
        params.get("wait_seconds", 15),
    )  # fmt: skip
    settings_for(app)  # a Telegram application is set up (refused now, not in the job)
    if not session_path(app.settings.keys_dir).is_file():
        raise UsageError(
            t_("No Telegram account is logged in: run `haechi watch login` on the server first.")
        )
    cleaned: dict[str, Any] = {
        "bot": request.bot, "commands": request.commands, "wait_seconds": request.wait_seconds,
    }  # fmt: skip
    return optional_case(app, params, cleaned)


def run(ctx: JobContext) -> JobOutput:
    # Checked again: the parameters come back from the database.
    request = check_request(
        ctx.params["bot"], list(ctx.params["commands"]), ctx.params["wait_seconds"]
    )
    ctx.progress(0.05, "talking")
    report = talk_to_bot(ctx.app, request, case=ctx.params.get("case"), make_client=make_client)
    with ctx.app.db.connect() as conn:
        chat_id = conn.execute(select(Chat.id).where(Chat.key == report.chat_key)).scalar()
    sent = set(report.sent)
    links = sorted(set(report.links))
    return JobOutput(
        summary={
            "bot": report.bot,
            "commands_sent": len(report.sent),
            "replies": len([m for m in set(report.message_ids) if m not in sent]),
            "messages_new": report.messages_new,
            "buttons_found": len(report.buttons),
            "links_found": len(links),
            "case_items": report.case_items,
            # Shown by the job's own part of the page (_job_bot_conversation.html); texts
            # from Telegram made storable, and shortened (the messages keep them whole).
            "conversation": clean_json(
                {
                    "bot_id": report.bot_id,
                    "chat_id": chat_id,
                    "chat_key": report.chat_key,
                    "sent": [
                        {"id": mid, "text": text}
                        for mid, text in zip(report.sent, request.commands, strict=False)
                    ],
                    "buttons": [
                        {k: v[:300] if isinstance(v, str) else v for k, v in b.items()}
                        for b in report.buttons[:SHOWN]
                    ],
                    "links": [link[:300] for link in links[:SHOWN]],
                    "profile_sha256": report.profile_sha256,
                    "case": ctx.params.get("case"),
                }
            ),
        }
    )


KIND = JobKind(
    name="bot_conversation",
    perm=Perm.LIVE,
    title_key="jobs.kind.bot_conversation",
    check=check,
    run=run,
    # Twenty commands, each waited on for up to two minutes, and the capture after.
    time_limit=3600.0,
)
