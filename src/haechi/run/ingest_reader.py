"""Read a collector's captures as prepared batches, in this process or in a second one.

Parsing a large export and writing it to SQLite each take about half of an ingest's CPU
time and cannot share one core: for a large source, the collector runs in a spawned
*reader* process that parses and prepares rows (:func:`haechi.run.ingest_batch.prepare`)
while this process writes the previous batch. Everything crosses the pipe as plain tuples
and records; the reader sends its collector back at the end, so warnings, unknown fields,
sections and the list of referenced files (for ``extra_files``) are as if it had run here.

If this process dies, the reader's next send fails and it exits; if the reader dies, this
process reports it. Parse errors keep their byte offset and every message before them.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

from haechi.collect.base import Collector
from haechi.domain import ChatRecord, ExportParseError, HaechiError, MessageRecord, UsageError
from haechi.domain import errors as domain_errors
from haechi.i18n import t_
from haechi.run.ingest_batch import prepare

Item = tuple[str, Any]  # ("chat", ChatRecord) | ("batch", Prepared)
PROCESS_THRESHOLD = 16 * 1024 * 1024  # bytes of source below which a second process costs more
COLLECT_EVERY = 10  # items sent between the reader's collections of reference cycles


def read_inline(
    collector: Collector, batch_size: int, copy: tuple[int, ...] | None = None
) -> Iterator[Item]:
    """The same items as :class:`ProcessReader`, produced here; ``copy``: the type oids of
    batches encoded for PostgreSQL's COPY (:func:`haechi.run.ingest_batch.prepare`)."""
    batch: list[tuple[ChatRecord, MessageRecord]] = []
    try:
        for cap in collector.captures():
            if cap.message is None:
                if batch:  # keep the order: messages before the next chat announcement
                    yield "batch", prepare(batch, copy)
                    batch = []
                yield "chat", cap.chat
                continue
            batch.append((cap.chat, cap.message))
            if len(batch) >= batch_size:
                yield "batch", prepare(batch, copy)
                batch = []
    except ExportParseError:
        if batch:  # what came before the damage is complete and valid: keep it
            yield "batch", prepare(batch, copy)
        raise
    if batch:
        yield "batch", prepare(batch, copy)


def _reader_main(
    collector: Collector, batch_size: int, pipe: Any, copy: tuple[int, ...] | None = None
) -> None:
    def send(message: tuple[Any, ...]) -> None:
        pipe.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    # The reader makes millions of small objects that die with their batch, by reference
    # count, without cycles; CPython's automatic collector kept scanning the batch being
    # built (a quarter of the reader's CPU at 300k messages, measured with gc.callbacks).
    # Collected by hand every few batches instead, so a cycle, if one is made, still goes.
    gc.disable()
    try:
        for n, (kind, payload) in enumerate(read_inline(collector, batch_size, copy), 1):
            send((kind, payload, getattr(collector, "progress_bytes", 0)))
            if n % COLLECT_EVERY == 0:
                gc.collect()
        send(("end", collector, None))
    except ExportParseError as exc:
        send(("parse_error", (str(exc), exc.path, exc.offset), collector))
    except HaechiError as exc:
        send(("haechi_error", (type(exc).__name__, str(exc)), collector))
    except (BrokenPipeError, EOFError):  # the ingest went away: nothing to tell anyone
        return
    except BaseException:
        send(("crash", traceback.format_exc(limit=20), None))
    finally:
        pipe.close()


class ProcessReader:
    """Iterate items parsed by a reader process; :attr:`collector` is updated at the end."""

    def __init__(
        self, collector: Collector, batch_size: int, copy: tuple[int, ...] | None = None
    ) -> None:
        self.collector = collector
        ctx = mp.get_context("spawn")  # the ingest has threads (vault copies): no fork
        ours, theirs = ctx.Pipe(duplex=False)
        self._pipe = ours
        self._proc = ctx.Process(
            target=_reader_main,
            args=(collector, batch_size, theirs, copy),
            daemon=True,
            name="haechi-reader",
        )
        self._proc.start()
        theirs.close()

    def __iter__(self) -> Iterator[Item]:
        try:
            while True:
                try:
                    kind, payload, extra = pickle.loads(self._pipe.recv_bytes())  # noqa: S301
                except EOFError:
                    self._proc.join(5)
                    raise RuntimeError(
                        f"the export reader process died (exit code {self._proc.exitcode})"
                    ) from None
                if kind in ("chat", "batch"):
                    if extra:
                        self.collector.progress_bytes = extra  # type: ignore[attr-defined]
                    yield kind, payload
                    continue
                if kind == "end":
                    self.collector = payload
                    return
                if extra is not None:
                    self.collector = extra
                if kind == "parse_error":
                    message, path, offset = payload
                    raise ExportParseError(message, path=path, offset=offset)
                if kind == "haechi_error":
                    name, message = payload
                    cls = getattr(domain_errors, name, HaechiError)
                    raise cls(message)
                raise RuntimeError(f"the export reader process failed:\n{payload}")
        finally:
            self._pipe.close()
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()


def use_process(collector: Collector, workers: int) -> bool:
    """``HAECHI_INGEST_READER`` = ``process`` / ``inline`` overrides the size rule (tests,
    tuning); the default ``auto`` uses a reader process for large sources on 2+ cores."""
    choice = os.environ.get("HAECHI_INGEST_READER", "auto")
    if choice not in ("auto", "process", "inline"):
        raise UsageError(
            t_(
                "HAECHI_INGEST_READER must be auto, process or inline, not {choice!r}.",
                choice=choice,
            )
        )
    if choice != "auto":
        return choice == "process"
    total = getattr(collector, "total_bytes", 0) or 0
    return workers >= 2 and total >= PROCESS_THRESHOLD
