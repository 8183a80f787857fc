"""Authentication and authorisation errors: one sentence each, safe to show a user."""

from __future__ import annotations

from haechi.domain import HaechiError


class AuthError(HaechiError):
    """Base class of the errors below."""


class LoginRefused(AuthError):
    """Wrong user name or password, a disabled or a locked account (deliberately vague)."""


class RateLimited(AuthError):
    """Too many failed logins from one address; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(AuthError):
    """The role lacks the permission."""


class NotFound(HaechiError):
    """The thing asked for does not exist (or is not visible to this user)."""


class SecondAdminNeeded(AuthError):
    """The change needs a second administrator's approval (a grant request), or the
    command line with a recorded reason."""
