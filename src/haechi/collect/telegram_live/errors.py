"""What a Telegram error means for a watched target, in one sentence for people.

Every error ends in one of these outcomes, never in a crash, and never removes anything
already stored:

- ``wait``: flood control; wait the time Telegram names (plus a little jitter), then resume;
- ``retry``: the network dropped; back off (bounded, jittered) and resume;
- ``gone``: the room vanished for this account (deleted, made private, banned us, name
  released): a signed "gone at T" record, the evidence stays, the target rests;
- ``needs_person``: something only an investigator can fix (an expired invite, a join the
  target was not allowed to make); the target rests until its row changes;
- ``account``: the session itself is unusable (logged out, banned); the service stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from telethon import errors as tg

WAIT, RETRY, GONE, NEEDS_PERSON, ACCOUNT = "wait", "retry", "gone", "needs_person", "account"


class TargetProblem(Exception):
    """A problem of one target that haechi itself diagnosed (not a Telegram error)."""

    def __init__(self, outcome: str, reason: str, sentence: str) -> None:
        super().__init__(sentence)
        self.outcome, self.reason, self.sentence = outcome, reason, sentence


@dataclass(frozen=True)
class Diagnosis:
    outcome: str
    reason: str  # short machine word, stored with a gone record
    sentence: str
    seconds: int = 0  # for ``wait``


_GONE = {
    tg.ChannelPrivateError: (
        "channel_private",
        "The channel is private now, or this account was removed or banned from it",
    ),
    tg.ChannelInvalidError: ("channel_invalid", "The channel no longer exists (deleted)"),
    tg.ChannelPublicGroupNaError: ("channel_unavailable", "The channel is not available"),
    tg.ChatForbiddenError: ("chat_forbidden", "This account may no longer read the group"),
    tg.ChannelBannedError: ("channel_banned", "Telegram banned the channel"),
    tg.PeerIdInvalidError: ("peer_invalid", "The room no longer answers to its id"),
}
_PERSON = {
    tg.InviteHashExpiredError: (
        "invite_expired",
        "The invite link has expired or was revoked: ask for a new one",
    ),
    tg.InviteHashInvalidError: ("invite_invalid", "The invite link is not valid"),
    tg.InviteRequestSentError: (
        "join_requested",
        "Joining needs an administrator's approval; the request was sent, and capture starts "
        "once it is approved",
    ),
    tg.UsernameNotOccupiedError: (
        "username_free",
        "No Telegram account or channel has this name (renamed, deleted, or never existed)",
    ),
    tg.UsernameInvalidError: ("username_invalid", "The name is not a valid Telegram username"),
    tg.ChannelsTooMuchError: (
        "too_many_channels",
        "This account is in too many channels to join another one",
    ),
    tg.UserBannedInChannelError: ("banned_in_channel", "This account is banned in the channel"),
}
_ACCOUNT = {
    tg.AuthKeyUnregisteredError: "The Telegram session was logged out: run `haechi watch login`",
    tg.SessionRevokedError: (
        "The Telegram session was ended from another device: run `haechi watch login`"
    ),
    tg.UserDeactivatedBanError: "Telegram banned the watching account; no target can be read",
    tg.UserDeactivatedError: "The watching account was deleted; no target can be read",
}


def diagnose(exc: BaseException) -> Diagnosis:
    """The outcome and sentence for an exception raised while working on a target."""
    if isinstance(exc, TargetProblem):
        return Diagnosis(exc.outcome, exc.reason, exc.sentence)
    if isinstance(exc, tg.FloodError) and hasattr(exc, "seconds"):
        seconds = max(int(getattr(exc, "seconds", 0) or 0), 1)
        return Diagnosis(
            WAIT,
            "flood_wait",
            f"Telegram asks to wait {seconds} s before the next request (flood control); "
            "capture resumes by itself",
            seconds,
        )
    if isinstance(exc, tg.PeerFloodError):
        return Diagnosis(
            WAIT,
            "peer_flood",
            "Telegram limits this account for now (too many requests); resuming after a long pause",
            3600,
        )
    for cls, sentence in _ACCOUNT.items():
        if isinstance(exc, cls):
            return Diagnosis(ACCOUNT, "account", sentence + ".")
    for gone_cls, (reason, sentence) in _GONE.items():
        if isinstance(exc, gone_cls):
            return Diagnosis(GONE, reason, sentence + "; everything already stored is kept.")
    for person_cls, (reason, sentence) in _PERSON.items():
        if isinstance(exc, person_cls):
            return Diagnosis(NEEDS_PERSON, reason, sentence + ".")
    if isinstance(exc, ConnectionError | OSError | TimeoutError):
        return Diagnosis(
            RETRY,
            "network",
            f"The connection to Telegram dropped ({type(exc).__name__}); retrying with back-off",
        )
    if isinstance(exc, tg.RPCError):
        return Diagnosis(
            RETRY,
            "rpc_error",
            f"Telegram refused a request ({exc.__class__.__name__}: "
            f"{getattr(exc, 'message', '')}); retrying with back-off",
        )
    return Diagnosis(
        RETRY,
        "unexpected",
        f"An unexpected error ({type(exc).__name__}: {str(exc)[:200]}) interrupted this target; "
        "retrying with back-off",
    )
