"""Local accounts, roles and permissions, sessions, API tokens and the audit trail.

Services here take an :class:`haechi.app.App` and are shared by the web application, the
REST API and the ``haechi user`` command. Nothing here imports ``web`` or ``cli``.
"""
