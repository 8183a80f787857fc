"""Live capture from Telegram with a user account (Telethon): ``haechi watch``.

Modules, in the order data flows:

- ``account``: login (phone, code, two-step password), the session sealed at rest
  (``sessionbox``), the Telethon client built from it;
- ``targets``: what may be watched (``@name``, ``t.me`` links, invites) and the service
  that adds, pauses and resumes targets; ``settings``: ``[live]`` limits;
- ``watcher``: the long-running service; ``target_task``: one target's life (``resolve``,
  history, following, re-reads); ``media``: downloads within limits, file-reference
  refresh; ``pacing``: request pace, back-off, the bounded name cache; ``errors``: every
  Telegram error as an outcome and a sentence;
- ``convert`` + ``tl``: TL objects as records and evidence JSON; ``segment``, ``flush``,
  ``sink``: captures written as segments and stored through the ingest service;
- ``records``: state, "gone at T", names, the service's pulse; ``status``: what the CLI and
  the web page show; ``bots``: bot conversations as evidence.

Nothing here writes the database, the vault or the custody log for messages and files
itself: the ingest service (``haechi.run.ingest``) does, as for every collector.
"""
