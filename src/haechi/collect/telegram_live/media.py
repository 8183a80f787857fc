"""Media of a live message: downloaded into the spool, within the size limits, with the
file reference refreshed when Telegram says it expired.

A file reference is a short-lived token inside the message; an old one makes Telegram answer
``FILE_REFERENCE_EXPIRED`` (knadh/tg-archive#52 lost media that way). The fix is to read the
message again (a fresh reference) and retry, which is what :meth:`Downloader.fetch` does.
A file over ``live.max_media_mb`` (by its declared size, or while it streams in) is
recorded as ``too_large`` and not fetched; a kind left out of ``live.media`` as
``not_included``. Nothing here writes outside the spool folder: the name is ours.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telethon import errors as tg
from telethon.tl import types

from haechi.collect.telegram_live.convert import MediaPlan
from haechi.collect.telegram_live.pacing import Pacer
from haechi.collect.telegram_live.settings import LiveSettings
from haechi.domain import MediaStatus

log = logging.getLogger("haechi.watch")
Refetch = Callable[[int], Awaitable[Any]]  # message id -> the message read again, or None
REFRESHES = 2  # file-reference refreshes per file before it is recorded as unavailable


class _TooLarge(Exception):
    pass


class Downloader:
    def __init__(self, client: Any, settings: LiveSettings, spool: Path, pacer: Pacer) -> None:
        self.client, self.settings, self.spool, self.pacer = client, settings, spool, pacer
        self._slots = asyncio.Semaphore(settings.concurrent_downloads)

    async def fetch(self, msg: Any, plans: list[MediaPlan], refetch: Refetch) -> list[Path]:
        """Download each planned file; fills each plan's FileRef (local path and status).
        Returns the spool paths written (removed by the flush once stored)."""
        written: list[Path] = []
        for plan in plans:
            ref = plan.ref
            if plan.kind not in self.settings.media:
                ref.status = MediaStatus.NOT_INCLUDED
                ref.note = f"live.media leaves out {plan.kind}"
                continue
            limit = self.settings.max_media_bytes
            if limit == 0 or (plan.declared_size is not None and plan.declared_size > limit):
                ref.status = MediaStatus.TOO_LARGE
                ref.note = f"larger than live.max_media_mb ({plan.declared_size} bytes)"
                continue
            path = self.spool / f"media-{secrets.token_hex(8)}"
            msg = await self._download(msg, plan, path, refetch)
            if ref.status is MediaStatus.PRESENT:
                written.append(path)
            else:
                path.unlink(missing_ok=True)
        return written

    async def _download(self, msg: Any, plan: MediaPlan, path: Path, refetch: Refetch) -> Any:
        ref, limit = plan.ref, self.settings.max_media_bytes

        def guard(received: int, _total: int) -> None:
            if received > limit:  # a declared size can lie; the stream cannot
                raise _TooLarge

        for attempt in range(REFRESHES + 1):
            await self.pacer.wait()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    async with self._slots:
                        await self.client.download_media(msg, file=fh, progress_callback=guard)
            except tg.FileReferenceExpiredError:
                if attempt == REFRESHES:
                    break
                fresh = await refetch(msg.id)
                if fresh is None or isinstance(fresh, types.MessageEmpty):
                    ref.status, ref.note = MediaStatus.UNAVAILABLE, "the message was deleted"
                    return msg
                log.info("file reference of message %s expired: read it again", msg.id)
                msg = fresh
                continue
            except _TooLarge:
                ref.status = MediaStatus.TOO_LARGE
                ref.note = f"larger than live.max_media_mb while downloading ({limit} bytes)"
                return msg
            except (tg.FloodError, ConnectionError, OSError, tg.UnauthorizedError, tg.AuthKeyError):
                path.unlink(missing_ok=True)
                raise  # the target's loop waits or backs off, then reads the page again
            except tg.RPCError as exc:
                ref.status = MediaStatus.UNAVAILABLE
                ref.note = f"Telegram refused the download ({type(exc).__name__})"
                return msg
            size = path.stat().st_size
            ref.status, ref.local_path = MediaStatus.PRESENT, path
            if ref.declared_size is None:
                ref.declared_size = size
            return msg
        ref.status = MediaStatus.UNAVAILABLE
        ref.note = "the file reference kept expiring"
        return msg
