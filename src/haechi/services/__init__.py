"""Read-side services the web pages and the REST API share: chats and timelines, full-text
search, message detail with its custody trail, the media grid, exposure, the dashboard.

Every function takes an :class:`haechi.app.App` (and, where it is audited, an
:class:`haechi.auth.types.Actor`) and returns plain dataclasses; ``web`` renders them and
never talks SQL itself.
"""
