"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from haechi.domain import UsageError
from haechi.i18n import t_

MIN_LENGTH = 10
# argon2 hashes whatever it gets; an unbounded password is a cheap denial of service.
MAX_LENGTH = 256

# RFC 9106's second recommended option (64 MiB, 3 passes), with 2 lanes for a 2-core host.
_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=2)
# Verified against when the user does not exist, so the answer takes as long either way
# (no user-name enumeration by timing).
_DUMMY = _HASHER.hash("not a real password, only here to spend the same time")


def check_policy(password: str, username: str, display_name: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise UsageError(
            t_("The password must be at least {min_length} characters long.", min_length=MIN_LENGTH)
        )
    if len(password) > MAX_LENGTH:
        raise UsageError(
            t_("The password must be at most {max_length} characters long.", max_length=MAX_LENGTH)
        )
    if password.strip().lower() == username.strip().lower():
        raise UsageError(t_("The password must not be the user name."))
    if len(set(password)) < 4:
        raise UsageError(
            t_("The password is too repetitive: use at least four different characters.")
        )
    weak = weakness(password, [username, display_name or "", *CONTEXT_WORDS])
    if weak:
        raise UsageError(
            t_("The password is too easy to guess ({weak}): {advice}", weak=weak, advice=ADVICE)
        )


# Words an attacker tries first against this system's accounts.
CONTEXT_WORDS = ("haechi", "해치", "police", "경찰", "telegram", "텔레그램", "admin")
ADVICE = t_("use a longer phrase of several unrelated words.")
# zxcvbn's score 3: "safely unguessable", about 10^8 guesses or more.
MIN_SCORE = 3
# zxcvbn's matching is super-linear in the length; what is beyond this adds only strength.
_ZXCVBN_CHARS = 100


def weakness(password: str, user_inputs: list[str]) -> str | None:
    """Why ``password`` is weak, or None. zxcvbn (an offline estimator shipping its own
    lists: the 30,000 most common leaked passwords, English words, names) finds common
    passwords and their variants ("Password123", "password12", "qwertyuiop12"), keyboard
    patterns, dates, repeats and the user's own name."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) >= MIN_SCORE:
        return None
    patterns = {str(m.get("dictionary_name") or m.get("pattern")) for m in result["sequence"]}
    if "passwords" in patterns:
        return t_("it is, or is built on, one of the most common leaked passwords")
    if "user_inputs" in patterns:
        return t_("it is built on the user name or a word of this system")
    guesses = f"{10 ** float(result['guesses_log10']):.0e}"
    return t_("an estimated {guesses} guesses", guesses=guesses)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
